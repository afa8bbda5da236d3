import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, EXCHANGE_AUDIENCE, ROLE_IDS, type RunningSimulator } from '../../simulator/index.js';
import { exo, start } from './helpers.js';

describe('Exchange admin API simulator', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await start({ scenario: 'drifted', generate: { mailboxes: 30, mailboxForwardingShare: 0.2 } });
  });
  afterAll(() => sim.stop());

  it('runs a cmdlet and returns {value:[...]}', async () => {
    const r = await exo(sim, 'Get-AcceptedDomain');
    expect(r.status).toBe(200);
    expect(r.body['@odata.context']).toContain(`/adminapi/beta/${sim.tenantId}/$metadata#Collection(Exchange.GenericHashTable)`);
    expect(r.body.value.map((d: { DomainName: string }) => d.DomainName).sort()).toEqual(['news.tailspintoys.example', 'tailspin-toys.example', 'tailspintoys.example', 'tailspintoys.mail.onmicrosoft.example', 'tailspintoys.onmicrosoft.example']);
    expect(r.body.value[0]).not.toHaveProperty('id');
  });

  it('refuses unknown cmdlets and parameters in Exchange error shape', async () => {
    const unknown = await exo(sim, 'Get-Nothing');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toMatch(/^\|System\.Management\.Automation\.CommandNotFoundException\|The term 'Get-Nothing' is not recognized/);
    expect(unknown.body.error.innererror.type).toBe('System.Management.Automation.CommandNotFoundException');
    const badParam = await exo(sim, 'Get-RemoteDomain', { Colour: 'blue' });
    expect(badParam.body.error.message).toMatch(/A parameter cannot be found that matches parameter name 'Colour'/);
    const badEnum = await exo(sim, 'Set-HostedOutboundSpamFilterPolicy', { Identity: 'Default', AutoForwardingMode: 'Sometimes' });
    expect(badEnum.body.error.message).toMatch(/enumeration values are "Automatic, Off, On"/);
    const badType = await exo(sim, 'Set-RemoteDomain', { Identity: 'Default', AutoForwardEnabled: 'yes' });
    expect(badType.body.error.message).toMatch(/System\.Boolean/);
    const missing = await exo(sim, 'Get-InboxRule');
    expect(missing.body.error.message).toMatch(/missing mandatory parameters: Mailbox/);
    const notFound = await exo(sim, 'Get-RemoteDomain', { Identity: 'Nope' });
    expect(notFound.status).toBe(404);
    expect(notFound.body.error.message).toMatch(/couldn't be found/);
  });

  it('authenticates with Exchange.ManageAsApp and authorises by directory role', async () => {
    expect((await exo(sim, 'Get-AcceptedDomain', {}, { token: null })).status).toBe(401);
    expect((await exo(sim, 'Get-AcceptedDomain', {}, { token: sim.token('graph') })).status).toBe(401);
    const noRole = mintToken({ audience: EXCHANGE_AUDIENCE, tenantId: sim.tenantId, roles: [] });
    expect((await exo(sim, 'Get-AcceptedDomain', {}, { token: noRole })).status).toBe(403);
    const reader = sim.token('exchange', { wids: [ROLE_IDS.globalReader] });
    expect((await exo(sim, 'Get-RemoteDomain', {}, { token: reader })).status).toBe(200);
    const denied = await exo(sim, 'Set-RemoteDomain', { Identity: 'Default', AutoForwardEnabled: false }, { token: reader });
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toMatch(/CmdletAccessDeniedException/);
  });

  it('sets and reads forwarding controls', async () => {
    expect((await exo(sim, 'Get-HostedOutboundSpamFilterPolicy')).body.value[0].AutoForwardingMode).toBe('On');
    expect((await exo(sim, 'Set-HostedOutboundSpamFilterPolicy', { Identity: 'Default', AutoForwardingMode: 'Off' })).status).toBe(200);
    expect((await exo(sim, 'Get-HostedOutboundSpamFilterPolicy', { Identity: 'Default' })).body.value[0].AutoForwardingMode).toBe('Off');
    await exo(sim, 'Set-RemoteDomain', { Identity: 'Payroll partner', AutoForwardEnabled: false });
    expect((await exo(sim, 'Get-RemoteDomain', { Identity: 'payroll-partner.example' })).body.value[0].AutoForwardEnabled).toBe(false);
  });

  it('finds forwarding mailboxes with -Filter and clears them with Set-Mailbox', async () => {
    const filter = '(ForwardingSmtpAddress -ne $null) -or (ForwardingAddress -ne $null)';
    const found = await exo(sim, 'Get-Mailbox', { Filter: filter, ResultSize: 'Unlimited' });
    expect(found.body.value.length).toBeGreaterThan(0);
    for (const m of found.body.value) expect(m.ForwardingSmtpAddress).toMatch(/^smtp:/);
    const first = found.body.value[0];
    await exo(sim, 'Set-Mailbox', { Identity: first.UserPrincipalName, ForwardingSmtpAddress: null, DeliverToMailboxAndForward: false });
    const after = await exo(sim, 'Get-Mailbox', { Filter: filter, ResultSize: 'Unlimited' });
    expect(after.body.value).toHaveLength(found.body.value.length - 1);
    expect((await exo(sim, 'Get-Mailbox', { Filter: 'ForwardingSmtpAddress -gt 3' })).body.error.message).toMatch(/Invalid filter syntax/);
  });

  it('pages with Prefer: odata.maxpagesize and a nextLink POSTed with the same body', async () => {
    const first = await exo(sim, 'Get-Mailbox', { ResultSize: 'Unlimited' }, { pageSize: 16 });
    expect(first.body.value).toHaveLength(16);
    expect(first.headers.get('preference-applied')).toBe('odata.maxpagesize=16');
    const names = first.body.value.map((m: { Name: string }) => m.Name);
    let next = first.body['@odata.nextLink'];
    while (next) {
      const page = await exo(sim, 'Get-Mailbox', { ResultSize: 'Unlimited' }, { pageSize: 16, url: next });
      names.push(...page.body.value.map((m: { Name: string }) => m.Name));
      next = page.body['@odata.nextLink'];
    }
    expect(names).toHaveLength(41);
    expect(new Set(names).size).toBe(41);
  });

  it('shows inbox rules in Exchange form, the same rules Graph shows', async () => {
    const r = await exo(sim, 'Get-InboxRule', { Mailbox: 'morgan.reed@tailspintoys.example' });
    const forward = r.body.value.find((x: { ForwardTo: string[] | null }) => x.ForwardTo);
    expect(forward.ForwardTo).toEqual(['"Morgan" [SMTP:m.reed.archive@exfil-mail.test]']);
    expect(forward.Identity).toBe('Morgan Reed\\AQAAAJ5dZsE=');
  });

  it('disables transport rules, updates anti-phishing and creates DKIM signing configs', async () => {
    const rules = (await exo(sim, 'Get-TransportRule')).body.value;
    expect(rules.find((x: { Name: string }) => x.Name === 'Partner mail bypass')).toMatchObject({ SetSCL: -1, State: 'Enabled' });
    await exo(sim, 'Disable-TransportRule', { Identity: 'Partner mail bypass', Confirm: false });
    expect((await exo(sim, 'Get-TransportRule', { Identity: 'Partner mail bypass' })).body.value[0].State).toBe('Disabled');
    await exo(sim, 'Enable-TransportRule', { Identity: 'Partner mail bypass', Confirm: false });
    expect((await exo(sim, 'Get-TransportRule', { Identity: 'Partner mail bypass' })).body.value[0].State).toBe('Enabled');
    await exo(sim, 'Disable-TransportRule', { Identity: 'Partner mail bypass', Confirm: false });

    await exo(sim, 'Set-AntiPhishPolicy', { Identity: 'Office365 AntiPhish Default', DmarcRejectAction: 'Quarantine' });
    expect((await exo(sim, 'Get-AntiPhishPolicy')).body.value[0].DmarcRejectAction).toBe('Quarantine');

    expect((await exo(sim, 'New-DkimSigningConfig', { DomainName: 'tailspintoys.example', Enabled: true })).body.error.message).toMatch(/already exists/);
    expect((await exo(sim, 'New-DkimSigningConfig', { DomainName: 'unknown.example', Enabled: true })).status).toBe(404);
    await exo(sim, 'Set-DkimSigningConfig', { Identity: 'tailspin-toys.example', Enabled: true });
    expect((await exo(sim, 'Get-DkimSigningConfig', { Identity: 'tailspin-toys.example' })).body.value[0]).toMatchObject({ Enabled: true, Status: 'Valid' });
  });

  it('refuses another tenant, other paths and other methods', async () => {
    expect((await exo(sim, 'Get-AcceptedDomain', {}, { url: `${sim.exoUrl}/adminapi/beta/00000000-0000-0000-0000-000000000009/InvokeCommand` })).status).toBe(404);
    expect((await exo(sim, 'Get-AcceptedDomain', {}, { url: `${sim.exoUrl}/adminapi/beta/${sim.tenantId}/Other` })).status).toBe(404);
    const get = await fetch(`${sim.exoUrl}/adminapi/beta/${sim.tenantId}/InvokeCommand`, { headers: { Authorization: `Bearer ${sim.token('exchange')}` } });
    expect(get.status).toBe(405);
  });
});
