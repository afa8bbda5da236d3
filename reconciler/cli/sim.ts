import type { CommandModule } from 'yargs';
import { isLoopbackHost } from '../input/connection.js';
import { numberOption, UsageError, wholeNumberOption } from './options.js';
import {
  ALL_GRAPH_PERMISSIONS, BUILT_IN_SCENARIOS, CLI_FAULT_KINDS, EXCHANGE_AUDIENCE, LIMIT_NAMES, mintToken, parseFault, parseLimit, ROLE_IDS, SettingsError, startSimulator,
  type FaultRule, type Limits, type RunningSimulator,
} from '../../simulator/index.js';
import { printableLine } from './log.js';

interface SimArgs {
  scenario: string;
  host: string;
  port: number;
  'exo-port': number;
  'dns-port': number;
  /** Undefined unless given: the scenario's `simulator.limits`, else on. */
  limits?: boolean;
  latency?: number;
  jitter?: number;
  limit: Array<{ field: keyof Limits; value: number }>;
  fault: FaultRule[];
  mailboxes?: number;
  'ca-policies': number;
  'forwarding-share': number;
  smtp: boolean;
  'smtp-port': number;
  'print-env': boolean;
  writer: boolean;
}

/** Each value of a repeatable option, parsed by `parse`; a bad one stops the command with its message. */
function repeatable<T>(parse: (text: string) => T) {
  return (raw: unknown): T[] =>
    (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map((v) => {
      try {
        return parse(String(v));
      } catch (err) {
        throw err instanceof SettingsError ? new UsageError(err.message) : err;
      }
    });
}

/** A value for a POSIX shell, single-quoted. */
const shellQuote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

/**
 * What a shell needs to run posture against the simulator: its tokens (signed by the simulator's own
 * key, good for nothing else) and the connection options, as `export` lines after the JSON line.
 */
export function simEnv(sim: RunningSimulator, writer: boolean): string[] {
  const target = ['--tenant', sim.tenantId, '--graph-url', sim.graphUrl, '--exchange-url', sim.exoUrl, '--dns-server', `${sim.dns.host}:${sim.dns.port}`];
  return [
    `export POSTURE_GRAPH_TOKEN=${shellQuote(mintToken({ tenantId: sim.tenantId, roles: ALL_GRAPH_PERMISSIONS }))}`,
    `export POSTURE_EXCHANGE_TOKEN=${shellQuote(mintToken({ tenantId: sim.tenantId, audience: EXCHANGE_AUDIENCE, roles: ['Exchange.ManageAsApp'], wids: [writer ? ROLE_IDS.exchangeAdministrator : ROLE_IDS.globalReader] }))}`,
    `export POSTURE_SIM_ARGS=${shellQuote(target.join(' '))}`,
    '# then: npx posture plan --auth token $POSTURE_SIM_ARGS',
  ];
}

/**
 * `posture sim`: runs the tenant simulator on loopback until interrupted, and prints its endpoints
 * as one JSON line on stdout so a script can read them.
 */
export function simCommand(setExit: (code: number) => void): CommandModule<object, SimArgs> {
  return {
    command: 'sim',
    describe: 'Run the local tenant simulator (Graph, Exchange admin API, DNS, optionally SMTP) and print its endpoints as JSON',
    builder: (y) =>
      y
        .option('scenario', { type: 'string', default: 'compliant', describe: `Scenario: ${BUILT_IN_SCENARIOS.join(', ')}, or a scenario file` })
        .option('host', { type: 'string', default: '127.0.0.1', describe: 'Loopback address to listen on' })
        .option('port', wholeNumberOption('port', { min: 0, max: 65_535, default: 0, describe: 'Graph port (0: any free port)' }))
        .option('exo-port', wholeNumberOption('exo-port', { min: 0, max: 65_535, default: 0, describe: 'Exchange admin API port' }))
        .option('dns-port', wholeNumberOption('dns-port', { min: 0, max: 65_535, default: 0, describe: 'DNS port (UDP and TCP)' }))
        .option('limits', { type: 'boolean', describe: "Enforce Microsoft's published throttling limits (default: on, or as the scenario's simulator.limits says; --no-limits to turn off)" })
        .option('limit', {
          type: 'array',
          string: true,
          default: [],
          coerce: repeatable(parseLimit),
          describe: `Change one throttling limit, NAME=N (repeatable): ${Object.keys(LIMIT_NAMES).join(', ')}`,
        })
        .option('latency', wholeNumberOption('latency', { min: 0, max: 60_000, unit: 'milliseconds', describe: "Added latency per request, ms (default: 0, or the scenario's simulator.latencyMs)" }))
        .option('jitter', wholeNumberOption('jitter', { min: 0, max: 60_000, unit: 'milliseconds', describe: "Random extra latency up to this many ms (default: 0, or the scenario's simulator.jitterMs)" }))
        .option('fault', {
          type: 'array',
          string: true,
          default: [],
          coerce: repeatable(parseFault),
          describe:
            `Inject a fault (repeatable; replaces the scenario's simulator.faults): key=value pairs separated by commas: path=REGEX (Graph) or cmdlet=REGEX (Exchange), ` +
            `kind (${CLI_FAULT_KINDS.join(', ')}; default status), method, status, retryAfter, delayMs, url, after, times`,
        })
        .option('mailboxes', wholeNumberOption('mailboxes', { min: 1, max: 1_000_000, unit: 'mailboxes', describe: 'Grow the scenario with this many generated users and mailboxes' }))
        .option('ca-policies', wholeNumberOption('ca-policies', { min: 0, max: 10_000, unit: 'policies', default: 0, describe: 'With --mailboxes: extra generated conditional access policies' }))
        .option('forwarding-share', numberOption('forwarding-share', { min: 0, max: 1, default: 0.01, describe: 'With --mailboxes: share of generated mailboxes with an external forwarding rule' }))
        .option('smtp', { type: 'boolean', default: false, describe: "Listen for SMTP on each of the scenario's MX hosts (one loopback address per host, one port), judging mail as the tenant's configuration would" })
        .option('smtp-port', wholeNumberOption('smtp-port', { min: 0, max: 65_535, default: 0, describe: 'With --smtp: the SMTP port (0: any port free on every host address)' }))
        .option('print-env', { type: 'boolean', default: false, describe: "After the JSON line, print export lines for a shell: the simulator's tokens (good for the simulator only) and the connection options (posture sim --print-env > sim.env &, then . <(tail -n +2 sim.env))" })
        .option('writer', { type: 'boolean', default: false, describe: 'With --print-env: an Exchange token that may write (Exchange Administrator), for apply' })
        .example('$0 sim --scenario drifted --latency 50 --jitter 20', 'Every answer 50–70 ms late')
        .example('$0 sim --no-limits', 'No throttling at all')
        .example('$0 sim --limit graph.perAppPerSecond=100 --limit mailbox.concurrent=2', 'Tighter limits than Microsoft publishes')
        .example("$0 sim --fault 'status=503,path=/v1.0/users,times=3'", 'The first three requests to /v1.0/users answer 503')
        .example("$0 sim --fault 'kind=throttle,retryAfter=2,cmdlet=^Get-MessageTrace,after=5'", 'Message trace is throttled after five calls')
        .example('$0 sim --scenario ./slow-tenant.json', "A scenario file's simulator block: latencyMs, jitterMs, limits, faults") as never,
    handler: async (args) => {
      if (!isLoopbackHost(args.host)) {
        console.error(printableLine(`posture sim: --host ${args.host} is not a loopback address; the simulator only listens on loopback`));
        return setExit(1);
      }
      let sim: RunningSimulator;
      try {
        sim = await startSimulator({
          scenario: args.scenario,
          host: args.host,
          ports: { graph: args.port, exchange: args['exo-port'], dns: args['dns-port'], smtp: args['smtp-port'] },
          smtp: args.smtp,
          // Only what the command line gives: the rest comes from the scenario's simulator block, or the defaults.
          limits: {
            ...(args.limits !== undefined ? { enabled: args.limits } : {}),
            ...(args.latency !== undefined ? { latencyMs: args.latency } : {}),
            ...(args.jitter !== undefined ? { jitterMs: args.jitter } : {}),
            ...Object.fromEntries(args.limit.map((l) => [l.field, l.value])),
          },
          ...(args.fault.length ? { faults: args.fault } : {}),
          ...(args.mailboxes ? { generate: { mailboxes: args.mailboxes, caPolicies: args['ca-policies'], forwardingShare: args['forwarding-share'] } } : {}),
        });
      } catch (err) {
        console.error(printableLine(`posture sim: ${(err as Error).message}`));
        return setExit(1);
      }
      console.log(JSON.stringify({ graphUrl: sim.graphUrl, exoUrl: sim.exoUrl, dns: sim.dns, ...(sim.smtp ? { smtp: { port: sim.smtp.port, hosts: sim.smtp.hosts } } : {}), tenantId: sim.tenantId, scenario: args.scenario }));
      if (args['print-env']) console.log(simEnv(sim, args.writer).join('\n'));
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await sim.stop();
      setExit(0);
    },
  };
}
