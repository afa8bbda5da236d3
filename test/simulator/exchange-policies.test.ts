import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScenario, ROLE_IDS, type RunningSimulator } from '../../simulator/index.js';
import { exo, start } from './helpers.js';

/** A scenario file that is `compliant` without the given Exchange keys, loaded from disk as a user's file would be. */
function compliantWithout(...keys: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'scenario-'));
  const path = join(dir, 'without.json');
  const s = loadScenario('compliant') as unknown as { exchange: Record<string, unknown> };
  for (const k of keys) delete s.exchange[k];
  writeFileSync(path, JSON.stringify(s));
  return path;
}

const accessDenied = /CmdletAccessDeniedException/;

describe('Get-/Set-HostedConnectionFilterPolicy', () => {
  let compliant: RunningSimulator;
  let drifted: RunningSimulator;
  beforeAll(async () => {
    [compliant, drifted] = await Promise.all([start(), start({ scenario: 'drifted' })]);
  });
  afterAll(() => Promise.all([compliant.stop(), drifted.stop()]));

  it('lists the one Default policy in its Exchange Online shape; -Identity finds it by name, case-insensitively', async () => {
    const all = await exo(compliant, 'Get-HostedConnectionFilterPolicy');
    expect(all.status).toBe(200);
    expect(all.body.value).toHaveLength(1);
    const p = all.body.value[0];
    expect(p).toMatchObject({ Identity: 'Default', Name: 'Default', IsDefault: true, IPAllowList: [], IPBlockList: [], EnableSafeList: false, DirectoryBasedEdgeBlockMode: 'Default' });
    expect(p.Guid).toMatch(/^[0-9a-f-]{36}$/);
    expect(p.WhenChanged).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(p).not.toHaveProperty('id');
    expect((await exo(compliant, 'Get-HostedConnectionFilterPolicy', { Identity: 'default' })).body.value).toEqual([p]);
  });

  it('shows the drifted allow list and safe list', async () => {
    const p = (await exo(drifted, 'Get-HostedConnectionFilterPolicy', { Identity: 'Default' })).body.value[0];
    expect(p).toMatchObject({ IPAllowList: ['203.0.113.0/24'], EnableSafeList: true, IPBlockList: [] });
  });

  it('empties the allow list and turns the safe list off, stamping WhenChanged', async () => {
    const before = (await exo(drifted, 'Get-HostedConnectionFilterPolicy')).body.value[0];
    const set = await exo(drifted, 'Set-HostedConnectionFilterPolicy', { Identity: 'Default', IPAllowList: null, EnableSafeList: false });
    expect(set.status).toBe(200);
    expect(set.body.value).toEqual([]);
    const after = (await exo(drifted, 'Get-HostedConnectionFilterPolicy', { Identity: 'Default' })).body.value[0];
    expect(after).toMatchObject({ IPAllowList: [], EnableSafeList: false, IPBlockList: [], Guid: before.Guid });
    expect(after.WhenChanged).not.toBe(before.WhenChanged);
    // Restoring the list (what a rollback sends) gives it back as it was.
    await exo(drifted, 'Set-HostedConnectionFilterPolicy', { Identity: 'Default', IPAllowList: before.IPAllowList, EnableSafeList: true });
    expect((await exo(drifted, 'Get-HostedConnectionFilterPolicy')).body.value[0]).toMatchObject({ IPAllowList: ['203.0.113.0/24'], EnableSafeList: true });
  });

  it('takes single addresses, ranges and /24 to /32 blocks, once each; refuses anything else as parameter binding does', async () => {
    const ok = await exo(compliant, 'Set-HostedConnectionFilterPolicy', { Identity: 'Default', IPBlockList: ['192.0.2.7', '198.51.100.1-198.51.100.20', '203.0.113.0/24', '192.0.2.7'] });
    expect(ok.status).toBe(200);
    expect((await exo(compliant, 'Get-HostedConnectionFilterPolicy')).body.value[0].IPBlockList).toEqual(['192.0.2.7', '198.51.100.1-198.51.100.20', '203.0.113.0/24']);
    for (const bad of ['not-an-ip', '2001:db8::1', '198.51.100.20-198.51.100.1', '10.0.0.0/33']) {
      const r = await exo(compliant, 'Set-HostedConnectionFilterPolicy', { Identity: 'Default', IPAllowList: [bad] });
      expect(r.status, bad).toBe(400);
      expect(r.body.error.innererror.type).toBe('System.Management.Automation.ParameterBindingException');
      expect(r.body.error.message).toContain(`"${bad}"`);
    }
    const wide = await exo(compliant, 'Set-HostedConnectionFilterPolicy', { Identity: 'Default', IPAllowList: ['10.0.0.0/16'] });
    expect(wide.status).toBe(400);
    expect(wide.body.error.message).toMatch(/^\|System\.Management\.Automation\.ParameterBindingException\|Cannot validate argument on parameter 'IPAllowList'\. The IP range 10\.0\.0\.0\/16 is too large/);
    const safe = await exo(compliant, 'Set-HostedConnectionFilterPolicy', { Identity: 'Default', EnableSafeList: 'no' });
    expect(safe.status).toBe(400);
    expect(safe.body.error.message).toMatch(/System\.Boolean/);
    // Nothing of the refused calls was written.
    expect((await exo(compliant, 'Get-HostedConnectionFilterPolicy')).body.value[0]).toMatchObject({ IPAllowList: [], EnableSafeList: false });
    await exo(compliant, 'Set-HostedConnectionFilterPolicy', { Identity: 'Default', IPBlockList: [] });
  });

  it('refuses an unknown parameter and an unknown policy in Exchange error shape', async () => {
    const unknown = await exo(compliant, 'Set-HostedConnectionFilterPolicy', { Identity: 'Default', IPAllowLists: [] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toBe("|System.Management.Automation.ParameterBindingException|A parameter cannot be found that matches parameter name 'IPAllowLists'.");
    const missing = await exo(compliant, 'Set-HostedConnectionFilterPolicy', { EnableSafeList: false });
    expect(missing.body.error.message).toMatch(/missing mandatory parameters: Identity/);
    for (const [cmdlet, params] of [['Set-HostedConnectionFilterPolicy', { Identity: 'Strict', EnableSafeList: false }], ['Get-HostedConnectionFilterPolicy', { Identity: 'Strict' }]] as const) {
      const r = await exo(compliant, cmdlet, params);
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('NotFound');
      expect(r.body.error.innererror.type).toBe('Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException');
      expect(r.body.error.message).toMatch(/object 'Strict' couldn't be found/);
    }
  });

  it('lets a Global Reader read and only an Exchange Administrator change it', async () => {
    const reader = compliant.token('exchange', { wids: [ROLE_IDS.globalReader] });
    expect((await exo(compliant, 'Get-HostedConnectionFilterPolicy', {}, { token: reader })).status).toBe(200);
    const denied = await exo(compliant, 'Set-HostedConnectionFilterPolicy', { Identity: 'Default', EnableSafeList: true }, { token: reader });
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toMatch(accessDenied);
    expect((await exo(compliant, 'Get-HostedConnectionFilterPolicy')).body.value[0].EnableSafeList).toBe(false);
  });
});

describe('Get-/Set-TransportConfig', () => {
  let compliant: RunningSimulator;
  let drifted: RunningSimulator;
  beforeAll(async () => {
    [compliant, drifted] = await Promise.all([start(), start({ scenario: 'drifted' })]);
  });
  afterAll(() => Promise.all([compliant.stop(), drifted.stop()]));

  it('returns the organisation\'s one configuration object; -Identity names the organisation', async () => {
    const r = await exo(compliant, 'Get-TransportConfig');
    expect(r.status).toBe(200);
    expect(r.body.value).toHaveLength(1);
    const c = r.body.value[0];
    expect(c).toMatchObject({ Identity: 'Transport Settings', SmtpClientAuthenticationDisabled: true, AllowLegacyTLSClients: false, ReplyAllStormProtectionEnabled: true, MaxRecipientEnvelopeLimit: 'Unlimited' });
    expect(c).not.toHaveProperty('id');
    expect((await exo(compliant, 'Get-TransportConfig', { Identity: 'tailspintoys.onmicrosoft.example' })).body.value).toEqual([c]);
    expect((await exo(compliant, 'Get-TransportConfig', { Identity: compliant.tenantId })).body.value).toEqual([c]);
    const other = await exo(compliant, 'Get-TransportConfig', { Identity: 'contoso.onmicrosoft.example' });
    expect(other.status).toBe(404);
    expect(other.body.error.innererror.type).toBe('Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException');
    expect((await exo(drifted, 'Get-TransportConfig')).body.value[0].SmtpClientAuthenticationDisabled).toBe(false);
  });

  it('turns SMTP AUTH off for the organisation and changes the other settings it takes, stamping WhenChanged', async () => {
    const before = (await exo(drifted, 'Get-TransportConfig')).body.value[0];
    const set = await exo(drifted, 'Set-TransportConfig', { SmtpClientAuthenticationDisabled: true, MaxRecipientEnvelopeLimit: 500, ExternalPostmasterAddress: 'postmaster@tailspintoys.example' });
    expect(set.status).toBe(200);
    expect(set.body.value).toEqual([]);
    const after = (await exo(drifted, 'Get-TransportConfig')).body.value[0];
    expect(after).toMatchObject({ SmtpClientAuthenticationDisabled: true, MaxRecipientEnvelopeLimit: 500, ExternalPostmasterAddress: 'postmaster@tailspintoys.example', Guid: before.Guid });
    expect(after.WhenChanged).not.toBe(before.WhenChanged);
    await exo(drifted, 'Set-TransportConfig', { Identity: 'tailspintoys.onmicrosoft.example', SmtpClientAuthenticationDisabled: false, MaxRecipientEnvelopeLimit: 'unlimited', ExternalPostmasterAddress: null });
    expect((await exo(drifted, 'Get-TransportConfig')).body.value[0]).toMatchObject({ SmtpClientAuthenticationDisabled: false, MaxRecipientEnvelopeLimit: 'Unlimited', ExternalPostmasterAddress: null });
  });

  it('refuses unknown parameters, wrong types and out-of-range values in Exchange error shape, writing nothing', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ SmtpAuthDisabled: true }, /A parameter cannot be found that matches parameter name 'SmtpAuthDisabled'/],
      [{ SmtpClientAuthenticationDisabled: 'yes' }, /Cannot convert value "yes" to type "System\.Boolean"/],
      [{ MaxRecipientEnvelopeLimit: 5000 }, /MaxRecipientEnvelopeLimit/],
      [{ ExternalPostmasterAddress: 'not an address' }, /SmtpAddress/],
    ];
    for (const [params, message] of cases) {
      const r = await exo(compliant, 'Set-TransportConfig', { ...params, SmtpClientAuthenticationDisabled: params['SmtpClientAuthenticationDisabled'] ?? false });
      expect(r.status).toBe(400);
      expect(r.body.error.innererror.type).toBe('System.Management.Automation.ParameterBindingException');
      expect(r.body.error.message).toMatch(message);
    }
    const other = await exo(compliant, 'Set-TransportConfig', { Identity: 'contoso.onmicrosoft.example', SmtpClientAuthenticationDisabled: false });
    expect(other.status).toBe(404);
    expect((await exo(compliant, 'Get-TransportConfig')).body.value[0].SmtpClientAuthenticationDisabled).toBe(true);
  });

  it('lets a Global Reader read and only an Exchange Administrator change it', async () => {
    const reader = compliant.token('exchange', { wids: [ROLE_IDS.globalReader] });
    expect((await exo(compliant, 'Get-TransportConfig', {}, { token: reader })).status).toBe(200);
    const denied = await exo(compliant, 'Set-TransportConfig', { SmtpClientAuthenticationDisabled: false }, { token: reader });
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toMatch(accessDenied);
  });
});

describe('a scenario that leaves the new objects out', () => {
  it('holds what a new Exchange Online organisation holds: a Default connection filter policy with empty lists, SMTP AUTH not disabled', async () => {
    const path = compliantWithout('HostedConnectionFilterPolicy', 'TransportConfig');
    expect(loadScenario(path).exchange.HostedConnectionFilterPolicy).toHaveLength(1);
    const sim = await start({ scenario: path });
    try {
      const policies = (await exo(sim, 'Get-HostedConnectionFilterPolicy')).body.value;
      expect(policies).toHaveLength(1);
      expect(policies[0]).toMatchObject({ Identity: 'Default', IsDefault: true, IPAllowList: [], IPBlockList: [], EnableSafeList: false });
      const config = (await exo(sim, 'Get-TransportConfig')).body.value[0];
      expect(config).toMatchObject({ Identity: 'Transport Settings', SmtpClientAuthenticationDisabled: false });
      expect((await exo(sim, 'Set-TransportConfig', { SmtpClientAuthenticationDisabled: true })).status).toBe(200);
      expect((await exo(sim, 'Get-TransportConfig')).body.value[0].SmtpClientAuthenticationDisabled).toBe(true);
    } finally {
      await sim.stop();
    }
  });

  it('gets the defaults too when a scenario object is passed in without them', async () => {
    const s = loadScenario('compliant') as unknown as { exchange: Record<string, unknown> };
    delete s.exchange['HostedConnectionFilterPolicy'];
    delete s.exchange['TransportConfig'];
    const sim = await start({ scenario: s as never });
    try {
      expect((await exo(sim, 'Get-HostedConnectionFilterPolicy')).body.value[0]).toMatchObject({ Identity: 'Default', EnableSafeList: false });
      expect((await exo(sim, 'Get-TransportConfig')).body.value[0].SmtpClientAuthenticationDisabled).toBe(false);
    } finally {
      await sim.stop();
    }
  });
});

describe('policies Microsoft manages cannot be set', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await start();
  });
  afterAll(() => sim.stop());

  it.each([
    ['Set-AntiPhishPolicy', 'Strict Preset Security Policy1717000000001', { EnableSpoofIntelligence: false }, 'is part of a preset security policy'],
    ['Set-HostedContentFilterPolicy', 'Strict Preset Security Policy1717000000002', { PhishZapEnabled: false }, 'is part of a preset security policy'],
    ['Set-MalwareFilterPolicy', 'Strict Preset Security Policy1717000000003', { ZapEnabled: false }, 'is part of a preset security policy'],
    ['Set-SafeLinksPolicy', 'Strict Preset Security Policy1717000000004', { AllowClickThrough: true }, 'is part of a preset security policy'],
    ['Set-SafeAttachmentPolicy', 'Built-In Protection Policy', { Action: 'Allow' }, 'is managed by Microsoft'],
    ['Set-SafeLinksPolicy', 'Built-In Protection Policy', { AllowClickThrough: true }, 'is managed by Microsoft'],
  ])('%s -Identity "%s" is refused and changes nothing', async (cmdlet, identity, params, message) => {
    const get = cmdlet.replace(/^Set-/, 'Get-');
    const before = (await exo(sim, get, { Identity: identity })).body.value;
    const r = await exo(sim, cmdlet, { Identity: identity, ...params });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toContain('ValidationException');
    expect(JSON.stringify(r.body)).toContain(`The policy '${identity}' ${message} and can't be modified.`);
    expect((await exo(sim, get, { Identity: identity })).body.value).toEqual(before);
  });
});
