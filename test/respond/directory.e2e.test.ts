import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../reconciler/manifest/schema.js';
import type { ResponsePlan } from '../../reconciler/respond/run.js';
import { startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { cli, isWrite, synthExamples, tenantArgs, trailOf as records, userAdmin, writer } from '../reconciler/harness.js';

/**
 * Respond places each identity by the directory as it is: through nested groups, roles held through
 * a group and roles one is only eligible for; approval places it again before anything is written;
 * the circuit breaker counts the identities of every run within its window.
 */
const SINCE = '2026-11-16T00:00:00Z';
const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';
const FINANCE = '215f7eea-2f28-58b9-b0b9-9dfa9f14f25c';
const SCANNER = '477f783e-196c-5fc1-a041-8d043e07509c';
const PAYROLL = '3466f310-35c6-5832-b114-fac2a6b289f1';

let synthDir: string;
let sim: RunningSimulator | undefined;
beforeAll(() => {
  synthDir = synthExamples();
});
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const tmp = () => mkdtempSync(join(tmpdir(), 'posture-respond-dir-'));
const userId = (s: RunningSimulator, upn: string) => s.tenant.graph.users.findBy('userPrincipalName', upn)[0]!.id;
const group = (s: RunningSimulator, id: string, displayName: string, members: string[], extra: Record<string, unknown> = {}) => {
  s.tenant.graph.groups.insert({ id, displayName, mailEnabled: false, mailNickname: displayName.replace(/\W/g, ''), securityEnabled: true, groupTypes: [], ...extra });
  s.tenant.groupMembers.set(id, members);
};
const planOf = async (s: RunningSimulator, dir: string, evidence: string, extra: string[] = []) => {
  const out = join(tmp(), 'response.json');
  const r = await cli(['respond', ...tenantArgs(s, dir), '--evidence', evidence, '--out', out, ...extra], writer(s));
  expect([0, 2], r.stderr).toContain(r.code);
  return { r, plan: JSON.parse(readFileSync(out, 'utf8')) as ResponsePlan, out };
};
const tierOf = (plan: ResponsePlan, upn: string) => plan.incidents.find((i) => i.identity.upn === upn)?.tier;

describe('respond and the directory', () => {
  it('a member of a group nested in a high-value group, one eligible for a privileged role, one holding it through a group: each in its tier', async () => {
    const s = (sim = await startSimulator({ scenario: 'incident' }));
    const drew = userId(s, 'drew.evans@tailspintoys.example');
    // An application holding a privileged role is no user's: it must not stop the read.
    s.tenant.graph.roleAssignments.insert({ id: 'sp-ga', principalId: '798639da-84a7-531a-9207-9e26cb724cc9', roleDefinitionId: GLOBAL_ADMIN, directoryScopeId: '/' });

    const base = await planOf(s, synthDir, join(tmp(), 'e.jsonl'), ['--since', SINCE]);
    expect(tierOf(base.plan, 'drew.evans@tailspintoys.example')).toBe('standard');
    // The shared mailbox's delegates are removed by naming the mailbox by its object id, not an address.
    const delegates = base.plan.approvals.filter((c) => c.control === 'respond.removeDelegates');
    expect(delegates.length).toBeGreaterThan(0);
    for (const c of delegates) expect(c.write).toMatchObject({ api: 'exchange', parameters: { Identity: PAYROLL } });

    // Nested: drew is in Finance Contractors, which is in Finance.
    group(s, 'a0000000-0000-4000-8000-000000000001', 'Finance Contractors', [drew]);
    s.tenant.groupMembers.set(FINANCE, [...(s.tenant.groupMembers.get(FINANCE) ?? []), 'a0000000-0000-4000-8000-000000000001']);
    expect(tierOf((await planOf(s, synthDir, join(tmp(), 'e.jsonl'), ['--since', SINCE])).plan, 'drew.evans@tailspintoys.example')).toBe('highValue');
    s.tenant.groupMembers.set(FINANCE, (s.tenant.groupMembers.get(FINANCE) ?? []).filter((m) => !m.startsWith('a0000000')));

    // Eligible (PIM): drew can activate Global Administrator at will.
    s.tenant.graph.roleEligibilitySchedules.insert({
      id: 'elig-drew', principalId: drew, roleDefinitionId: GLOBAL_ADMIN, directoryScopeId: '/', appScopeId: null, createdUsing: 'elig-drew', status: 'Provisioned', memberType: 'Direct',
      createdDateTime: '2026-10-01T09:00:00Z', modifiedDateTime: null, scheduleInfo: { startDateTime: '2026-10-01T09:00:00Z', recurrence: null, expiration: { type: 'noExpiration', endDateTime: null, duration: null } },
    });
    expect(tierOf((await planOf(s, synthDir, join(tmp(), 'e.jsonl'), ['--since', SINCE])).plan, 'drew.evans@tailspintoys.example')).toBe('privileged');
    s.tenant.graph.roleEligibilitySchedules.remove('elig-drew');

    // Through a role-assignable group.
    group(s, 'a0000000-0000-4000-8000-000000000002', 'Tier 0 Admins', [drew], { isAssignableToRole: true });
    s.tenant.graph.roleAssignments.insert({ id: 'grp-ga', principalId: 'a0000000-0000-4000-8000-000000000002', roleDefinitionId: GLOBAL_ADMIN, directoryScopeId: '/' });
    expect(tierOf((await planOf(s, synthDir, join(tmp(), 'e.jsonl'), ['--since', SINCE])).plan, 'drew.evans@tailspintoys.example')).toBe('privileged');

    expect(s.requests.entries.filter(isWrite)).toEqual([]);
  }, 180_000);

  it('approval places each identity again: one made break-glass, or moved to a tier whose cell forbids the action, is refused; as it was, approved', async () => {
    const s = (sim = await startSimulator({ scenario: 'incident' }));
    group(s, 'a0000000-0000-4000-8000-000000000003', 'Emergency Access', []);
    // The posture: break-glass also by group; a privileged account is never disabled, even with approval.
    const dir = tmp();
    cpSync(synthDir, dir, { recursive: true });
    const file = join(dir, 'stacks', 'tailspin', 'posture.json');
    const m = JSON.parse(readFileSync(file, 'utf8')) as Manifest & { breakGlass: { groups: string[] } };
    m.breakGlass.groups = ['Emergency Access'];
    const cell = m.desired.response!.matrix.privileged.high;
    (cell as { approval: string[] }).approval = cell.approval.filter((a) => a !== 'disableAccount');
    (cell as { automatic: string[] }).automatic = cell.automatic.filter((a) => a !== 'disableAccount');
    (cell as { never: string[] }).never = [...cell.never, 'disableAccount'];
    writeFileSync(file, JSON.stringify(m));

    const evidence = join(tmp(), 'evidence.jsonl');
    const { plan, out } = await planOf(s, dir, evidence, ['--since', SINCE]);
    expect(plan.approvals.some((c) => c.control === 'respond.disableAccount' && c.resource.id === SCANNER)).toBe(true);
    const apply = () => cli(['apply', out, '--auto-approve', '--evidence', evidence, ...tenantArgs(s, dir)], userAdmin(s));

    s.tenant.groupMembers.set('a0000000-0000-4000-8000-000000000003', [SCANNER]);
    const bg = await apply();
    expect(bg.code).toBe(1);
    expect(bg.stderr).toContain('refusing to act on break-glass account svc-scanner@tailspintoys.example');
    s.tenant.groupMembers.set('a0000000-0000-4000-8000-000000000003', []);

    s.tenant.graph.roleEligibilitySchedules.insert({ id: 'elig-svc', principalId: SCANNER, roleDefinitionId: GLOBAL_ADMIN, directoryScopeId: '/', status: 'Provisioned', memberType: 'Direct' });
    const moved = await apply();
    expect(moved.code).toBe(1);
    expect(moved.stderr).toMatch(/stale response plan: svc-scanner@tailspintoys\.example is now in tier privileged, where the matrix \(matrix\.privileged\.high\) does not let disableAccount be approved/);
    s.tenant.graph.roleEligibilitySchedules.remove('elig-svc');
    expect(s.requests.entries.filter(isWrite)).toEqual([]);

    const ok = await apply();
    expect(ok.code, ok.stderr).toBe(0);
    expect(s.tenant.graph.users.get(SCANNER)?.['accountEnabled']).toBe(false);
    expect(records(evidence).filter((x) => x.kind === 'refusal').map((x) => (x as { reason: string }).reason)).toEqual(['rail', 'stale']);
  }, 180_000);

  it('the circuit breaker counts every run within its window: a wave spread over two runs trips it as one would', async () => {
    const s = (sim = await startSimulator({ scenario: 'incident' }));
    const people = [...s.tenant.graph.users.values()].map((u) => String(u['userPrincipalName'])).filter((u) => !u.startsWith('bg-') && !u.startsWith('svc-'));
    expect(people.length).toBeGreaterThan(10);
    const evidence = join(tmp(), 'evidence.jsonl');
    const wave = (at: string, users: string[], tag: string) => {
      const f = join(tmp(), `${tag}.json`);
      writeFileSync(f, JSON.stringify({ schema: 'email-posture/signals@1', signals: users.map((upn, i) => ({ id: `${tag}-${i}`, source: 'mail-gateway', type: 'credential-phish-click', observedAt: at, user: { upn }, title: 'Clicked a credential phishing link' })) }));
      return f;
    };
    const first = await cli(['respond', ...tenantArgs(s, synthDir), '--evidence', evidence, '--since', '2026-11-16T08:29:00Z', '--now', '2026-11-16T09:00:00Z', '--signals', wave('2026-11-16T08:30:00Z', people.slice(0, 5), 'w1'), '--auto-approve'], writer(s));
    expect(first.stdout).not.toContain('Circuit breaker');
    const acted = s.requests.entries.filter(isWrite).length;
    expect(acted).toBeGreaterThan(0);

    const second = await cli(['respond', ...tenantArgs(s, synthDir), '--evidence', evidence, '--since', '2026-11-16T09:29:00Z', '--now', '2026-11-16T10:00:00Z', '--signals', wave('2026-11-16T09:30:00Z', people.slice(5, 11), 'w2'), '--auto-approve'], writer(s));
    // The first run acted on its five and on the scenario's own incidents (read from 08:29 on); alone, the second wave's six would pass.
    expect(second.stdout).toMatch(/Circuit breaker: automatic actions would touch 1\d identities within 24 hours \([5-9] by earlier runs\), more than the circuit breaker allows \(10 identities/);
    expect(s.requests.entries.filter(isWrite).length).toBe(acted);

    // A day later the window has moved on: the same size of wave runs.
    const later = await cli(['respond', ...tenantArgs(s, synthDir), '--evidence', evidence, '--since', '2026-11-17T11:29:00Z', '--now', '2026-11-17T12:00:00Z', '--signals', wave('2026-11-17T11:30:00Z', people.slice(5, 11), 'w3'), '--auto-approve'], writer(s));
    expect(later.stdout).not.toContain('Circuit breaker');
  }, 180_000);
});
