import { CHAIN_ACTIONS } from '../../reconciler/manifest/response.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ResponseEvidenceRecord } from '../../reconciler/evidence/records.js';
import type { Manifest } from '../../reconciler/manifest/schema.js';
import type { ResponsePlan } from '../../reconciler/respond/run.js';
import { startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { cli, isWrite, synthExamples, tenantArgs, trailOf as records, userAdmin, writer } from '../reconciler/harness.js';

/**
 * `posture respond` against the `incident` scenario over real HTTP: each tier × confidence of the
 * example policy does exactly what it declares, the actions are verified and recorded, a second run
 * does nothing twice, a later wave joins its incident, approvals go through `posture apply`, the
 * circuit breaker holds a wave back, and a failed read or write stops it loudly and converges.
 */
const SINCE = '2026-11-16T00:00:00Z';
const JAMIE = '60cbc05e-a9ee-5a7a-85cc-4240d98f0b3a';
const SCANNER = '477f783e-196c-5fc1-a041-8d043e07509c';

let synthDir: string;
let manifest: Manifest;
let sim: RunningSimulator | undefined;
beforeAll(() => {
  synthDir = synthExamples();
  manifest = JSON.parse(readFileSync(join(synthDir, 'stacks', 'tailspin', 'posture.json'), 'utf8')) as Manifest;
});
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const tmp = () => mkdtempSync(join(tmpdir(), 'posture-respond-'));
const respond = (s: RunningSimulator, evidence: string, extra: string[] = [], env = writer(s)) => cli(['respond', ...tenantArgs(s, synthDir), '--evidence', evidence, ...extra], env);

const user = (s: RunningSimulator, upn: string) => s.tenant.graph.users.findBy('userPrincipalName', upn)[0]!;
const watchlist = (s: RunningSimulator) => {
  const g = s.tenant.graph.groups.findBy('displayName', 'Watchlist - sign-in every time')[0]!;
  return (s.tenant.groupMembers.get(g.id.toLowerCase()) ?? []).map((id) => String(s.tenant.graph.users.get(id)?.['userPrincipalName']));
};
/** What respond may change, per identity of the scenario. */
function state(s: RunningSimulator) {
  const of = (upn: string) => {
    const u = user(s, upn);
    return {
      sessions: u['signInSessionsValidFromDateTime'],
      enabled: u['accountEnabled'],
      risk: s.tenant.graph.riskyUsers.get(u.id)?.['riskState'] ?? null,
      rules: s.tenant.inboxRules.list(u.id).map((r) => r['displayName']),
      grants: [...s.tenant.graph.oauth2PermissionGrants.values()].filter((g) => g['principalId'] === u.id).map((g) => g['scope']),
      watched: watchlist(s).includes(upn),
    };
  };
  return Object.fromEntries(['jamie.brooks', 'alex.kim', 'svc-scanner', 'payroll', 'drew.evans', 'bg-alpha'].map((n) => [n, of(`${n}@tailspintoys.example`)]));
}

describe('posture respond against the incident scenario', () => {
  it('each identity gets what the example matrix declares, and nothing else; every action is verified and on record', async () => {
    const s = (sim = await startSimulator({ scenario: 'incident' }));
    const dir = tmp();
    const evidence = join(dir, 'evidence.jsonl');
    const before = state(s);
    const r = await respond(s, evidence, ['--since', SINCE, '--out', join(dir, 'response.json'), '--auto-approve']);
    // Writes wait for approval: exit 2, as a plan with changes.
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toContain('Apply complete: 7 changes applied and verified.');
    const after = state(s);

    // The finance user, high confidence: sessions cut, compromise confirmed, the forwarding rule and the mail consent gone; still enabled (that needs approval).
    expect(after['jamie.brooks']).toMatchObject({ enabled: true, risk: 'confirmedCompromised', rules: [], grants: [], watched: false });
    expect(Date.parse(String(after['jamie.brooks']!.sessions))).toBeGreaterThan(Date.parse(String(before['jamie.brooks']!.sessions)));
    // The shared mailbox, high: its rule removed; sessions and account left for approval.
    expect(after['payroll']).toMatchObject({ rules: [], enabled: true, sessions: before['payroll']!.sessions });
    // The Global Administrator and the phish click, low: watched, nothing else.
    expect(after['alex.kim']).toEqual({ ...before['alex.kim'], watched: true });
    expect(after['drew.evans']).toEqual({ ...before['drew.evans'], watched: true });
    // The service account: nothing runs without a person; the break-glass account: never touched.
    expect(after['svc-scanner']).toEqual(before['svc-scanner']);
    expect(after['bg-alpha']).toEqual(before['bg-alpha']);

    const plan = JSON.parse(readFileSync(join(dir, 'response.json'), 'utf8')) as ResponsePlan;
    expect(plan.incidents.map((i) => [i.identity.upn, i.tier, i.confidence]).sort()).toEqual([
      ['alex.kim@tailspintoys.example', 'privileged', 'low'],
      ['drew.evans@tailspintoys.example', 'standard', 'low'],
      ['jamie.brooks@tailspintoys.example', 'highValue', 'high'],
      ['payroll@tailspintoys.example', 'sharedMailbox', 'high'],
      ['svc-scanner@tailspintoys.example', 'serviceAccount', 'high'],
    ]);
    // Every decision is the matrix cell of its tier and confidence, action by action.
    const matrix = manifest.desired.response!.matrix;
    for (const inc of plan.incidents) {
      const cell = matrix[inc.tier as keyof typeof matrix][inc.confidence];
      // (A chain's actions are decided per mailbox the chain reached, not per identity incident.)
      for (const d of ['automatic', 'approval', 'never'] as const) expect(inc.actions.filter((a) => a.disposition === d).map((a) => a.action).sort(), `${inc.identity.upn} ${d}`).toEqual([...cell[d]].filter((a) => !CHAIN_ACTIONS.includes(a)).sort());
    }
    expect(plan.protected.map((i) => i.identity.upn)).toEqual(['bg-alpha@tailspintoys.example']);
    expect(r.stdout).toContain('Break-glass account bg-alpha@tailspintoys.example is named in 1 signal');
    expect(plan.approvals.every((c) => !c.resource.name.startsWith('bg-alpha'))).toBe(true);

    // The trail: the response with its signals and decisions, then the apply run of its automatic actions, verified.
    const recs = records(evidence);
    const response = recs.find((x): x is ResponseEvidenceRecord => x.kind === 'response')!;
    expect(response).toMatchObject({ planHash: plan.planHash, changes: 7, approvals: plan.approvals.length, exitCode: 2 });
    const jamie = response.incidents.find((i) => i.identity.id === JAMIE)!;
    // Defender, Identity Protection and the posture's own findings: the rule forwarding outside (MAIL.FWD.4), the mail consent (APP.CONSENT.4).
    expect(jamie.signals.map((x) => x.source).sort()).toEqual(['defenderAlert', 'finding', 'finding', 'riskDetection']);
    expect(jamie.actions.find((a) => a.action === 'revokeSessions')).toMatchObject({ disposition: 'automatic', rule: 'matrix.highValue.high.automatic', writes: 1 });
    const changes = recs.filter((x) => x.kind === 'change' && x.runId === response.runId);
    expect(changes.map((c) => (c as { control: string }).control).sort()).toEqual([
      'respond.confirmCompromised', 'respond.removeMailRules', 'respond.removeMailRules', 'respond.revokeConsents', 'respond.revokeSessions', 'respond.watchlist', 'respond.watchlist',
    ]);
    expect(changes.every((c) => (c as { result: string }).result === 'applied')).toBe(true);
    expect((await cli(['evidence', 'verify', evidence])).code).toBe(0);

    // Idempotent: the same signals again do nothing twice.
    const writes = s.requests.entries.filter(isWrite).length;
    const again = await respond(s, evidence, ['--since', SINCE, '--auto-approve']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('Response: 0 incidents, 0 automatic writes, 0 waiting for approval.');
    expect(s.requests.entries.filter(isWrite).length).toBe(writes);

    // A later wave: the same incident continues, and is contained again.
    s.clock.set('2026-11-16T10:05:00Z');
    const wave = await respond(s, evidence, ['--auto-approve']);
    expect(wave.code, wave.stderr).toBe(2);
    expect(wave.stdout).toContain(`Incident ${jamie.id}: jamie.brooks@tailspintoys.example (highValue, high confidence)`);
    expect(wave.stdout).toMatch(/applied ~ signInSessions "jamie\.brooks@tailspintoys\.example"/);
    expect(wave.stdout).toContain('Response: 1 incident, 2 automatic writes');

    // Half an hour later the attacker plants the forwarding rule again: the next run finds it, reopens the incident and contains it again.
    s.clock.set('2026-11-16T10:35:00Z');
    s.tenant.inboxRules.add(JAMIE, { id: 'AQAAAJ5dZtX=', displayName: '..', sequence: 1, isEnabled: true, hasError: false, isReadOnly: false, conditions: {}, actions: { forwardTo: [{ emailAddress: { name: 'AP Archive', address: 'ap-archive@exfil-mail.test' } }], stopProcessingRules: true } });
    const back = await respond(s, evidence, ['--auto-approve']);
    expect(back.code, back.stderr).toBe(2);
    expect(back.stdout).toMatch(/signal {2}finding EP-[0-9a-f]{16} \(high, rule 9\): An inbox rule of jamie\.brooks@tailspintoys\.example/);
    expect(back.stdout).toMatch(/applied - inboxRule "jamie\.brooks@tailspintoys\.example: "\.\."" \(respond\.removeMailRules\)/);
    expect(state(s)['jamie.brooks']!.rules).toEqual([]);

    // The watch lasts the policy's watchlist.days (14): a run fifteen days on takes the watched users off the list.
    expect(watchlist(s).sort()).toEqual(['alex.kim@tailspintoys.example', 'drew.evans@tailspintoys.example']);
    const early = await respond(s, evidence, ['--auto-approve', '--now', new Date(Date.now() + 13 * 86_400_000).toISOString()]);
    expect(early.stdout).not.toContain('Watch ended');
    const later = await respond(s, evidence, ['--auto-approve', '--now', new Date(Date.now() + 15 * 86_400_000).toISOString()]);
    expect(later.code, later.stderr).toBe(0);
    expect(later.stdout).toMatch(/Watch ended: alex\.kim@tailspintoys\.example, on the watchlist since .*: taken off it\./);
    expect(later.stdout).toMatch(/applied - groupMember "drew\.evans@tailspintoys\.example in the watchlist" \(respond\.unwatch\)/);
    expect(watchlist(s)).toEqual([]);
    const last = await respond(s, evidence, ['--auto-approve', '--now', new Date(Date.now() + 16 * 86_400_000).toISOString()]);
    expect(last.stdout).not.toContain('Watch ended');
    expect((await cli(['evidence', 'verify', evidence])).code).toBe(0);
  }, 180_000);

  it('approvals go through posture apply, checked against the trail and the tenant; applied once, a reused or edited plan is refused', async () => {
    const s = (sim = await startSimulator({ scenario: 'incident' }));
    const dir = tmp();
    const evidence = join(dir, 'evidence.jsonl');
    const file = join(dir, 'response.json');
    // Without --auto-approve and without a terminal, nothing is written at all.
    const planned = await respond(s, evidence, ['--since', SINCE, '--out', file]);
    expect(planned.code).toBe(2);
    expect(planned.stdout).toContain("The automatic actions were not run: pass --auto-approve, or answer 'yes' at a terminal.");
    expect(s.requests.entries.filter(isWrite)).toEqual([]);
    const plan = JSON.parse(readFileSync(file, 'utf8')) as ResponsePlan;

    // An edited plan: its hash no longer holds.
    const edited = join(dir, 'edited.json');
    writeFileSync(edited, JSON.stringify({ ...plan, approvals: plan.approvals.slice(1) }));
    const refusedEdit = await cli(['apply', edited, '--auto-approve', '--evidence', evidence, ...tenantArgs(s, synthDir)], userAdmin(s));
    expect(refusedEdit.code).toBe(1);
    expect(refusedEdit.stderr).toContain('the response plan was altered after it was made');

    const approved = await cli(['apply', file, '--auto-approve', '--evidence', evidence, ...tenantArgs(s, synthDir)], userAdmin(s));
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain(`Apply complete: ${plan.approvals.length} changes applied and verified.`);
    expect(user(s, 'svc-scanner@tailspintoys.example')['accountEnabled']).toBe(false);
    expect(s.tenant.graph.riskyUsers.get(SCANNER)?.['riskState']).toBe('confirmedCompromised');
    // Approved once: the same plan again is refused before anything is read or written.
    const writesBefore = s.requests.entries.filter(isWrite).length;
    const twice = await cli(['apply', file, '--auto-approve', '--evidence', evidence, ...tenantArgs(s, synthDir)], userAdmin(s));
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/this response plan was already approved and applied \(run [0-9a-f-]{36} at [^)]+\): run posture respond again/);
    expect(s.requests.entries.filter(isWrite).length).toBe(writesBefore);
    const refusals = records(evidence).filter((x) => x.kind === 'refusal').map((x) => (x as { reason: string }).reason);
    expect(refusals).toEqual(['altered', 'stale']);
    expect((await cli(['evidence', 'verify', evidence])).code).toBe(0);

    // The run's reversible actions roll back: the account is enabled again.
    const applyRun = /recorded as run ([0-9a-f-]{36})/.exec(approved.stderr)![1]!;
    const rb = await cli(['rollback', applyRun, '--evidence', evidence, '--out', join(dir, 'rb.json'), ...tenantArgs(s, synthDir), '--restore-insecure'], userAdmin(s));
    expect(rb.stdout).toMatch(/not reversible/);
    expect(rb.stdout).toMatch(/~ userAccount "svc-scanner@tailspintoys\.example" \(respond\.disableAccount\)/);
    expect(rb.stdout).toMatch(/not reversible: signInSessions "svc-scanner@tailspintoys\.example" \(respond\.revokeSessions\)/);
    const undone = await cli(['apply', join(dir, 'rb.json'), '--auto-approve', '--evidence', evidence, ...tenantArgs(s, synthDir)], userAdmin(s));
    expect(undone.code, undone.stderr).toBe(0);
    expect(user(s, 'svc-scanner@tailspintoys.example')['accountEnabled']).toBe(true);
  }, 120_000);

  it('the circuit breaker: a wave from one source over more identities than declared acts on none automatically', async () => {
    const s = (sim = await startSimulator({ scenario: 'incident' }));
    const dir = tmp();
    const people = [...s.tenant.graph.users.values()].map((u) => String(u['userPrincipalName'])).filter((u) => !u.startsWith('bg-'));
    expect(people.length).toBeGreaterThan(10);
    const file = join(dir, 'gateway.json');
    writeFileSync(file, JSON.stringify({
      schema: 'email-posture/signals@1',
      signals: people.map((upn, i) => ({ id: `gw-${i}`, source: 'mail-gateway', type: 'credential-phish-click', observedAt: '2026-11-16T08:30:00Z', user: { upn }, title: 'Clicked a credential phishing link' })),
    }));
    const r = await respond(s, join(dir, 'evidence.jsonl'), ['--since', '2026-11-16T08:29:00Z', '--signals', file, '--auto-approve']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toMatch(/Circuit breaker: automatic actions would touch \d+ identities within 24 hours \(0 by earlier runs\), more than the circuit breaker allows \(10 identities/);
    expect(r.stdout).toContain('0 automatic writes');
    expect(s.requests.entries.filter(isWrite)).toEqual([]);
  }, 120_000);

  it('a read that fails stops it loudly, naming what was not read, and nothing is acted on', async () => {
    const s = (sim = await startSimulator({ scenario: 'incident', faults: [{ route: '/security/alerts_v2', method: 'GET', kind: 'status', status: 503 }] }));
    const r = await respond(s, join(tmp(), 'evidence.jsonl'), ['--since', SINCE, '--auto-approve', '--max-retries', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/posture respond: the signals or the directory could not be read completely, so nothing was acted on\. Could not read:\n {2}- Defender alerts \(\/security\/alerts_v2\)/);
    expect(s.requests.entries.filter(isWrite)).toEqual([]);
  });

  it('a write that fails in the middle stops the run; the next run takes the incident up again and converges', async () => {
    const s = (sim = await startSimulator({ scenario: 'incident', faults: [{ route: '/revokeSignInSessions', method: 'POST', kind: 'status', status: 503 }] }));
    const evidence = join(tmp(), 'evidence.jsonl');
    const first = await respond(s, evidence, ['--since', SINCE, '--auto-approve', '--max-retries', '0']);
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/FAILED +~ signInSessions "jamie\.brooks@tailspintoys\.example"/);
    s.faults.clear();
    const second = await respond(s, evidence, ['--since', SINCE, '--auto-approve']);
    expect(second.code, second.stderr).toBe(2);
    expect(second.stdout).toMatch(/applied ~ signInSessions "jamie\.brooks@tailspintoys\.example"/);
    expect(state(s)['jamie.brooks']).toMatchObject({ risk: 'confirmedCompromised', rules: [], grants: [] });
    const third = await respond(s, evidence, ['--since', SINCE, '--auto-approve']);
    expect(third.stdout).toContain('0 automatic writes');
    expect((await cli(['evidence', 'verify', evidence])).code).toBe(0);
  }, 120_000);

  it('bad input: a signal file that is not the schema, a --since that is no time, a posture without a response policy: one message, nothing read', async () => {
    const s = (sim = await startSimulator({ scenario: 'incident' }));
    const dir = tmp();
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ schema: 'email-posture/signals@1', signals: [{ id: 'x', source: 'gw', type: 't', observedAt: 'soon', user: { upn: 'a@b.example' }, title: 't' }] }));
    const a = await respond(s, join(dir, 'e.jsonl'), ['--signals', bad]);
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/^posture respond: .*bad\.json: not an email-posture signal file \(signals\.0\.observedAt: /m);
    const b = await respond(s, join(dir, 'e.jsonl'), ['--since', 'yesterday']);
    expect(b.stderr).toContain('posture respond: --since "yesterday" is not an ISO 8601 time');
    const c = await cli(['respond', ...tenantArgs(s, synthDir).map((x) => (x === 'tailspin' ? 'minimal' : x)), '--no-evidence'], writer(s));
    expect(c.stderr).toContain('posture respond: stack minimal declares no response policy');
    expect(s.requests.entries).toEqual([]);
    for (const r of [a, b, c]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

