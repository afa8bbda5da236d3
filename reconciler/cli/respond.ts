import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { CommandModule } from 'yargs';
import { terminalSafe } from '../core/text.js';
import type { ChangeEvidenceRecord, EvidenceRecord, RecordedIncident, ResponseEvidenceRecord } from '../evidence/records.js';
import type { ChainView } from '../model/chain.js';
import { trailRecords } from '../evidence/verify.js';
import { signIn } from '../input/connection.js';
import { InputError, loadSynthOutput } from '../input/synth-output.js';
import type { Confidence } from '../manifest/response.js';
import { describeChange, type PlannedChange } from '../model/change.js';
import type { Identity, Incident, Placement } from '../respond/decide.js';
import { planResponse, type ChainStart, type PlannedIncident, type ResponsePlan } from '../respond/run.js';
import { renderResponseHtml, renderResponseHuman, renderResponseMarkdown } from '../report/response.js';
import { NETWORK_MESSAGE_ID, signalFileSchema, signalKey, type Signal, type SignalFile } from '../respond/signals.js';
import { SETTLED_REASONS } from '../respond/decide.js';
import { DEFAULT_BREAKER_WINDOW_HOURS } from '../manifest/response.js';
import { readJsonFile } from '../input/json-file.js';
import { evidenceOption } from './evidence.js';
import { fail } from './fail.js';
import { createLogger, printable } from './log.js';
import { connectFrom, tenantOptions, type PlanArgs } from './plan.js';
import { applyRecorded, openRun, recordRefusal, type OpenRun, type RecordedApply } from './run.js';
import type { Connection } from '../input/connection.js';
import type { Manifest } from '../manifest/schema.js';
import { ApplyRefused } from '../apply/apply.js';
import { sha256 } from '../core/hash.js';
import { checkApproval } from '../respond/approve.js';

export interface RespondArgs extends Omit<PlanArgs, 'format' | 'out' | 'today'> {
  signals: string[];
  message: string[];
  'sweep-calendars': boolean;
  since?: string;
  now?: string;
  out?: string;
  markdown?: string;
  html?: string;
  'auto-approve': boolean;
}

/** A signal file named with --signals: the versioned schema, or one message naming the file and the field. */
function readSignalFile(file: string): SignalFile {
  const parsed = signalFileSchema.safeParse(readJsonFile(file));
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new InputError(`${file}: not an email-posture signal file (${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}); see docs/respond.md for the format`);
}

/**
 * The trail's response records of this tenant and stack, oldest first, and the incidents whose
 * automatic actions did not all take in the last run that acted on them (a write failed, or the run
 * stopped before it): the next run acts on those again.
 */
function responses(
  run: OpenRun,
  tenant: string,
  stack: string,
  policy: { readonly watchlist?: { readonly days: number }; readonly circuitBreaker: { readonly windowHours?: number } },
  now: Date,
): { earlier: ResponseEvidenceRecord[]; unfinished: Set<string>; watchesEnded: Array<{ id: string; upn: string; since: string }>; recentlyActedOn: string[] } {
  if (!run.trail || !existsSync(run.trail.path)) return { earlier: [], unfinished: new Set(), watchesEnded: [], recentlyActedOn: [] };
  const records = trailRecords(readFileSync(run.trail.path, 'utf8'));
  const earlier = records.filter((r): r is ResponseEvidenceRecord => r.kind === 'response' && r.tenantId.toLowerCase() === tenant.toLowerCase() && r.stack === stack && r.exitCode !== 1);
  const unfinished = new Set<string>();
  for (const r of earlier) {
    const notTaken = new Set(records.filter((c): c is ChangeEvidenceRecord => c.kind === 'change' && c.runId === r.runId && c.result !== 'applied').map((c) => c.findingId));
    const started = records.some((c) => c.kind === 'apply-start' && c.runId === r.runId);
    for (const i of r.incidents) {
      const automatic = i.actions.filter((a) => a.disposition === 'automatic' && a.writes > 0);
      if (automatic.some((a) => notTaken.has(a.decisionId)) || (automatic.length > 0 && !started)) unfinished.add(i.id);
      else unfinished.delete(i.id);
    }
  }
  // Each decision of a run, by its id: the identity it was about, and whether it ran automatically.
  // Keyed by run and decision: a later run deciding the same action otherwise (held back) does not hide what an earlier one did.
  const decided = new Map<string, { identity: { id: string; upn: string }; automatic: boolean; ranAt: string }>();
  for (const r of earlier) {
    for (const i of r.incidents) for (const a of i.actions) decided.set(`${r.runId}\u0000${a.decisionId}`, { identity: i.identity, automatic: a.disposition === 'automatic', ranAt: r.ranAt ?? r.time });
  }
  const runs = new Set(earlier.map((r) => r.runId));
  const applied = records.filter((c): c is ChangeEvidenceRecord => c.kind === 'change' && c.result === 'applied' && runs.has(c.runId));
  // Watches respond started and has not ended: the newest start per user, ended once watchlist.days have passed.
  const watching = new Map<string, { id: string; upn: string; since: string }>();
  for (const c of applied) {
    const d = decided.get(`${c.runId}\u0000${c.findingId}`);
    if (c.control === 'respond.watchlist' && d) watching.set(d.identity.id.toLowerCase(), { id: d.identity.id, upn: d.identity.upn, since: d.ranAt });
    else if (c.control === 'respond.unwatch' && typeof c.resource.id === 'string') watching.delete(c.resource.id.toLowerCase());
  }
  const days = policy.watchlist?.days;
  const watchesEnded = days === undefined ? [] : [...watching.values()].filter((w) => now.getTime() - Date.parse(w.since) >= days * 86_400_000);
  // The circuit breaker's rolling window: identities an automatic action of a run within it acted on.
  const windowMs = (policy.circuitBreaker.windowHours ?? DEFAULT_BREAKER_WINDOW_HOURS) * 3_600_000;
  const recentlyActedOn = [
    ...new Set(
      applied.flatMap((c) => {
        const d = decided.get(`${c.runId}\u0000${c.findingId}`);
        const at = d ? Date.parse(d.ranAt) : NaN;
        // A run dated after this one (another runner's clock ahead), or at a time that cannot be read, counts too: the breaker errs on the side of holding back.
        return d && d.automatic && (Number.isNaN(at) || now.getTime() - at < windowMs) ? [d.identity.id.toLowerCase()] : [];
      }),
    ),
  ];
  return { earlier, unfinished, watchesEnded, recentlyActedOn };
}

/**
 * Incidents of earlier runs that a signal read now could join or repeat (their last signal no more
 * than a window before `since`), each as its latest record has it: they continue, and their signals
 * do not count twice.
 */
function openIncidents(earlier: readonly ResponseEvidenceRecord[], unfinished: ReadonlySet<string>, windowHours: number, since: string): (identities: readonly Identity[]) => Incident[] {
  const latest = new Map<string, RecordedIncident>();
  for (const r of earlier) for (const i of [...r.incidents, ...r.protected]) latest.set(i.id, i);
  return (identities) =>
    [...latest.values()]
      .filter((i) => Date.parse(i.lastSignalAt) >= Date.parse(since) - windowHours * 3_600_000)
      .map((i) => ({
        id: i.id,
        identity: identities.find((x) => x.id.toLowerCase() === i.identity.id.toLowerCase()) ?? { id: i.identity.id, upn: i.identity.upn, roles: [], groups: [] },
        placement: i.tier as Placement,
        confidence: i.confidence,
        signals: i.signals.map((s) => ({ signal: { source: s.source as never, id: s.id, ...(s.version !== undefined ? { version: s.version } : {}), observedAt: s.observedAt, subjects: [], title: s.title, match: {} }, confidence: s.confidence as Confidence, rule: s.rule })),
        openedAt: i.openedAt,
        lastSignalAt: i.lastSignalAt,
        fresh: unfinished.has(i.id) ? 1 : 0,
      }));
}

const recorded = (i: PlannedIncident): RecordedIncident => ({ ...i, identity: { id: i.identity.id, upn: i.identity.upn } });

/**
 * Chains earlier runs traced and did not find contained (a copy of the message or an invite still
 * where a user reads it, as the latest run that traced it read it, or an automatic write of it that
 * did not take): this run traces them again, and so on until one finds nothing left.
 */
function openChains(earlier: readonly ResponseEvidenceRecord[], records: readonly EvidenceRecord[]): ChainStart[] {
  const latest = new Map<string, { chain: ChainView; runId: string }>();
  for (const r of earlier) for (const c of r.chains ?? []) latest.set(c.id, { chain: c, runId: r.runId });
  const out: ChainStart[] = [];
  for (const { chain: c, runId } of latest.values()) {
    // The trail is read as hostile as any input: a chain whose message id is not one is not traced again.
    if (c.notTraced !== undefined || typeof c.networkMessageId !== 'string' || !NETWORK_MESSAGE_ID.test(c.networkMessageId) || !Array.isArray(c.actions) || !c.open) continue;
    const automatic = c.actions.filter((a) => a.disposition === 'automatic' && a.writes > 0).map((a) => a.decisionId);
    const applied = new Set(records.filter((x): x is ChangeEvidenceRecord => x.kind === 'change' && x.runId === runId && x.result === 'applied').map((x) => x.findingId));
    const stillOpen = c.open.messages.length + c.open.invites.length + (c.open.evidence?.length ?? 0) > 0;
    if (stillOpen || automatic.some((d) => !applied.has(d))) out.push({
        networkMessageId: c.networkMessageId,
        confidence: (['high', 'medium', 'low'] as const).find((x) => x === c.confidence) ?? 'low',
        startedBy: Array.isArray(c.startedBy) ? c.startedBy.filter((x): x is string => typeof x === 'string') : [],
        accounts: Array.isArray(c.accounts) ? c.accounts.filter((a) => typeof a?.upn === 'string' && typeof a.role === 'string') : [],
      });
  }
  return out;
}

async function confirm(n: number): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(`\nRun the ${n} automatic write${n === 1 ? '' : 's'} now? Only 'yes' will be accepted: `)).trim() === 'yes';
  } finally {
    rl.close();
  }
}

/** What one tenant's respond run came to: its response plan, whether its automatic writes were approved, what they did, and the exit code `posture respond` gives. */
export interface RespondOutcome {
  readonly plan: ResponsePlan;
  readonly approved: boolean;
  readonly applied?: RecordedApply;
  /** 0: nothing waits; 2: writes wait for approval (or the automatic ones were not approved); 1: a read was incomplete or a write failed. */
  readonly code: 0 | 1 | 2;
}

/**
 * The one composition of a respond run of one tenant, signed in, its run open (lock and trail):
 * the trail's state (cursor, open incidents and chains, the circuit breaker's window), the
 * response plan, the decision to run the automatic writes (`approve`, asked only when there are
 * any and everything was read), the run on record before any write, then the writes, verified and
 * recorded. `posture respond` and `posture fleet respond` both run it.
 */
export async function respondTenant(o: {
  manifest: Manifest;
  stack: string;
  conn: Connection;
  run: OpenRun;
  files: readonly SignalFile[];
  messages: readonly string[];
  sweepCalendars: boolean;
  now: Date;
  since?: string;
  approve: (writes: number) => Promise<boolean>;
  /** Called with the plan before it is recorded and acted on (to save or show it). */
  planned?: (plan: ResponsePlan) => void;
  /** Where each applied write's line goes. @default stdout */
  out?: NodeJS.WritableStream;
}): Promise<RespondOutcome> {
  const { run, conn } = o;
  const policy = o.manifest.desired.response;
  if (!policy) throw new InputError(`stack ${o.stack} declares no response policy: add an IncidentResponse to its posture`);
  const { earlier, unfinished, watchesEnded, recentlyActedOn } = responses(run, conn.tenant, o.stack, policy, o.now);
  // From the newest signal the last run read, less one window (alerts can arrive after later ones); else the look-back.
  const cursor = earlier.at(-1)?.window.until;
  const since = o.since ? new Date(o.since).toISOString() : cursor ? new Date(Date.parse(cursor) - policy.windowHours * 3_600_000).toISOString() : new Date(o.now.getTime() - policy.lookbackHours * 3_600_000).toISOString();
  // Signals set aside for a reason that holds at their version (not one outside the window): not reported again.
  // And every signal an earlier incident holds, at its version: an alert read again because only its status changed
  // (an analyst took it) is nothing new, however long ago its incident closed.
  const key = (x: { source: string; id: string; version?: string }) => signalKey({ source: x.source as Signal['source'], id: x.id, ...(x.version !== undefined ? { version: x.version } : {}) });
  const seen = new Set([
    ...earlier.flatMap((r) => r.setAside.filter((x) => (SETTLED_REASONS as readonly string[]).includes(x.reason)).map(key)),
    // (A finding is a state, not an event: one still there after its incident closed is judged again.)
    ...earlier.flatMap((r) => [...r.incidents, ...r.protected].flatMap((i) => i.signals.filter((x) => x.source !== 'finding').map(key))),
  ]);
  const chains = [...openChains(earlier, run.trail && existsSync(run.trail.path) ? trailRecords(readFileSync(run.trail.path, 'utf8')) : []), ...o.messages.map((m) => ({ networkMessageId: m.toLowerCase(), confidence: 'high' as const, startedBy: ['command-line'] }))];
  const plan = await planResponse({ manifest: o.manifest, conn, since, now: o.now, files: [...o.files], open: openIncidents(earlier, unfinished, policy.windowHours, since), seen, recentlyActedOn, watchesEnded, chains, sweepCalendars: o.sweepCalendars, ...(cursor ? { cursor } : {}) });
  const incomplete = plan.incomplete.length > 0;
  const approved = plan.changes.length > 0 && !incomplete && (await o.approve(plan.changes.length));
  const record = (exitCode: number) =>
    run.trail?.append({
      kind: 'response',
      runId: run.runId,
      actor: run.actor,
      planHash: plan.planHash,
      desiredHash: plan.desiredHash,
      tenantId: plan.tenantId,
      stack: plan.stack,
      window: plan.window,
      incidents: plan.incidents.map(recorded),
      protected: plan.protected.map(recorded),
      chains: plan.chains ?? [],
      setAside: plan.setAside,
      ranAt: plan.createdAt,
      ...(plan.circuitBreaker ? { circuitBreaker: plan.circuitBreaker } : {}),
      changes: plan.changes.length,
      approvals: plan.approvals.length,
      exitCode,
    });
  o.planned?.(plan);
  if (incomplete) {
    record(1);
    return { plan, approved: false, code: 1 };
  }
  let code: 0 | 1 | 2 = plan.approvals.length > 0 || (plan.changes.length > 0 && !approved) ? 2 : 0;
  // The plan is on record before any of its writes.
  record(code);
  if (!approved) return { plan, approved, code };
  const applied = await applyRecorded({ planHash: plan.planHash, desiredHash: plan.desiredHash, tenantId: plan.tenantId, stack: plan.stack, changes: plan.changes }, conn, run, 'respond', o.out);
  if (applied.code) code = 1;
  return { plan, approved, applied, code };
}

/**
 * `posture respond`: reads the signals since the last run, turns them into incidents, and acts as
 * the posture's response policy says: the automatic actions now (with --auto-approve), each verified
 * and recorded; the rest saved for a person to approve.
 */
export function respondCommand(setExit: (code: number) => void): CommandModule<object, RespondArgs> {
  return {
    command: 'respond',
    describe: 'Turn mail and identity signals into incidents and act as the response policy declares',
    builder: (y) =>
      evidenceOption(tenantOptions(y))
        .option('signals', { type: 'array', string: true, default: [] as string[], describe: 'Signal file(s) of other tools (schema email-posture/signals@1)' })
        .option('since', { type: 'string', describe: 'Read signals observed from this time (ISO 8601) instead of from the last run' })
        .option('sweep-calendars', { type: 'boolean', default: false, describe: "Search every user's calendar for a chain's invites, not only its recipients' (one request per mailbox, paced)" })
        .option('message', { type: 'array', string: true, default: [] as string[], describe: 'Trace and contain the phishing chain of this message (its network message id), as a high-confidence signal' })
        .option('out', { type: 'string', describe: 'Save the response plan as JSON' })
        .option('markdown', { type: 'string', describe: 'Write the response as Markdown to this file' })
        .option('html', { type: 'string', describe: 'Write the response as one HTML page to this file' })
        .option('auto-approve', { type: 'boolean', default: false, describe: "Run the automatic actions without asking for 'yes'" })
        .option('now', { type: 'string', hidden: true, describe: 'The time taken as now, for the look-back and the end of watches (ISO 8601; default: the clock)' })
        .option('color', { type: 'boolean', default: false, hidden: true }) as never,
    handler: async (args) => {
      const log = createLogger(args['log-format']);
      let run: OpenRun | undefined;
      try {
        if (args.since !== undefined && Number.isNaN(Date.parse(args.since))) throw new InputError(`--since ${JSON.stringify(args.since)} is not an ISO 8601 time such as 2026-11-16T09:00:00Z`);
        if (args.since !== undefined && Date.parse(args.since) > Date.parse(args.now ?? new Date().toISOString())) throw new InputError(`--since ${JSON.stringify(args.since)} is in the future: nothing observed yet could be read`);
        if (args.now !== undefined && Number.isNaN(Date.parse(args.now))) throw new InputError(`--now ${JSON.stringify(args.now)} is not an ISO 8601 time such as 2026-11-30T09:00:00Z`);
        const files = args.signals.map(readSignalFile);
        for (const m of args.message) if (!NETWORK_MESSAGE_ID.test(m)) throw new InputError(`--message ${JSON.stringify(m)} is not a network message id (a GUID such as 6f1c2a4e-0b7d-4c5e-9a31-2d8e7f6b5c40)`);
        const input = loadSynthOutput(resolve(args['synth-dir']), args.stack);
        const policy = input.manifest.desired.response;
        if (!policy) throw new InputError(`stack ${input.stack} declares no response policy: add an IncidentResponse to its posture`);
        const conn = connectFrom(args);
        run = await openRun({ conn, evidence: args.evidence, log });
        log.info(`reading signals of tenant ${conn.tenant} for stack ${input.stack} (${conn.tokens.description})`);
        await signIn(conn);
        const outcome = await respondTenant({
          manifest: input.manifest, stack: input.stack, conn, run, files, messages: args.message, sweepCalendars: args['sweep-calendars'],
          now: args.now ? new Date(args.now) : new Date(),
          ...(args.since ? { since: args.since } : {}),
          approve: async (n) => args['auto-approve'] || (process.stdin.isTTY === true && (await confirm(n))),
          planned: (plan) => {
            if (args.out) {
              mkdirSync(dirname(resolve(args.out)), { recursive: true });
              writeFileSync(args.out, `${JSON.stringify(plan, null, 2)}\n`);
            }
            if (plan.incomplete.length) return;
            process.stdout.write(printable(renderResponseHuman(plan)));
            if (args.markdown) writeFileSync(args.markdown, renderResponseMarkdown(plan));
            if (args.html) writeFileSync(args.html, renderResponseHtml(plan));
          },
        });
        const { plan } = outcome;
        if (plan.incomplete.length) throw new InputError(`the signals or the directory could not be read completely, so nothing was acted on. Could not read:\n${plan.incomplete.map((i) => `  - ${i.what} (${i.endpoint}): ${i.error}`).join('\n')}`);
        if (outcome.applied) process.stdout.write(printable(outcome.applied.summary));
        else if (plan.changes.length) process.stdout.write(`The automatic actions were not run: pass --auto-approve, or answer 'yes' at a terminal.\n`);
        const code = outcome.code;
        if (run.trail) log.info(`recorded as run ${run.runId} in ${relative(process.cwd(), run.trail.path) || run.trail.path}`);
        setExit(code);
      } catch (err) {
        fail(err, args.debug, 'respond');
        setExit(1);
      } finally {
        await run?.lock.release();
      }
    },
  };
}

/**
 * `posture apply RESPONSE-PLAN`: a person approves the writes a respond run left for approval. The
 * plan is checked against its run on the evidence trail and read again from the tenant before
 * anything is written; each write is verified and recorded as an apply run.
 */
export async function applyResponsePlan(
  file: string,
  plan: ResponsePlan,
  args: Pick<PlanArgs, 'synth-dir' | 'stack' | 'tenant' | 'auth' | 'graph-url' | 'exchange-url' | 'dns-server' | 'timeout' | 'max-retries' | 'log-format' | 'evidence'> & { 'auto-approve': boolean; 'max-changes': number },
  confirmWrites: (changes: readonly PlannedChange[]) => Promise<boolean>,
): Promise<number> {
  const log = createLogger(args['log-format']);
  const input = loadSynthOutput(resolve(args['synth-dir']), args.stack ?? (typeof plan.stack === 'string' ? plan.stack : undefined));
  const conn = connectFrom(args);
  const run = await openRun({ conn, evidence: args.evidence, log });
  try {
    const attempt = { command: 'apply' as const, tenantId: conn.tenant, stack: input.stack, ...(typeof plan.planHash === 'string' && /^[0-9a-f]{64}$/.test(plan.planHash) ? { planHash: plan.planHash } : {}), planFile: { path: file, sha256: sha256(readFileSync(file)) }, ...(Array.isArray(plan.approvals) ? { changes: plan.approvals.length } : {}) };
    let changes: PlannedChange[];
    try {
      if (!run.trail) throw new ApplyRefused('a response plan is checked against the evidence trail its run was recorded in: name it with --evidence FILE', 'evidence');
      log.info(`reading tenant ${conn.tenant} for stack ${input.stack} (${conn.tokens.description})`);
      await signIn(conn);
      const records = existsSync(run.trail.path) ? trailRecords(readFileSync(run.trail.path, 'utf8')) : [];
      changes = await checkApproval(plan, { manifest: input.manifest, conn, records, maxChanges: args['max-changes'] });
      if (changes.length === 0) {
        process.stdout.write('No writes wait for approval in this response plan.\n');
        return 0;
      }
      process.stdout.write(printable(`${changes.length} response write${changes.length === 1 ? '' : 's'} to approve:\n${changes.map((c) => `  ${terminalSafe(describeChange(c))}`).join('\n')}\n`));
      const approved = args['auto-approve'] || (process.stdin.isTTY === true && (await confirmWrites(changes)));
      if (!approved) throw new ApplyRefused(process.stdin.isTTY ? 'not applied: the answer was not "yes"' : "not applied: confirm with 'yes' at a terminal, or pass --auto-approve", 'not-approved');
    } catch (err) {
      if (err instanceof ApplyRefused) recordRefusal(run, err, attempt, log);
      throw err;
    }
    const applied = await applyRecorded({ planHash: plan.planHash, desiredHash: plan.desiredHash, tenantId: plan.tenantId, stack: plan.stack, changes }, conn, run, 'apply');
    process.stdout.write(printable(applied.summary));
    if (run.trail && applied.ended) log.info(`recorded as run ${run.runId} in ${relative(process.cwd(), run.trail.path) || run.trail.path}`);
    return applied.code;
  } finally {
    await run.lock.release();
  }
}
