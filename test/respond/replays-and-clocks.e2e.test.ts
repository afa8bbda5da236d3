import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ResponsePlan } from '../../reconciler/respond/run.js';
import { startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { cli, isWrite, synthExamples, tenantArgs, writer } from '../reconciler/harness.js';

/** Respond against what tends to go wrong over days: alerts read again, break-glass accounts named in passing, runners whose clocks differ. */
const JAMIE_ALERT = 'fab8b3cce31c6f5f8f896789aca09f10';
const BG_ALERT = 'fa7ec44228f99d561c961ab5cd5e9382';

let synthDir: string;
let sim: RunningSimulator | undefined;
beforeAll(() => {
  synthDir = synthExamples();
});
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});
const tmp = () => mkdtempSync(join(tmpdir(), 'posture-respond-days-'));
const respond = async (s: RunningSimulator, evidence: string, extra: string[]) => {
  const out = join(tmp(), 'response.json');
  const r = await cli(['respond', ...tenantArgs(s, synthDir), '--evidence', evidence, '--out', out, ...extra], writer(s));
  return { r, plan: JSON.parse(readFileSync(out, 'utf8')) as ResponsePlan };
};

describe('respond over days', () => {
  it('an alert acted on days ago whose status alone changes (an analyst takes it) is not acted on again', async () => {
    const s = (sim = await startSimulator({ scenario: 'incident' }));
    const evidence = join(tmp(), 'evidence.jsonl');
    const first = await respond(s, evidence, ['--since', '2026-11-16T00:00:00Z', '--now', '2026-11-16T12:00:00Z', '--auto-approve']);
    expect(first.plan.changes.some((c) => c.resource.name.includes('jamie.brooks'))).toBe(true);

    // Three days on, another (unrated) alert moves the services' cursor forward.
    const jamie = s.tenant.graph.alerts.get(JAMIE_ALERT)!;
    s.tenant.graph.alerts.insert({ ...jamie, id: 'fa000000000000000000000000000001', title: 'Informational', severity: 'informational', createdDateTime: '2026-11-19T10:30:00Z', lastUpdateDateTime: '2026-11-19T10:30:00Z', evidence: [{ '@odata.type': '#microsoft.graph.security.userEvidence', roles: [], verdict: 'unknown', userAccount: { userPrincipalName: 'alex.kim@tailspintoys.example' } }] });
    const moved = await respond(s, evidence, ['--now', '2026-11-19T11:00:00Z', '--auto-approve']);
    expect(moved.plan.window.until).toBe('2026-11-19T10:30:00.000Z');
    const writes = s.requests.entries.filter(isWrite).length;

    // The analyst assigns jamie's alert: its status and lastUpdateDateTime change, nothing else.
    s.tenant.graph.alerts.replace(JAMIE_ALERT, { ...s.tenant.graph.alerts.get(JAMIE_ALERT)!, status: 'inProgress', assignedTo: 'soc@tailspintoys.example', lastUpdateDateTime: '2026-11-19T11:30:00Z' });
    const third = await respond(s, evidence, ['--now', '2026-11-19T12:00:00Z', '--auto-approve']);
    expect(third.plan.incidents.map((i) => `${i.identity.upn} ${i.actions.filter((a) => a.disposition === 'automatic' && a.writes > 0).map((a) => a.action).join(',')}`)).toEqual([]);
    expect(s.requests.entries.filter(isWrite).length - writes).toBe(0);
  }, 240_000);

  it('a break-glass account named in an alert only as context still reaches the incident owner', async () => {
    const s = (sim = await startSimulator({ scenario: 'incident' }));
    const bg = s.tenant.graph.alerts.get(BG_ALERT)!;
    s.tenant.graph.alerts.replace(BG_ALERT, { ...bg, evidence: (bg['evidence'] as Array<Record<string, unknown>>).map((e) => ({ ...e, roles: ['contextual'] })) });
    const { plan } = await respond(s, join(tmp(), 'evidence.jsonl'), ['--since', '2026-11-16T00:00:00Z', '--now', '2026-11-16T12:00:00Z']);
    expect(plan.protected.map((i) => i.identity.upn)).toContain('bg-alpha@tailspintoys.example');
  }, 120_000);

  it('the circuit breaker counts an earlier run whose clock ran ahead of this one', async () => {
    const s = (sim = await startSimulator({ scenario: 'incident' }));
    const people = [...s.tenant.graph.users.values()].map((u) => String(u['userPrincipalName'])).filter((u) => !u.startsWith('bg-') && !u.startsWith('svc-'));
    const evidence = join(tmp(), 'evidence.jsonl');
    const wave = (at: string, users: string[], tag: string) => {
      const f = join(tmp(), `${tag}.json`);
      writeFileSync(f, JSON.stringify({ schema: 'email-posture/signals@1', signals: users.map((upn, i) => ({ id: `${tag}-${i}`, source: 'mail-gateway', type: 'credential-phish-click', observedAt: at, user: { upn }, title: 'Clicked a credential phishing link' })) }));
      return f;
    };
    // The first runner's clock is ten minutes ahead of the second's.
    await cli(['respond', ...tenantArgs(s, synthDir), '--evidence', evidence, '--since', '2026-11-16T08:29:00Z', '--now', '2026-11-16T09:40:00Z', '--signals', wave('2026-11-16T08:30:00Z', people.slice(0, 5), 'w1'), '--auto-approve'], writer(s));
    const acted = s.requests.entries.filter(isWrite).length;
    expect(acted).toBeGreaterThan(0);
    const second = await cli(['respond', ...tenantArgs(s, synthDir), '--evidence', evidence, '--since', '2026-11-16T09:29:00Z', '--now', '2026-11-16T09:31:00Z', '--signals', wave('2026-11-16T09:30:00Z', people.slice(5, 11), 'w2'), '--auto-approve'], writer(s));
    expect(second.stdout).toContain('Circuit breaker');
    expect(s.requests.entries.filter(isWrite).length).toBe(acted);
  }, 180_000);
});
