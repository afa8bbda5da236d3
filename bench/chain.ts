/**
 * Phishing chain benchmark. Writes bench/results/chain.json.
 *
 * The `phish-invite` scenario grown to 60,000 generated users and mailboxes (the scenario's own
 * users, the Defender alert, the 40 analyzed copies of the phish and the calendars with its invites
 * stay as they are), behind the simulator's default limits and 50 ms latency. `posture respond
 * --auto-approve` runs twice in its own process, each against a fresh simulator: once as it is (the
 * recipients' calendars are read) and once with `--sweep-calendars` (every user's calendar is read,
 * which finds the outside invite to colleagues the message did not reach). Reported per run: wall
 * time, requests by class, 429s, the chain as the plan shows it (recipients, invites and their
 * copies, writes planned) and the chain's writes the tenant took, when the big reads and the
 * containment ran, peak RSS, and the ratio to the floor the limits set, the largest of:
 *
 *   security   ceil((S − 150) ÷ 150) × 60 s, S the requests to `/security` (150 a minute: every one
 *              beyond the first window's 150 waits its turn);
 *   global     G ÷ 2,000 s, G every Graph request ($batch and each of its items);
 *   mailbox    for the mailbox most requested (M requests, Outlook class): the larger of
 *              ceil((M − 10,000) ÷ 10,000) × 600 s (10,000 per 10 minutes) and ceil(M ÷ 4) × latency
 *              (4 at a time);
 *   latency    one latency.
 *
 * Targets: zero failed reads, the chain traced whole (the sweep also finds the outside invite),
 * every planned write of it applied, no 429 beyond those the security limit forces, peak RSS under
 * 500 MB.
 *
 * Run: npm run bench:chain [-- --users 60000 --latency 50]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResponsePlan } from '../reconciler/respond/run.js';
import { DEFAULT_LIMITS, ROLE_IDS, startSimulator, type RequestLogEntry } from '../simulator/index.js';
import { ATTACKER_INVITE, CLICKER, OUTSIDE_INVITE, PHISH, SWEEP_ONLY } from '../simulator/scenario/phish-invite.js';
import { arg, fixed2, machine, synthesizedPostures, tenantArgs, tenantEnv, timedPosture, writeResult } from './lib.js';

const users = arg('users', 60_000);
const latencyMs = arg('latency', 50);
const { work, synthDir } = synthesizedPostures('posture-bench-chain-');
const limits = DEFAULT_LIMITS;

/** The mailbox an Outlook-class request is about (`/users/{id}/events…`, `/users/{id}/mailFolders…`), if it is one. */
const mailboxOf = (e: RequestLogEntry): string | undefined => /^\/?(?:v1\.0\/|beta\/)?users\/([^/?]+)\/(?:events|calendar|mailFolders|messages)/i.exec(e.path)?.[1]?.toLowerCase();
const isSecurity = (e: RequestLogEntry) => /^\/?(?:v1\.0\/|beta\/)?security\//i.test(e.path);
const isBatch = (e: RequestLogEntry) => e.batch === undefined && /\/\$batch\b/.test(e.path);
/** A write of the chain's containment the tenant took: a purge of one copy, a cancel or delete of one invite copy. */
const isChainWrite = (e: RequestLogEntry) => e.api === 'graph' && e.status < 300 && ((e.method === 'POST' && /analyzedEmails\/remediate$/.test(e.path)) || (e.method === 'POST' && /\/events\/[^/?]+\/cancel$/.test(e.path)) || (e.method === 'DELETE' && /\/events\/[^/?]+$/.test(e.path)));

async function measure(sweep: boolean) {
  const sim = await startSimulator({ scenario: 'phish-invite', generate: { mailboxes: users }, limits: { latencyMs } });
  // Generating onto the scenario keeps its own objects: check the chain is all there before timing it.
  const copies = sim.tenant.graph.analyzedEmails.findBy('networkMessageId', PHISH.networkMessageId).length;
  const alert = [...sim.tenant.graph.alerts.values()].filter((a) => JSON.stringify(a['evidence'] ?? []).includes(PHISH.networkMessageId)).length;
  const invite = sim.tenant.calendarEvents.list(CLICKER.id).filter((e) => e['iCalUId'] === ATTACKER_INVITE.iCalUId).length;
  const outside = SWEEP_ONLY.filter((u) => sim.tenant.calendarEvents.list(u.id).some((e) => e['iCalUId'] === OUTSIDE_INVITE.iCalUId)).length;
  if (copies !== 40 || alert !== 1 || invite !== 1 || outside !== SWEEP_ONLY.length) throw new Error(`the generated tenant lost the chain: ${copies} copies, ${alert} alert, ${invite} invite, ${outside} outside invites`);
  const directory = sim.tenant.graph.users.size;

  const planFile = join(work, `response-${sweep ? 'sweep' : 'default'}.json`);
  const now = sim.clock.now();
  // The scenario's signals are from its own day: read them from a day before its clock.
  const since = new Date(Date.parse(now) - 24 * 3_600_000).toISOString();
  const before = sim.requests.entries.length;
  const run = await timedPosture(
    ['respond', ...tenantArgs(sim, synthDir), '--since', since, '--now', now, '--auto-approve', '--out', planFile, '--log-format', 'json', '--evidence', join(work, `evidence-${sweep ? 'sweep' : 'default'}.jsonl`), ...(sweep ? ['--sweep-calendars'] : [])],
    tenantEnv(sim, ROLE_IDS.exchangeAdministrator),
  );
  const started = run.spawnedAt;
  const log = sim.requests.entries.slice(before);
  await sim.stop();

  const graph = log.filter((e) => e.api === 'graph');
  const security = graph.filter(isSecurity);
  const batches = graph.filter(isBatch);
  const mailbox = graph.filter((e) => mailboxOf(e) !== undefined);
  const perMailbox = new Map<string, number>();
  for (const e of mailbox) perMailbox.set(mailboxOf(e)!, (perMailbox.get(mailboxOf(e)!) ?? 0) + 1);
  const busiest = Math.max(0, ...perMailbox.values());
  const floors = {
    security: Math.max(0, Math.ceil((security.length - limits.securityPerMinute) / limits.securityPerMinute)) * 60,
    global: graph.length / limits.appPerSecond,
    mailbox: Math.max(Math.max(0, Math.ceil((busiest - limits.mailboxPer10Minutes) / limits.mailboxPer10Minutes)) * 600, (Math.ceil(busiest / limits.mailboxConcurrency) * latencyMs) / 1000),
    latency: latencyMs / 1000,
  };
  const floorSeconds = Math.max(...Object.values(floors));

  let plan: ResponsePlan | undefined;
  try {
    plan = JSON.parse(readFileSync(planFile, 'utf8')) as ResponsePlan;
  } catch {
    /* no plan: the run failed before writing it (its stderr is printed) */
  }
  const chain = plan?.chains?.[0];
  const writesPlanned = (action: string) => (chain?.actions ?? []).filter((a) => a.action === action && a.disposition === 'automatic').reduce((n, a) => n + a.writes, 0);
  const applied = log.filter(isChainWrite);
  const throttled = log.filter((e) => e.status === 429);
  // When, from the start of the run, the big reads and the containment happened (seconds): what the wall time is made of.
  const span = (xs: RequestLogEntry[]) => (xs.length ? [fixed2((xs[0]!.time - started) / 1000), fixed2((xs.at(-1)!.time - started) / 1000)] : null);
  const timeline = {
    inboxRules: span(log.filter((e) => e.batch !== undefined && /\/mailFolders\/inbox\/messageRules/.test(e.path))),
    calendars: span(log.filter((e) => e.batch !== undefined && /\/events\?/.test(e.path))),
    containment: span(applied),
  };
  return {
    run,
    result: {
      sweepCalendars: sweep,
      directoryUsers: directory,
      exitCode: run.code,
      failedReads: plan ? plan.incomplete.length : null,
      chain: chain
        ? {
            recipients: chain.message?.recipients ?? 0,
            invites: chain.invites.map((i) => ({ subject: i.subject, organizerKind: i.organizerKind, copies: i.copies })),
            inviteCopies: chain.invites.reduce((n, i) => n + i.copies, 0),
            leftAlone: chain.leftAlone.length,
            openBefore: { messages: chain.open.messages.length, invites: chain.open.invites.length },
            writesPlanned: { purgeMessage: writesPlanned('purgeMessage'), removeInvites: writesPlanned('removeInvites') },
            writesApplied: {
              purge: applied.filter((e) => e.path.endsWith('/remediate')).length,
              cancel: applied.filter((e) => e.path.endsWith('/cancel')).length,
              delete: applied.filter((e) => e.method === 'DELETE').length,
            },
            trace: chain.trace.map((t) => `${t.source}: ${t.found}`),
          }
        : null,
      chains: plan?.chains?.length ?? 0,
      wallSeconds: fixed2(run.wallSeconds),
      requests: {
        total: log.length,
        graph: graph.length,
        security: security.length,
        mailboxItems: mailbox.length,
        batches: batches.length,
        otherGraph: graph.length - security.length - mailbox.length - batches.length,
        exchange: log.filter((e) => e.api === 'exchange').length,
        busiestMailbox: busiest,
        throttled429: { total: throttled.length, security: throttled.filter(isSecurity).length, mailbox: throttled.filter((e) => mailboxOf(e) !== undefined).length },
      },
      floorSeconds: fixed2(floorSeconds),
      floorBy: Object.fromEntries(Object.entries(floors).map(([k, v]) => [k, fixed2(v)])),
      ratioToFloor: fixed2(run.wallSeconds / floorSeconds),
      timelineSeconds: timeline,
      peakRssMb: run.peakRssMb,
    },
  };
}

const first = await measure(false);
const second = await measure(true);
const result = {
  benchmark: 'chain',
  date: new Date().toISOString(),
  machine: machine(),
  setup: { users, latencyMs, scenario: 'phish-invite', limits: 'simulator defaults (Microsoft published values)' },
  runs: { default: first.result, sweep: second.result },
  targets: { failedReads: 0, peakRssMb: 500 },
};
writeResult('chain', result, first.run.code !== 0 && first.run.code !== 2 ? first.run : second.run);
