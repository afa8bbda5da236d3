import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScenario, ROLE_IDS, type RunningSimulator } from '../../simulator/index.js';
import { exo, start } from './helpers.js';

/** The compliant scenario without the exposure objects, as a user's file would leave them out. */
function withoutExposure(): string {
  const dir = mkdtempSync(join(tmpdir(), 'scenario-'));
  const path = join(dir, 'without.json');
  const s = loadScenario('compliant') as unknown as { exchange: Record<string, unknown> };
  for (const k of ['ExternalInOutlook', 'SharingPolicy', 'OrganizationConfig']) delete s.exchange[k];
  writeFileSync(path, JSON.stringify(s));
  return path;
}

let defaults: RunningSimulator;
let sim: RunningSimulator;
beforeAll(async () => {
  defaults = await start({ scenario: withoutExposure() });
  sim = await start({ scenario: 'compliant' });
});
afterAll(async () => {
  await defaults.stop();
  await sim.stop();
});

const one = async (s: RunningSimulator, cmdlet: string, parameters: Record<string, unknown> = {}) => (await exo(s, cmdlet, parameters)).body.value[0];

describe('the exposure objects of a new organisation', () => {
  it('the External tag is off, the Default Sharing Policy publishes anonymously, auditing is on', async () => {
    expect(await one(defaults, 'Get-ExternalInOutlook')).toMatchObject({ Enabled: false, AllowList: [] });
    expect((await exo(defaults, 'Get-SharingPolicy')).body.value.map((p: Record<string, unknown>) => [p['Name'], p['Domains'], p['Enabled'], p['Default']])).toEqual([
      ['Default Sharing Policy', ['Anonymous:CalendarSharingFreeBusyReviewer', '*:CalendarSharingFreeBusySimple'], true, true],
    ]);
    expect(await one(defaults, 'Get-OrganizationConfig')).toMatchObject({ Identity: 'tailspintoys.onmicrosoft.example', AuditDisabled: false });
  });

  it('a mailbox silent about auditing shows the Microsoft-managed sets, MailItemsAccessed and Send included', async () => {
    const m = await one(defaults, 'Get-Mailbox', { Identity: 'alex.kim@tailspintoys.example' });
    expect(m).toMatchObject({ AuditEnabled: true, DefaultAuditSet: ['Admin', 'Delegate', 'Owner'] });
    expect(m.AuditOwner).toEqual(expect.arrayContaining(['MailItemsAccessed', 'Send', 'UpdateInboxRules', 'HardDelete']));
    expect(m.AuditDelegate).toEqual(expect.arrayContaining(['MailItemsAccessed', 'SendAs', 'SendOnBehalf']));
    expect(m.AuditDelegate).not.toContain('Send');
  });
});

describe('their cmdlets', () => {
  it('Set-Mailbox -AuditOwner @{Remove=…} customises the owner set; -DefaultAuditSet Owner restores it', async () => {
    const id = 'jordan.patel@tailspintoys.example';
    expect((await exo(sim, 'Set-Mailbox', { Identity: id, AuditOwner: { Remove: ['MailItemsAccessed'] } })).status).toBe(200);
    let m = await one(sim, 'Get-Mailbox', { Identity: id });
    expect(m.AuditOwner).not.toContain('MailItemsAccessed');
    expect(m.DefaultAuditSet).toEqual(['Admin', 'Delegate']);
    expect((await exo(sim, 'Set-Mailbox', { Identity: id, DefaultAuditSet: ['Owner'] })).status).toBe(200);
    m = await one(sim, 'Get-Mailbox', { Identity: id });
    expect(m.AuditOwner).toContain('MailItemsAccessed');
    expect(m.DefaultAuditSet).toEqual(['Admin', 'Delegate', 'Owner']);
    const bad = await exo(sim, 'Set-Mailbox', { Identity: id, AuditOwner: { Add: ['Teleport'] } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('MailboxAuditOperations');
  });

  it('Set-SharingPolicy refuses an entry Exchange cannot parse, and a reader cannot write', async () => {
    const bad = await exo(sim, 'Set-SharingPolicy', { Identity: 'Default Sharing Policy', Domains: ['*:CalendarSharingEverything'] });
    expect(bad.status).toBe(400);
    const reader = sim.token('exchange', { wids: [ROLE_IDS.globalReader] });
    expect((await exo(sim, 'Set-SharingPolicy', { Identity: 'Default Sharing Policy', Enabled: false }, { token: reader })).status).toBe(403);
    expect((await exo(sim, 'Set-OrganizationConfig', { AuditDisabled: true }, { token: reader })).status).toBe(403);
    expect((await exo(sim, 'Set-ExternalInOutlook', { Enabled: false }, { token: reader })).status).toBe(403);
  });

  it('Set-ExternalInOutlook changes the allow list by @{Add=…; Remove=…} and refuses what is no domain or address', async () => {
    expect((await exo(sim, 'Set-ExternalInOutlook', { AllowList: { Add: ['fabrikam.example', 'ceo@northwind.example'] } })).status).toBe(200);
    expect((await exo(sim, 'Set-ExternalInOutlook', { AllowList: { Remove: ['fabrikam.example'] } })).status).toBe(200);
    expect((await one(sim, 'Get-ExternalInOutlook')).AllowList).toEqual(['ceo@northwind.example']);
    expect((await exo(sim, 'Set-ExternalInOutlook', { AllowList: ['not a domain'] })).status).toBe(400);
    expect((await exo(sim, 'Get-ExternalInOutlook', { Identity: 'contoso.onmicrosoft.example' })).status).toBe(404);
  });
});
