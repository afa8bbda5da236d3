import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { sha256 } from '../core/hash.js';
import { canonicalJsonV1 } from '../core/json.js';
import { terminalSafe } from '../core/text.js';
import { newRunId } from '../evidence/recorder.js';
import { signIn } from '../input/connection.js';
import { InputError, loadSynthOutput } from '../input/synth-output.js';
import { probeExitCode } from '../probe/plan.js';
import { ProbeRefused, runProbe, type ProbeRun } from '../probe/run.js';
import { FAILURE_KIND_LABELS } from '../report/path-text.js';
import { actorOf, evidenceOption, openEvidence } from './evidence.js';
import { fail } from './fail.js';
import { createLogger, jsonLine } from './log.js';
import { dayOption, wholeNumberOption } from './options.js';
import { connectFrom, tenantOptions, type PlanArgs } from './plan.js';

type ProbeArgs = Pick<PlanArgs, 'synth-dir' | 'stack' | 'tenant' | 'auth' | 'graph-url' | 'exchange-url' | 'dns-server' | 'timeout' | 'max-retries' | 'log-format' | 'debug' | 'evidence' | 'today'> & {
  'smtp-port': number;
  helo: string;
  wait: number;
  'trace-interval': number;
  format: 'text' | 'json';
  'allow-private-mx': boolean;
};

/** A host name: labels of letters, digits and hyphens, dot-separated, at most 253 characters. */
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

const RESULT_TEXT = {
  confirmed: 'confirmed',
  delivered: 'DELIVERED (weaker than required)',
  excepted: 'delivered, under an exception',
  differs: 'differs from the map (acceptable)',
  'not-confirmed': 'NOT CONFIRMED',
} as const;

/** The run as text: a line per probe, then what was not probed and what kept the run from completing. */
export function probeText(run: ProbeRun): string {
  const out: string[] = [];
  const safe = (s: string) => terminalSafe(s);
  out.push(`Probed ${new Set(run.outcomes.map((o) => o.probe.path)).size} inbound path(s) with ${run.outcomes.length} test message(s):`);
  for (const o of run.outcomes) {
    const p = o.probe;
    out.push(
      `  ${safe(p.path)} via ${safe(p.host)}: ${p.kind} (${FAILURE_KIND_LABELS[p.failure]}) -> ${o.got ?? 'unknown'}; map says ${p.expected}, posture requires ${p.required}: ${RESULT_TEXT[o.result]}`,
    );
    if (o.smtp?.kind === 'rejected') out.push(`      rejected in the SMTP session: ${safe(o.smtp.response)}`);
    if (o.traceStatus) out.push(`      message trace: ${safe(o.traceStatus)} (${safe(p.messageId)})`);
    if (o.note) out.push(`      ${safe(o.note)}`);
  }
  for (const u of run.unprobed) out.push(`  ${safe(u.path)}: not probed: ${safe(u.reason)}`);
  if (run.problems.length) {
    out.push('', 'INCOMPLETE: the probe run cannot confirm every path:');
    for (const p of run.problems) out.push(`  - ${safe(p)}`);
  }
  return `${out.join('\n')}\n`;
}

/** `posture probe`: test messages that fail authentication, sent to each inbound path, and the disposition each got. */
export function probeCommand(setExit: (code: number) => void): CommandModule<object, ProbeArgs> {
  return {
    command: 'probe',
    describe: "Send test messages that fail authentication to each inbound path by SMTP and confirm in message trace that each got the path's disposition",
    builder: (y) =>
      evidenceOption(tenantOptions(y))
        .option('today', dayOption('today', 'Day used for exception expiry (YYYY-MM-DD)', true))
        .option('smtp-port', wholeNumberOption('smtp-port', { min: 1, max: 65535, default: 25, describe: 'Port of the MX hosts (25 on the internet)' }))
        .option('helo', { type: 'string', default: 'email-posture-probe.invalid', describe: 'The name the probe gives in EHLO' })
        .option('wait', wholeNumberOption('wait', { min: 0, max: 7200, unit: 'seconds', default: 900, describe: 'How long to wait for message trace to show each disposition' }))
        .option('trace-interval', wholeNumberOption('trace-interval', { min: 1, max: 600, unit: 'seconds', default: 30, describe: 'Seconds between two reads of message trace (it allows 100 requests in 5 minutes)' }))
        .option('format', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'The result as text or as JSON' })
        .option('allow-private-mx', { type: 'boolean', default: false, describe: 'Also send to MX hosts that resolve to private or loopback addresses (a lab, the simulator)' }) as never,
    handler: async (args) => {
      const log = createLogger(args['log-format']);
      try {
        if (!HOST_NAME.test(args.helo)) throw new InputError(`--helo ${JSON.stringify(args.helo)} is not a host name such as probe.contoso.example`);
        const input = loadSynthOutput(resolve(args['synth-dir']), args.stack);
        const paths = input.manifest.desired.inboundPaths;
        if (!paths) throw new InputError(`stack ${input.stack} declares no inbound paths: add InboundPaths to its posture`);
        if (!paths.probe) throw new InputError(`stack ${input.stack} declares no probe: set InboundPaths probe { recipient, outsideDomain } (a shared mailbox kept for probes, an outside domain with p=reject)`);
        const trail = openEvidence(args.evidence);
        const conn = connectFrom(args);
        const runId = newRunId();
        log.info(`probing the inbound paths of tenant ${conn.tenant} for stack ${input.stack} (${conn.tokens.description})`);
        await signIn(conn);
        const run = await runProbe(input.manifest, paths.probe, conn, {
          today: args.today ?? new Date().toISOString().slice(0, 10),
          runId,
          port: args['smtp-port'],
          helo: args.helo,
          timeoutMs: args.timeout * 1000,
          waitMs: args.wait * 1000,
          intervalMs: args['trace-interval'] * 1000,
          log: (l) => log.info(l),
          allowPrivate: args['allow-private-mx'],
        });
        const problems = [...run.problems, ...run.outcomes.filter((o) => o.result === 'not-confirmed').map((o) => `${o.probe.kind} to ${o.probe.path} via ${o.probe.host}: ${o.note ?? 'no disposition seen'}`)];
        const code = probeExitCode(run.outcomes.map((o) => o.result), run.problems);
        process.stdout.write(args.format === 'json' ? `${jsonLine({ format: 'email-posture-probe', runId, tenantId: conn.tenant, stack: input.stack, ...run, problems, exitCode: code }, 2)}\n` : probeText({ ...run, problems }));
        if (trail) {
          trail.append({
            kind: 'probe', runId, actor: await actorOf(conn), desiredHash: sha256(canonicalJsonV1(input.manifest)), tenantId: conn.tenant, stack: input.stack,
            probes: run.outcomes.map((o) => ({
              path: o.probe.path, host: o.probe.host, probe: o.probe.kind, messageId: o.probe.messageId, failure: o.probe.failure,
              expected: o.probe.expected, required: o.probe.required, ...(o.got ? { got: o.got } : {}), result: o.result,
            })),
            exitCode: code,
          });
        }
        setExit(code);
      } catch (err) {
        fail(err instanceof ProbeRefused ? new InputError(err.message) : err, args.debug, 'probe');
        setExit(1);
      }
    },
  };
}
