import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EvidenceRecord } from '../../reconciler/evidence/records.js';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { cli, synthExamples, target, writer, driftedCore } from './harness.js';

let synthDir: string;
let sim: RunningSimulator | undefined;
beforeAll(() => {
  synthDir = synthExamples();
});
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const CA_NAME = 'EP - Sign-in risk medium+high: MFA every time';
const BREAK_GLASS = 'bg-bravo@tailspintoys.example';

/** The state apply touches in the drifted tenant, without what the service sets by itself on a write. */
function touched(s: RunningSimulator) {
  const volatile = new Set(['id', 'WhenChanged', 'modifiedDateTime']);
  const strip = (o: Record<string, unknown> | undefined) => (o ? Object.fromEntries(Object.entries(o).filter(([k]) => !volatile.has(k))) : o);
  const morgan = s.tenant.graph.users.findBy('userPrincipalName', 'morgan.reed@tailspintoys.example')[0]!;
  return {
    ca: strip(s.tenant.graph.conditionalAccessPolicies.findBy('displayName', CA_NAME)[0]),
    authorization: s.tenant.authorizationPolicy,
    outbound: strip([...s.tenant.exchange.HostedOutboundSpamFilterPolicy.values()][0]),
    connectionFilter: strip([...s.tenant.exchange.HostedConnectionFilterPolicy.values()][0]),
    transportConfig: strip(s.tenant.transportConfig),
    externalInOutlook: strip(s.tenant.externalInOutlook),
    organizationConfig: strip(s.tenant.organizationConfig),
    sharingPolicies: [...s.tenant.exchange.SharingPolicy.values()].map(strip),
    transportRules: [...s.tenant.exchange.TransportRule.values()].map(strip),
    inboxRules: s.tenant.inboxRules.list(morgan.id).map(strip),
    grants: [...s.tenant.graph.oauth2PermissionGrants.values()].map(strip).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
  };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'posture-rollback-'));
const tenantArgs = (s: RunningSimulator) => target(s, synthDir).filter((a, i, all) => a !== '--today' && all[i - 1] !== '--today');
const records = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EvidenceRecord);

/** Plan and apply the drifted tenant, recording in `evidence`; returns the apply's run id. */
async function planAndApply(s: RunningSimulator, dir: string, evidence: string): Promise<string> {
  const planFile = join(dir, 'plan.json');
  expect((await cli(['plan', ...target(s, synthDir), '--out', planFile, '--evidence', evidence], writer(s))).code).toBe(2);
  const r = await cli(['apply', planFile, '--auto-approve', '--evidence', evidence, ...target(s, synthDir)], writer(s));
  expect(r.code, r.stderr).toBe(0);
  const runId = /recorded as run ([0-9a-f-]{36})/.exec(r.stderr)?.[1];
  expect(runId).toBeDefined();
  return runId!;
}

describe('rollback', () => {
  it('plans the reverse of an apply run from the evidence trail, and applying it restores the before-state', async () => {
    const s = (sim = await startSimulator({ scenario: driftedCore() }));
    // Make the policy's drift one that does not touch break-glass (that case is the next test): the
    // break-glass account is excluded, but the sign-in frequency is off.
    const ca = s.tenant.graph.conditionalAccessPolicies.findBy('displayName', CA_NAME)[0]!;
    const bg = s.tenant.graph.users.findBy('userPrincipalName', BREAK_GLASS)[0]!;
    const conditions = structuredClone(ca['conditions']) as { users: { excludeUsers: string[] } };
    conditions.users.excludeUsers.push(bg.id);
    s.tenant.graph.conditionalAccessPolicies.replace(ca.id, { ...ca, conditions, sessionControls: null });
    // A second drift on the authorization policy: the run changes that resource twice.
    s.tenant.authorizationPolicy = { ...s.tenant.authorizationPolicy, defaultUserRolePermissions: { ...(s.tenant.authorizationPolicy['defaultUserRolePermissions'] as object), allowedToCreateApps: true } };
    const initial = touched(s);

    const dir = tmp();
    const evidence = join(dir, 'evidence.jsonl');
    const runId = await planAndApply(s, dir, evidence);
    expect(touched(s)).not.toEqual(initial);

    const rollbackFile = join(dir, 'rollback.json');
    const rb = await cli(['rollback', runId, '--evidence', evidence, '--out', rollbackFile, ...tenantArgs(s), '--restore-insecure'], writer(s));
    expect(rb.code, rb.stderr).toBe(2);
    expect(rb.stdout).toContain(`Rollback of run ${runId}: 13 changes, last change first:`);
    expect(rb.stdout).not.toContain('not reversible');
    const plan = JSON.parse(readFileSync(rollbackFile, 'utf8')) as PlanDocument;
    expect(plan.rollbackOf).toBe(runId);
    const shown = await cli(['show', rollbackFile, '--color', 'false']);
    expect(shown.stdout).toContain(`Rollback of run ${runId}: 13 changes, last change first:`);
    const asMarkdown = await cli(['show', rollbackFile, '--format', 'markdown']);
    expect(asMarkdown.code).toBe(1);
    expect(asMarkdown.stderr).toContain('is a rollback plan: it is shown as text (no --format) or as json');
    expect(shown.stdout).toMatch(/\+ oauth2PermissionGrant "QuickMail Organizer ← taylor\.nguyen@tailspintoys\.example" \(APP\.CONSENT\.4v1\): POST \/oauth2PermissionGrants/);
    expect(plan.changes.map((c) => `${c.action} ${c.resource.type}`).sort()).toEqual([
      'create inboxRule', 'create oauth2PermissionGrant', 'update authorizationPolicy', 'update authorizationPolicy', 'update conditionalAccessPolicy', 'update externalInOutlook',
      'update hostedConnectionFilterPolicy', 'update hostedConnectionFilterPolicy', 'update hostedOutboundSpamFilterPolicy', 'update organizationConfig', 'update sharingPolicy', 'update transportConfig', 'update transportRule',
    ]);

    const applied = await cli(['apply', rollbackFile, '--auto-approve', '--evidence', evidence, ...target(s, synthDir)], writer(s));
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('Apply complete: 13 changes applied and verified.');
    expect(touched(s)).toEqual(initial);

    // A run is rolled back once: the same rollback plan is refused, and a new rollback has nothing left.
    const twice = await cli(['apply', rollbackFile, '--auto-approve', '--evidence', evidence, ...target(s, synthDir)], writer(s));
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/undoes no applied change of run [0-9a-f-]+ that is still to undo/);
    const again0 = await cli(['rollback', runId, '--evidence', evidence, '--out', join(dir, 'rb2.json'), ...tenantArgs(s), '--restore-insecure'], writer(s));
    expect(again0.code).toBe(0);
    expect(again0.stdout).toContain('nothing to reverse (it was rolled back already)');

    // The trail holds the run, the rollback plan and the rollback's apply, and still verifies.
    const recs = records(evidence);
    expect(recs.find((r) => r.kind === 'plan' && r.command === 'rollback')).toMatchObject({ rollbackOf: runId });
    const undone = recs.filter((r) => r.kind === 'change' && r.rollbackOf?.runId === runId);
    expect(undone).toHaveLength(13);
    expect((await cli(['evidence', 'verify', evidence])).code).toBe(0);

    // Rolling back is not hiding: the posture's findings are back for the next plan.
    const again = await cli(['plan', ...target(s, synthDir), '--out', join(dir, 'again.json'), '--no-evidence'], writer(s));
    expect(again.code).toBe(2);
    expect((JSON.parse(readFileSync(join(dir, 'again.json'), 'utf8')) as PlanDocument).changes).toHaveLength(13);
  });

  it('is subject to the break-glass rail: restoring a policy that caught a break-glass account is refused', async () => {
    const s = (sim = await startSimulator({ scenario: driftedCore() }));
    const dir = tmp();
    const evidence = join(dir, 'evidence.jsonl');
    const runId = await planAndApply(s, dir, evidence);
    const rollbackFile = join(dir, 'rollback.json');
    expect((await cli(['rollback', runId, '--evidence', evidence, '--out', rollbackFile, ...tenantArgs(s), '--restore-insecure'], writer(s))).code).toBe(2);
    const before = touched(s);
    const r = await cli(['apply', rollbackFile, '--auto-approve', '--evidence', evidence, ...target(s, synthDir)], writer(s));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`refusing to write conditional access policy "${CA_NAME}": it would apply to break-glass account ${BREAK_GLASS}`);
    expect(touched(s)).toEqual(before);
    expect(records(evidence).filter((x) => x.kind === 'refusal')).toMatchObject([
      { command: 'apply', reason: 'rail', rollbackOf: runId, message: `refusing to write conditional access policy "${CA_NAME}": it would apply to break-glass account ${BREAK_GLASS}` },
    ]);
  });

  it('undoing security fixes needs --restore-insecure, and the plan names each finding it brings back', async () => {
    const s = (sim = await startSimulator({ scenario: driftedCore() }));
    const dir = tmp();
    const evidence = join(dir, 'evidence.jsonl');
    const runId = await planAndApply(s, dir, evidence);
    const rollbackFile = join(dir, 'rollback.json');
    const before = touched(s);

    // Without the flag: refused, each finding named, nothing saved, and the refusal recorded.
    const refused = await cli(['rollback', runId, '--evidence', evidence, '--out', rollbackFile, ...tenantArgs(s)], writer(s));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`posture rollback: refusing to roll back run ${runId} without --restore-insecure. This rollback undoes 12 security fixes and brings back their findings:`);
    expect(refused.stderr).toMatch(/^ {2}! \[critical\] MAIL\.FWD\.4v1 No inbox rule forwards or redirects to an external address: inboxRule "morgan\.reed@tailspintoys\.example: /m);
    expect(refused.stderr).toMatch(/^ {2}! \[critical\] APP\.CONSENT\.4v1 No user-granted consent to a high-risk mail permission[^\n]*: oauth2PermissionGrant "QuickMail Organizer ← taylor\.nguyen@tailspintoys\.example"$/m);
    expect(refused.stderr).toContain('No plan was saved. To restore that insecure state on purpose, run rollback again with --restore-insecure');
    expect(existsSync(rollbackFile)).toBe(false);
    const refusal = records(evidence).find((r) => r.kind === 'refusal')!;
    expect(refusal).toMatchObject({ command: 'rollback', reason: 'restore-insecure', rollbackOf: runId, tenantId: s.tenantId, changes: 12, actor: { kind: 'application' } });

    // With it: the plan lists them, and so do show and apply before they write.
    const rb = await cli(['rollback', runId, '--evidence', evidence, '--out', rollbackFile, '--restore-insecure', ...tenantArgs(s)], writer(s));
    expect(rb.code, rb.stderr).toBe(2);
    expect(rb.stdout).toContain('This rollback undoes 12 security fixes and brings back their findings:');
    const plan = JSON.parse(readFileSync(rollbackFile, 'utf8')) as PlanDocument;
    expect(plan.restores!.map((r) => r.resource.type).sort()).toEqual([
      'authorizationPolicy', 'conditionalAccessPolicy', 'externalInOutlook', 'hostedConnectionFilterPolicy', 'hostedConnectionFilterPolicy', 'hostedOutboundSpamFilterPolicy', 'inboxRule', 'oauth2PermissionGrant',
      'organizationConfig', 'sharingPolicy', 'transportConfig', 'transportRule',
    ]);
    for (const r of plan.restores!) expect(r.title).not.toBe(r.control);
    const shown = await cli(['show', rollbackFile, '--color', 'false']);
    expect(shown.stdout).toContain('This rollback undoes 12 security fixes and brings back their findings:');

    // A plan edited to hide what it brings back (hash recomputed) is refused.
    const { planHashOf } = await import('../../reconciler/plan/build.js');
    const hidden = { ...plan, restores: plan.restores!.filter((r) => r.resource.type !== 'inboxRule') };
    const hiddenFile = join(dir, 'hidden.json');
    writeFileSync(hiddenFile, JSON.stringify({ ...hidden, planHash: planHashOf(hidden) }));
    const edited = await cli(['apply', hiddenFile, '--auto-approve', '--evidence', evidence, ...target(s, synthDir)], writer(s));
    expect(edited.code).toBe(1);
    expect(edited.stderr).toContain('posture apply: the rollback plan does not list the 12 findings it brings back as the evidence trail says (it lists 11): the plan file was edited; make a new rollback');
    expect(touched(s)).toEqual(before);
    expect(records(evidence).filter((r) => r.kind === 'refusal').map((r) => (r as { reason: string }).reason)).toEqual(['restore-insecure', 'altered']);
  });

  it('refuses when a resource changed since the run, and for a run that is not an apply', async () => {
    const s = (sim = await startSimulator({ scenario: driftedCore() }));
    const dir = tmp();
    const evidence = join(dir, 'evidence.jsonl');
    const runId = await planAndApply(s, dir, evidence);
    const policy = [...s.tenant.exchange.HostedOutboundSpamFilterPolicy.values()][0]!;
    s.tenant.exchange.HostedOutboundSpamFilterPolicy.replace(policy.id, { ...policy, AutoForwardingMode: 'On' });
    const r = await cli(['rollback', runId, '--evidence', evidence, '--out', join(dir, 'rb.json'), ...tenantArgs(s), '--restore-insecure'], writer(s));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^posture rollback: cannot roll back run [0-9a-f-]+: hostedOutboundSpamFilterPolicy "Default" changed since run [0-9a-f-]+ applied it at /m);

    // A deleted item that is back (someone made the rule again) is not made a second time.
    s.tenant.exchange.HostedOutboundSpamFilterPolicy.replace(policy.id, policy);
    const deleted = records(evidence).find((x) => x.kind === 'change' && x.resource.type === 'inboxRule') as EvidenceRecord & { before: Record<string, unknown> };
    const morgan = s.tenant.graph.users.findBy('userPrincipalName', 'morgan.reed@tailspintoys.example')[0]!;
    s.tenant.inboxRules.add(morgan.id, { ...deleted.before, id: 'AQAAAback=' } as never);
    const back = await cli(['rollback', runId, '--evidence', evidence, '--out', join(dir, 'rb.json'), ...tenantArgs(s), '--restore-insecure'], writer(s));
    expect(back.code).toBe(1);
    expect(back.stderr).toMatch(/inboxRule "morgan\.reed@tailspintoys\.example: "\."" is back since run [0-9a-f-]+ applied it at /);

    const planRun = records(evidence).find((x) => x.kind === 'plan')!.runId;
    const p = await cli(['rollback', planRun, '--evidence', evidence, ...tenantArgs(s), '--restore-insecure'], writer(s));
    expect(p.code).toBe(1);
    expect(p.stderr).toContain(`run ${planRun} in ${evidence} is not an apply; it changed nothing`);
    const unknown = await cli(['rollback', 'no-such-run', '--evidence', evidence, ...tenantArgs(s), '--restore-insecure'], writer(s));
    expect(unknown.stderr).toContain(`no run no-such-run in ${evidence}`);
  });

  it('--expect-head: rollback refuses a trail that no longer ends with the head kept after the apply', async () => {
    const s = (sim = await startSimulator({ scenario: driftedCore() }));
    const dir = tmp();
    const evidence = join(dir, 'evidence.jsonl');
    const runId = await planAndApply(s, dir, evidence);
    const head = /head ([0-9a-f]{64})/.exec((await cli(['evidence', 'verify', evidence])).stdout)![1]!;
    // The last record (the apply's end) is cut: the chain still links, the kept head is gone, and
    // verify reports the apply as interrupted.
    const lines = readFileSync(evidence, 'utf8').trim().split('\n');
    writeFileSync(evidence, `${lines.slice(0, -1).join('\n')}\n`);
    const verified = await cli(['evidence', 'verify', evidence]);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toMatch(/chain intact, head [0-9a-f]{64}; 1 apply run was interrupted and not settled/);
    const out = join(dir, 'rb.json');
    const r = await cli(['rollback', runId, '--evidence', evidence, '--out', out, '--expect-head', head, ...tenantArgs(s), '--restore-insecure'], writer(s));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^posture rollback: evidence: refusing to append to .*: the evidence trail fails verification \(1 problem; first: the expected head [0-9a-f]{12}… is not in the file/m);
    expect(existsSync(out)).toBe(false);
  });

  it('applies only what the evidence trail holds: a rollback plan edited to write something else is refused', async () => {
    const s = (sim = await startSimulator({ scenario: driftedCore() }));
    const dir = tmp();
    const evidence = join(dir, 'evidence.jsonl');
    const runId = await planAndApply(s, dir, evidence);
    const rollbackFile = join(dir, 'rollback.json');
    expect((await cli(['rollback', runId, '--evidence', evidence, '--out', rollbackFile, ...tenantArgs(s), '--restore-insecure'], writer(s))).code).toBe(2);
    const { planHashOf } = await import('../../reconciler/plan/build.js');
    const forged = JSON.parse(readFileSync(rollbackFile, 'utf8')) as { changes: Array<{ write: { api: string; body?: Record<string, unknown> } }> };
    const grant = forged.changes.find((c) => c.write.api === 'graph' && c.write.body?.['scope'])!;
    grant.write.body!['scope'] = 'Mail.ReadWrite Mail.Send MailboxSettings.ReadWrite';
    writeFileSync(rollbackFile, JSON.stringify({ ...forged, planHash: planHashOf(forged as never) }));
    const grants = s.tenant.graph.oauth2PermissionGrants.size;
    const r = await cli(['apply', rollbackFile, '--auto-approve', '--evidence', evidence, ...target(s, synthDir)], writer(s));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is not the one the evidence trail calls for: the plan file was edited/);
    expect(s.tenant.graph.oauth2PermissionGrants.size).toBe(grants);
    const without = await cli(['apply', rollbackFile, '--auto-approve', '--no-evidence', ...target(s, synthDir)], writer(s));
    expect(without.stderr).toContain('a rollback plan is checked against the evidence trail it was made from');
  });

  it.each([
    ['a dot segment', (_s: RunningSimulator, path: string) => path.replace('/identity/', '/identity/./')],
    ['an encoded dot segment', (_s: RunningSimulator, path: string) => path.replace('/conditionalAccess/', '/%2e/conditionalAccess/')],
    ['a doubled slash', (_s: RunningSimulator, path: string) => path.replace('/identity/', '/identity//')],
    ['an absolute Graph URL', (s: RunningSimulator, path: string) => `${s.graphUrl}/v1.0${path}`],
  ])('rails judge the path that is sent: a trail rewritten to hold a conditional access path with %s does not get past the break-glass rail', async (_name, disguise) => {
    const { recordHash } = await import('../../reconciler/evidence/chain.js');
    const { planHashOf } = await import('../../reconciler/plan/build.js');
    /** Rewrites the whole chain, as someone who can write the file can: edit, then recompute every hash after. */
    const rewrite = (file: string, edit: (r: Record<string, unknown>) => void) => {
      let prev = '0'.repeat(64);
      const out = readFileSync(file, 'utf8').trim().split('\n').map((line) => {
        const r = JSON.parse(line) as Record<string, unknown>;
        edit(r);
        r['prev'] = prev;
        r['hash'] = recordHash(r);
        prev = r['hash'] as string;
        return JSON.stringify(r);
      });
      writeFileSync(file, `${out.join('\n')}\n`);
    };
    {
      const s = (sim = await startSimulator({ scenario: driftedCore() }));
      const dir = tmp();
      const evidence = join(dir, 'evidence.jsonl');
      const runId = await planAndApply(s, dir, evidence);
      // A rollback plan made from the trail as it was, then trail and plan rewritten alike.
      const rollbackFile = join(dir, 'rollback.json');
      expect((await cli(['rollback', runId, '--evidence', evidence, '--out', rollbackFile, ...tenantArgs(s), '--restore-insecure'], writer(s))).code).toBe(2);
      const ca = records(evidence).find((r) => r.kind === 'change' && r.resource.type === 'conditionalAccessPolicy') as EvidenceRecord & { write: { path: string } };
      const disguised = disguise(s, ca.write.path);
      rewrite(evidence, (r) => {
        if (r['seq'] === ca.seq) (r['write'] as { path: string }).path = disguised;
      });
      expect((await cli(['evidence', 'verify', evidence])).code).toBe(0);
      const before = touched(s);

      // The rollback command names the change as one it cannot reverse, and saves no plan for it.
      const again = join(dir, 'rollback-again.json');
      const rb = await cli(['rollback', runId, '--evidence', evidence, '--out', again, ...tenantArgs(s), '--restore-insecure'], writer(s));
      expect(rb.code, disguised).toBe(1);
      expect(rb.stdout).toContain(`not reversible: conditionalAccessPolicy "${CA_NAME}" (ID.CA.5v1): its recorded write is not one apply makes`);
      const saved = JSON.parse(readFileSync(again, 'utf8')) as PlanDocument;
      expect(saved.changes.some((c) => c.resource.type === 'conditionalAccessPolicy')).toBe(false);

      // A rollback plan edited to match the rewritten trail is refused by apply before anything is read or written.
      const forged = JSON.parse(readFileSync(rollbackFile, 'utf8')) as { changes: Array<{ resource: { type: string }; write: { path: string } }> };
      forged.changes.find((c) => c.resource.type === 'conditionalAccessPolicy')!.write.path = disguised;
      writeFileSync(rollbackFile, JSON.stringify({ ...forged, planHash: planHashOf(forged as never) }));
      const r = await cli(['apply', rollbackFile, '--auto-approve', '--evidence', evidence, ...target(s, synthDir)], writer(s));
      expect(r.code, disguised).toBe(1);
      expect(r.stderr).toContain(`posture apply: refusing the plan's change to conditionalAccessPolicy "${CA_NAME}": its write PATCH ${JSON.stringify(disguised)} is not one apply makes (`);
      expect(touched(s)).toEqual(before);
      const bg = s.tenant.graph.users.findBy('userPrincipalName', BREAK_GLASS)[0]!;
      const policy = s.tenant.graph.conditionalAccessPolicies.findBy('displayName', CA_NAME)[0]!;
      expect((policy['conditions'] as { users: { excludeUsers: string[] } }).users.excludeUsers).toContain(bg.id);
    }
  }, 90_000);
});

