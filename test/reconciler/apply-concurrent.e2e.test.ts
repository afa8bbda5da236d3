import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { applyChanges } from '../../reconciler/apply/apply.js';
import { applyRecorder } from '../../reconciler/evidence/recorder.js';
import type { EvidenceActor, EvidenceRecord } from '../../reconciler/evidence/records.js';
import { EvidenceTrail } from '../../reconciler/evidence/store.js';
import { trailRecords, verifyTrail } from '../../reconciler/evidence/verify.js';
import { connect } from '../../reconciler/input/connection.js';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import type { RequestLogEntry } from '../../simulator/http/log.js';
import { startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { cli, driftedCore, synthExamples, target, writer } from './harness.js';

let synthDir: string;
const sims: RunningSimulator[] = [];
beforeAll(() => {
  synthDir = synthExamples();
});
afterEach(async () => {
  for (const s of sims.splice(0)) await s.stop();
});

const tmp = () => mkdtempSync(join(tmpdir(), 'posture-apply-concurrent-'));
/** A generated tenant whose forwarding inbox rules MAIL.FWD.4 (remediate mode) deletes; nothing else to apply. */
const generated = async () => {
  const s = await startSimulator({ scenario: 'compliant', generate: { mailboxes: 300, forwardingShare: 0.05 } });
  sims.push(s);
  return s;
};

async function plan(s: RunningSimulator): Promise<{ file: string; plan: PlanDocument }> {
  const file = join(tmp(), 'plan.json');
  const r = await cli(['plan', ...target(s, synthDir), '--out', file], writer(s));
  expect(r.code, r.stderr).toBe(2);
  return { file, plan: JSON.parse(readFileSync(file, 'utf8')) as PlanDocument };
}

const apply = (s: RunningSimulator, file: string, extra: string[] = []) => cli(['apply', file, '--auto-approve', '--max-changes', '1000', ...extra, ...target(s, synthDir)], writer(s));

/** The mailbox (user id) a request to Outlook mailbox resources acts in. */
const mailboxOf = (e: RequestLogEntry) => /\/users\/([^/?]+)\/mailFolders\//.exec(e.path)?.[1];
const ruleWrites = (p: PlanDocument) => p.changes.map((c) => (c.write.api === 'graph' ? c.write.path : ''));

describe('apply reads what the plan touches', () => {
  it('reads the rules of the mailboxes its changes act in and no other, with no read the write does not use', async () => {
    const s = await generated();
    const { file, plan: p } = await plan(s);
    expect(p.changes.length).toBeGreaterThan(5);
    expect(p.changes.every((c) => c.resource.type === 'inboxRule' && c.action === 'delete')).toBe(true);
    const touched = new Set(ruleWrites(p).map((w) => /^\/users\/([^/]+)\//.exec(w)![1]!));

    const from = s.requests.entries.length;
    const evidence = join(tmp(), 'evidence.jsonl');
    const r = await apply(s, file, ['--evidence', evidence]);
    expect(r.stderr).not.toMatch(/posture apply:/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Apply complete: ${p.changes.length} changes applied and verified.`);
    const log = s.requests.entries.slice(from);

    // Mailbox resources: only the touched mailboxes, each read once in the preflight ($batch), then
    // for each change its DELETE and the read back; the rule is not read again before its write.
    const mailboxRequests = log.filter((e) => mailboxOf(e) !== undefined);
    expect(new Set(mailboxRequests.map(mailboxOf))).toEqual(touched);
    const batchReads = mailboxRequests.filter((e) => e.batch !== undefined);
    expect(batchReads.length).toBe(touched.size);
    expect(mailboxRequests.filter((e) => e.batch === undefined && e.method === 'GET' && /\/messageRules\/[^/]+$/.test(e.path))).toEqual([]);
    expect(mailboxRequests.filter((e) => e.method === 'DELETE').length).toBe(p.changes.length);
    expect(mailboxRequests.filter((e) => e.batch === undefined && e.method === 'GET' && /\/messageRules$/.test(e.path)).length).toBe(p.changes.length);

    // Nothing the inbox rule control does not read: no conditional access, no policy, no transport
    // rule, and not the users (its findings resolve no reference).
    expect(log.filter((e) => e.api === 'graph' && /^\/v1\.0\/users(\?|$)/.test(e.path))).toEqual([]);
    expect(log.filter((e) => e.api === 'graph' && /conditionalAccess|\/policies\/|identityProtection/.test(e.path))).toEqual([]);
    const cmdlets = new Set(log.filter((e) => e.api === 'exchange').map((e) => e.cmdlet));
    for (const c of ['Get-TransportRule', 'Get-HostedOutboundSpamFilterPolicy', 'Get-RemoteDomain', 'Get-DkimSigningConfig', 'Get-AntiPhishPolicy']) expect(cmdlets.has(c)).toBe(false);

    // Every rule the plan named is gone, and nothing else of those mailboxes was deleted.
    for (const c of p.changes) {
      const mailbox = decodeURIComponent(/^\/users\/([^/]+)\//.exec((c.write as { path: string }).path)![1]!);
      expect(s.tenant.inboxRules.list(mailbox).map((x) => x['id'])).not.toContain(c.resource.id);
    }
    // The target the preflight read is the before-value each change records: the rule as planned.
    const records = trailRecords(readFileSync(evidence, 'utf8'));
    const recorded = records.filter((x) => x.kind === 'change') as Array<EvidenceRecord & { findingId: string; before: unknown; result: string }>;
    expect(recorded.map((x) => [x.findingId, x.result, x.before])).toEqual(p.changes.map((c) => [c.findingId, 'applied', c.before]));
    expect(records.filter((x) => x.kind === 'intent').map((x) => (x as { findingId?: string }).findingId)).toEqual(p.changes.map((c) => c.findingId));
  });

  it('refuses a plan whose target changed since it was made, and writes nothing', async () => {
    const s = await generated();
    const { file, plan: p } = await plan(s);
    const c = p.changes[Math.floor(p.changes.length / 2)]!;
    const mailbox = decodeURIComponent(/^\/users\/([^/]+)\//.exec((c.write as { path: string }).path)![1]!);
    // The rule now forwards somewhere else: the plan was computed from what it was.
    expect(s.tenant.inboxRules.update(mailbox, String(c.resource.id), (rule) => ({ ...rule, actions: { forwardTo: [{ emailAddress: { name: 'y', address: 'elsewhere@exfil.example' } }] } }))).toBe(true);
    const from = s.requests.entries.length;
    const r = await apply(s, file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`posture apply: stale plan: inboxRule "${c.resource.name}" changed since ${c.readAt}; make a new plan`);
    expect(s.requests.entries.slice(from).filter((e) => e.method === 'DELETE' || (e.api === 'graph' && e.method !== 'GET' && !e.path.includes('$batch')))).toEqual([]);
    expect(s.tenant.inboxRules.list(mailbox).map((x) => x['id'])).toContain(c.resource.id);
  });

  it('refuses a plan when what its rails judge by changed since it was made: a break-glass account replaced', async () => {
    const s = await startSimulator({ scenario: driftedCore() });
    sims.push(s);
    const { file, plan: p } = await plan(s);
    expect(p.changes.some((c) => c.resource.type === 'conditionalAccessPolicy')).toBe(true);
    // The break-glass account is deleted and made again: same name, a new object id, which no policy excludes.
    const [bg] = s.tenant.graph.users.findBy('userPrincipalName', 'bg-alpha@tailspintoys.example');
    s.tenant.graph.users.remove(String(bg!['id']));
    s.tenant.graph.users.insert({ ...bg!, id: '0b5e7c1a-0000-4000-8000-0000000000bb' });
    await new Promise((r) => setTimeout(r, 1100));
    const from = s.requests.entries.length;
    const r = await apply(s, file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/posture apply: .*(break-glass|not the one the posture calls for|stale plan)/);
    const log = s.requests.entries.slice(from);
    // The directory the rail judges by was read again; nothing was written.
    expect(log.some((e) => e.api === 'graph' && e.method === 'GET' && /^\/v1\.0\/users(\?|$)/.test(e.path))).toBe(true);
    expect(log.filter((e) => (e.api === 'graph' ? e.method !== 'GET' && !e.path.includes('$batch') : !/^Get-/.test(e.cmdlet ?? '')))).toEqual([]);
  });
});

describe('apply runs changes at once', () => {
  /** Applies a plan's changes in this process, recorded as `posture apply` records them, `concurrency` at once. */
  async function applyInProcess(s: RunningSimulator, p: PlanDocument, concurrency: number): Promise<EvidenceRecord[]> {
    const env = writer(s);
    const conn = connect({ tenant: s.tenantId, auth: 'token', graphUrl: s.graphUrl, exchangeUrl: s.exoUrl, timeoutMs: 30_000, env });
    const file = join(tmp(), 'evidence.jsonl');
    const trail = EvidenceTrail.open(file);
    const actor: EvidenceActor = { kind: 'application', id: 'apply-test' };
    const recorder = applyRecorder(trail, 'run', actor);
    recorder.start(p);
    const outcomes = await applyChanges(p, conn, { beforeWrite: (c, before) => recorder.intent(c, before), onChange: (o) => recorder.change(o) }, { concurrency });
    recorder.end(outcomes, outcomes.every((o) => o.result === 'applied') ? 0 : 1);
    const text = readFileSync(file, 'utf8');
    expect(verifyTrail(text).ok).toBe(true);
    return trailRecords(text);
  }

  /** A record without what differs from run to run: its place in the chain and its time. */
  const content = (r: EvidenceRecord) => {
    const { seq: _s, prev: _p, hash: _h, time: _t, intent: _i, ...rest } = r as EvidenceRecord & { intent?: number };
    return rest;
  };
  const rules = (s: RunningSimulator) => Object.fromEntries(s.tenant.inboxRules.users().sort().map((u) => [u, s.tenant.inboxRules.list(u)]));

  it('gives the tenant and the evidence trail one change at a time gives, in one order', async () => {
    const [a, b] = [await generated(), await generated()];
    const [pa, pb] = [(await plan(a)).plan, (await plan(b)).plan];
    // Two copies of one tenant: the same plan, read at two moments.
    const moment = ({ readAt: _r, ...c }: PlanDocument['changes'][number]) => c;
    expect(pb.changes.map(moment)).toEqual(pa.changes.map(moment));
    const sequential = await applyInProcess(a, pa, 1);
    const concurrent = await applyInProcess(b, pa, 8);
    expect(rules(b)).toEqual(rules(a));
    const of = (records: EvidenceRecord[], kind: string) => records.filter((r) => r.kind === kind).map(content);
    for (const kind of ['apply-start', 'intent', 'change', 'apply-end']) expect(of(concurrent, kind)).toEqual(of(sequential, kind));
    expect(of(concurrent, 'change').every((r) => (r as { result?: string }).result === 'applied')).toBe(true);
    // One at a time, each intent is followed by its outcome; eight at once, intents run eight ahead of outcomes.
    const kinds = (records: EvidenceRecord[]) => records.map((r) => r.kind[0]).join('');
    const n = pa.changes.length;
    expect(kinds(sequential)).toBe(`a${'ic'.repeat(n)}a`);
    expect(kinds(concurrent)).toBe(`a${'i'.repeat(8)}${'ci'.repeat(n - 8)}${'c'.repeat(8)}a`);
    // Each outcome points at its own change's intent.
    const bySeq = new Map(concurrent.map((r) => [r.seq, r]));
    for (const r of concurrent.filter((x) => x.kind === 'change')) {
      const intent = bySeq.get((r as { intent?: number }).intent!) as { findingId?: string } | undefined;
      expect(intent?.findingId).toBe((r as { findingId?: string }).findingId);
    }
  });
});
