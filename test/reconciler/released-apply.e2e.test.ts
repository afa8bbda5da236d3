import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { EvidenceRecord } from '../../reconciler/evidence/records.js';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { cli, target, writer, driftedCore } from './harness.js';

/**
 * A plan and an evidence trail written by release 0.1.0 (test/fixtures/released-apply/README.md
 * says how): apply and rollback find what to do from the resource type they store, so both must
 * still work, whatever the code that reads them looks like now.
 */
const FIXTURE = fileURLToPath(new URL('../fixtures/released-apply/', import.meta.url));
const SYNTH = join(FIXTURE, 'synth');
const CA_NAME = 'EP - Sign-in risk medium+high: MFA every time';
const BREAK_GLASS = 'bg-bravo@tailspintoys.example';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const tmp = () => mkdtempSync(join(tmpdir(), 'posture-released-'));
const records = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EvidenceRecord);
const tenantArgs = (s: RunningSimulator) => target(s, SYNTH).filter((a, i, all) => a !== '--today' && all[i - 1] !== '--today');

/**
 * The drifted scenario as the fixture was made from it: the policy's drift spares break-glass, and the
 * authorization policy drifts twice. The Payroll Statement Mailer's Graph grants came to the tenant
 * after the release, with the MailApplications area; the released posture does not declare them.
 */
async function tenant(): Promise<RunningSimulator> {
  const s = (sim = await startSimulator({ scenario: driftedCore() }));
  for (const a of s.tenant.graph.appRoleAssignments.findBy('principalDisplayName', 'Payroll Statement Mailer')) s.tenant.graph.appRoleAssignments.remove(a.id);
  const ca = s.tenant.graph.conditionalAccessPolicies.findBy('displayName', CA_NAME)[0]!;
  const bg = s.tenant.graph.users.findBy('userPrincipalName', BREAK_GLASS)[0]!;
  const conditions = structuredClone(ca['conditions']) as { users: { excludeUsers: string[] } };
  conditions.users.excludeUsers.push(bg.id);
  s.tenant.graph.conditionalAccessPolicies.replace(ca.id, { ...ca, conditions, sessionControls: null });
  s.tenant.authorizationPolicy = { ...s.tenant.authorizationPolicy, defaultUserRolePermissions: { ...(s.tenant.authorizationPolicy['defaultUserRolePermissions'] as object), allowedToCreateApps: true } };
  return s;
}

/** The state the fixture's run touched, without what the service sets by itself on a write. */
function touched(s: RunningSimulator) {
  const volatile = new Set(['id', 'WhenChanged', 'modifiedDateTime']);
  const strip = (o: Record<string, unknown> | undefined) => (o ? Object.fromEntries(Object.entries(o).filter(([k]) => !volatile.has(k))) : o);
  const morgan = s.tenant.graph.users.findBy('userPrincipalName', 'morgan.reed@tailspintoys.example')[0]!;
  return {
    ca: strip(s.tenant.graph.conditionalAccessPolicies.findBy('displayName', CA_NAME)[0]),
    authorization: s.tenant.authorizationPolicy,
    outbound: strip([...s.tenant.exchange.HostedOutboundSpamFilterPolicy.values()][0]),
    transportRules: [...s.tenant.exchange.TransportRule.values()].map(strip),
    inboxRules: s.tenant.inboxRules.list(morgan.id).map(strip),
    grants: [...s.tenant.graph.oauth2PermissionGrants.values()].map(strip).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
  };
}

/** Applies the released plan (a copy: apply reads it only, but the fixture stays untouched). */
async function applyReleasedPlan(s: RunningSimulator, evidence: string) {
  const file = join(tmp(), 'plan.json');
  copyFileSync(join(FIXTURE, 'plan.json'), file);
  return cli(['apply', file, '--auto-approve', '--evidence', evidence, ...target(s, SYNTH)], writer(s));
}

describe('a plan and an evidence trail written by the released code', () => {
  it('the saved plan still applies, every change dispatched on its stored resource type, and a new plan then shows zero changes', async () => {
    const plan = JSON.parse(readFileSync(join(FIXTURE, 'plan.json'), 'utf8')) as PlanDocument;
    expect(plan.changes.map((c) => `${c.action} ${c.resource.type}`).sort()).toEqual([
      'delete inboxRule', 'delete oauth2PermissionGrant', 'update authorizationPolicy', 'update authorizationPolicy', 'update conditionalAccessPolicy', 'update hostedOutboundSpamFilterPolicy', 'update transportRule',
    ]);
    const s = await tenant();
    const dir = tmp();
    const r = await applyReleasedPlan(s, join(dir, 'evidence.jsonl'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Apply complete: 7 changes applied and verified.');
    const again = join(dir, 'again.json');
    await cli(['plan', ...target(s, SYNTH), '--out', again, '--no-evidence'], writer(s));
    expect((JSON.parse(readFileSync(again, 'utf8')) as PlanDocument).changes).toEqual([]);
  });

  it("the saved trail's run still rolls back: the reverse is planned from the stored records and restores the before-state", async () => {
    const s = await tenant();
    const initial = touched(s);
    // Bring the tenant to the state the released run left it in: the same writes, and the service's own timestamps as recorded.
    const scratch = tmp();
    expect((await applyReleasedPlan(s, join(scratch, 'evidence.jsonl'))).code).toBe(0);
    const dir = tmp();
    const evidence = join(dir, 'evidence.jsonl');
    copyFileSync(join(FIXTURE, 'evidence.jsonl'), evidence);
    const saved = records(evidence);
    const runId = saved.find((r) => r.kind === 'apply-start')!.runId;
    const after = (type: string) => (saved.find((r) => r.kind === 'change' && r.resource.type === type) as Extract<EvidenceRecord, { kind: 'change' }>).after as Record<string, unknown>;
    const ca = s.tenant.graph.conditionalAccessPolicies.findBy('displayName', CA_NAME)[0]!;
    s.tenant.graph.conditionalAccessPolicies.replace(ca.id, { ...ca, modifiedDateTime: after('conditionalAccessPolicy')['modifiedDateTime'] });
    const outbound = [...s.tenant.exchange.HostedOutboundSpamFilterPolicy.values()][0]!;
    s.tenant.exchange.HostedOutboundSpamFilterPolicy.replace(outbound.id, { ...outbound, WhenChanged: after('hostedOutboundSpamFilterPolicy')['WhenChanged'] });
    const rule = [...s.tenant.exchange.TransportRule.values()].find((t) => t['Name'] === 'Partner mail bypass')!;
    s.tenant.exchange.TransportRule.replace(rule.id, { ...rule, WhenChanged: after('transportRule')['WhenChanged'] });

    const rollbackFile = join(dir, 'rollback.json');
    const rb = await cli(['rollback', runId, '--evidence', evidence, '--out', rollbackFile, ...tenantArgs(s), '--restore-insecure'], writer(s));
    expect(rb.code, rb.stderr).toBe(2);
    expect(rb.stdout).toContain(`Rollback of run ${runId}: 7 changes, last change first:`);
    expect(rb.stdout).not.toContain('not reversible');
    const plan = JSON.parse(readFileSync(rollbackFile, 'utf8')) as PlanDocument;
    expect(plan.changes.map((c) => `${c.action} ${c.resource.type}`).sort()).toEqual([
      'create inboxRule', 'create oauth2PermissionGrant', 'update authorizationPolicy', 'update authorizationPolicy', 'update conditionalAccessPolicy', 'update hostedOutboundSpamFilterPolicy', 'update transportRule',
    ]);

    const applied = await cli(['apply', rollbackFile, '--auto-approve', '--evidence', evidence, ...target(s, SYNTH)], writer(s));
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('Apply complete: 7 changes applied and verified.');
    expect(touched(s)).toEqual(initial);
    expect(records(evidence).filter((r) => r.kind === 'change' && r.rollbackOf?.runId === runId)).toHaveLength(7);
    expect((await cli(['evidence', 'verify', evidence])).code).toBe(0);
  });
});
