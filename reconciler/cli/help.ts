/**
 * What `posture COMMAND --help` shows below the options: examples and the command's exit codes, in
 * one table for every command, so each command's help says the same thing the README does.
 */
import type { Argv, CommandModule } from 'yargs';

interface CommandHelp {
  readonly examples: readonly (readonly [command: string, what: string])[];
  /** Exit code → meaning. */
  readonly exitCodes: Readonly<Record<number, string>>;
}

const BAD_INPUT = 'an error or bad input (one message says what and where)';
const READ = 'an error, bad input, or a read that failed or came back incomplete (never reported as clean)';

export const COMMAND_HELP: Readonly<Record<string, CommandHelp>> = {
  init: {
    examples: [
      ['$0 init contoso-posture --organization Contoso --domain contoso.com --break-glass bg1@contoso.com bg2@contoso.com --owner "Mail Platform Lead <mail@contoso.com>" --team Messaging --dmarc-reports mailto:dmarc@contoso.com', 'a repository for one domain, with the GitHub workflow'],
      ['$0 init', 'here, asking for each answer'],
    ],
    exitCodes: { 0: 'the repository was written', 1: `${BAD_INPUT}, or a file exists already (nothing was written)` },
  },
  import: {
    examples: [
      ['$0 import --tenant contoso.onmicrosoft.com --auth azure-cli --owner "Mail Platform Lead <mail-platform@contoso.com>" --team Messaging', 'write stacks/contoso.ts from the tenant; the break-glass accounts are proposed in a comment'],
      ['$0 import --tenant contoso.onmicrosoft.com --stack contoso --break-glass bg1@contoso.com bg2@contoso.com --owner "Mail Platform Lead <mail-platform@contoso.com>" --team Messaging', 'the same, with the break-glass accounts confirmed'],
      ['$0 import --tenant contoso.onmicrosoft.com --break-glass bg1@contoso.com --break-glass-group "Emergency Access" --accept-gaps --expires 2027-03-31 --owner "Mail Platform Lead <mail-platform@contoso.com>" --team Messaging', 'declare the tenant as it is: each gap an exception until 2027-03-31, which synth refuses until a person approves it'],
    ],
    exitCodes: { 0: 'the stack file was written', 1: `${READ}, or the file exists without --force; nothing was written` },
  },
  synth: {
    examples: [
      ['$0 synth', "run the app cdktf.json names and write cdktf.out/"],
      ['$0 synth --format json', 'the stacks written, or every validation error, as one JSON document'],
    ],
    exitCodes: { 0: 'every stack was validated and written', 1: 'a validation error (construct path and property named) or an error; nothing was written' },
  },
  plan: {
    examples: [
      ['$0 plan --stack contoso --auth azure-cli --tenant contoso.onmicrosoft.com', 'the plan at the terminal, grouped by owner'],
      ['$0 plan --stack contoso --format markdown --out plan.md --format sarif --out posture.sarif --format json --out plan.json', 'the reports a pull request needs'],
    ],
    exitCodes: { 0: 'nothing to change, no finding to act on', 2: 'changes or findings to act on', 1: READ },
  },
  drift: {
    examples: [
      ['$0 drift --stack contoso --auth github-oidc --format html --out drift.html', 'the nightly read-only check with an HTML report'],
      ['$0 drift --stack contoso --incremental --rotation-period 7', 'read only what changed since the last night, every mailbox again within 7 nights'],
    ],
    exitCodes: { 0: 'no drift', 2: 'drift or findings to act on', 1: READ },
  },
  show: {
    examples: [['$0 show plan.json', 'a saved plan at the terminal'], ['$0 show plan.json --format html --out report.html', 'the same plan as a report']],
    exitCodes: { 0: 'shown', 1: 'the file is not a plan this version can read, or an error' },
  },
  apply: {
    examples: [
      ['$0 apply plan.json', 'apply a reviewed plan, asking first'],
      ['$0 apply plan.json --auto-approve --auth github-oidc', 'in a pipeline, the plan reviewed in the pull request'],
    ],
    exitCodes: { 0: 'applied and verified, or nothing to apply', 1: 'refused (stale, altered, locked, over --max-changes) or stopped at a failure; the trail says what was written' },
  },
  rollback: {
    examples: [['$0 rollback 3f2c9a8e-0d4b-4c1e-9a57-2b6d8e1f4c03 --restore-insecure --out rollback-plan.json', 'plan the reverse of an apply run, then apply rollback-plan.json']],
    exitCodes: { 2: 'a rollback plan was saved', 0: 'nothing left to reverse', 1: 'refused (something changed since the run, the trail fails verification) or a change that cannot be reversed' },
  },
  respond: {
    examples: [
      ['$0 respond --out response.json', 'act on the signals since the last run; save what needs approval'],
      ['$0 apply response.json', 'approve the saved actions'],
    ],
    exitCodes: { 0: 'nothing waits for approval', 2: 'actions wait for approval (saved with --out)', 1: READ },
  },
  probe: {
    examples: [['$0 probe --stack contoso --smtp-port 25', 'send marked spoofs down every inbound path and confirm their disposition']],
    exitCodes: { 0: 'every path rejected or quarantined the probes', 2: 'a path delivered a probe', 1: `${READ}, or a path could not be probed` },
  },
  fleet: {
    examples: [
      ['$0 fleet plan --fleet fleet.yaml --shard 1/4 --out-dir results', 'plan the tenants of shard 1 of 4'],
      ['$0 fleet merge results --fleet fleet.yaml --out-dir report', 'one fleet report from every shard'],
    ],
    exitCodes: { 0: 'done (see posture fleet plan, drift or merge --help)', 1: BAD_INPUT },
  },
  'fleet plan': {
    examples: [
      ['$0 fleet plan --fleet fleet.yaml --shard 2/10 --out-dir results', 'shard 2 of 10, as a GitHub Actions matrix job passes it'],
      ['JOB_COMPLETION_INDEX=3 $0 fleet plan --fleet fleet.yaml --shards 10 --out-dir results', 'in a Kubernetes Indexed Job of 10 completions'],
      ['$0 fleet plan --fleet fleet.yaml --out-dir results', 'in an Azure DevOps parallel job (SYSTEM_JOBPOSITIONINPHASE of SYSTEM_TOTALJOBSINPHASE), or the whole fleet'],
    ],
    exitCodes: { 0: 'every tenant of the shard read in full (findings are in its result)', 1: "a tenant's run failed or was incomplete (named); others' results written", 2: 'the fleet file, the shard or an option is wrong (named); nothing was run' },
  },
  'fleet drift': {
    examples: [['$0 fleet drift --fleet fleet.yaml --shard 1/4 --out-dir results', 'the nightly read-only check of shard 1 of 4']],
    exitCodes: { 0: 'every tenant of the shard read in full (drift is in its result)', 1: "a tenant's run failed or was incomplete (named); others' results written", 2: 'the fleet file, the shard or an option is wrong (named); nothing was run' },
  },
  'fleet respond': {
    examples: [
      ['$0 fleet respond --fleet fleet.yaml --shard 1/4 --out-dir results --evidence-dir trails', "each tenant's incidents and the plan of its actions; nothing is written"],
      ['$0 fleet respond --fleet fleet.yaml --shard 1/4 --out-dir results --evidence-dir trails --auto-approve', "each tenant's automatic actions run, as respond --auto-approve runs them; approvals still wait"],
    ],
    exitCodes: { 0: 'every tenant read in full (incidents and actions in its result)', 1: "a tenant failed, was incomplete or a write failed (named)", 2: 'the fleet file, the shard or an option is wrong (named)' },
  },
  'fleet merge': {
    examples: [
      ['$0 fleet merge results/*.json --fleet fleet.yaml --out-dir report', 'fleet.json, fleet.md, fleet.html, and SARIF and JUnit per tenant'],
      ['$0 fleet merge artifacts --out-dir report', 'every result file under the downloaded artifacts'],
    ],
    exitCodes: { 0: 'every tenant read in full and clean', 2: 'findings to act on in a tenant', 1: 'a tenant failed, was incomplete or missing (named), or a result is invalid' },
  },
  evidence: {
    examples: [['$0 evidence verify posture-evidence.jsonl --expect-head HEAD_HASH', 'check the trail against the head a run printed']],
    exitCodes: { 0: 'the chain is intact', 1: 'a record was edited, removed, inserted or reordered, or the file is damaged' },
  },
  controls: {
    examples: [['$0 controls', 'the catalogue as a table'], ['$0 controls --format json', 'for scripts']],
    exitCodes: { 0: 'printed', 1: BAD_INPUT },
  },
  permissions: {
    examples: [['$0 permissions plan', 'the application permissions a plan needs'], ['$0 permissions apply', 'those an apply needs']],
    exitCodes: { 0: 'printed', 1: BAD_INPUT },
  },
  'check-domain': {
    examples: [['$0 check-domain contoso.com fabrikam.com', "any domain's DMARC, SPF and DKIM, no tenant needed"]],
    exitCodes: { 0: 'every domain is at an enforcing policy', 2: 'a domain is weak or unprotected', 1: 'a DNS query failed, or bad input' },
  },
  sim: {
    examples: [
      ['$0 sim --print-env > sim.env &', 'the simulator, with the tokens and options a shell needs (then: . <(tail -n +2 sim.env))'],
      ['$0 sim --scenario drifted --latency 50', 'a drifted tenant that answers after 50 ms'],
    ],
    exitCodes: { 0: 'stopped by Ctrl-C or SIGTERM', 1: BAD_INPUT },
  },
  demo: {
    examples: [['$0 demo --apply', 'the whole loop against the simulated drifted tenant']],
    exitCodes: { 0: 'every step ran as expected', 1: 'a step failed (named above)' },
  },
};

/** The epilog: exit codes, one a line. */
export function exitCodeText(help: CommandHelp): string {
  const lines = Object.entries(help.exitCodes).map(([code, what]) => `  ${code}  ${what}`);
  return `Exit codes:\n${lines.join('\n')}`;
}

/** The command with its examples and exit codes (those of `name`, by default its own) added to its --help. */
export function withHelp<T, U>(command: CommandModule<T, U>, name = String(command.command).split(/\s+/)[0]!): CommandModule<T, U> {
  const help = COMMAND_HELP[name];
  if (!help) throw new Error(`posture ${name} has no entry in COMMAND_HELP`);
  const builder = command.builder;
  return {
    ...command,
    builder: (y: Argv<T>) => {
      const built = (typeof builder === 'function' ? builder(y) : builder ? y.options(builder) : y) as Argv<U>;
      for (const [example, what] of help.examples) built.example(example, what);
      return built.epilog(exitCodeText(help));
    },
  } as CommandModule<T, U>;
}
