import { describeChange } from '../model/change.js';
import { createColors } from 'picocolors';
import { redactSecrets } from '../core/redact.js';
import { mapStrings, terminalSafe } from '../core/text.js';
import type { Severity } from '../../policies/types.js';
import type { Finding } from '../model/finding.js';
import type { PlanDocument, RestoredFinding } from '../model/plan.js';
import { pathMapLines } from './path-text.js';
import {
  changesText,
  exceptionText,
  groupByOwner,
  nearMissLines,
  notEvaluatedText,
  outcomeOf,
  patchLines,
  patchLineText,
  signOf,
  statusLabel,
  tally,
  tallyText,
  type FindingSign,
} from './shared.js';

export interface HumanOptions {
  /** ANSI colours; off unless asked for (the CLI asks when stdout is a terminal and NO_COLOR is unset). */
  readonly color?: boolean;
}

type Colors = ReturnType<typeof createColors>;

/** The findings a rollback brings back, one line each: what the person approving it must see. */
export function renderRestores(restores: readonly RestoredFinding[]): string {
  const n = restores.length;
  return `This rollback undoes ${n} security fix${n === 1 ? '' : 'es'} and brings back ${n === 1 ? 'its finding' : 'their findings'}:\n${restores
    .map((r) => `  ! [${terminalSafe(r.severity)}] ${terminalSafe(r.control)} ${terminalSafe(r.title)}: ${terminalSafe(r.resource.type)} "${terminalSafe(r.resource.name)}"`)
    .join('\n')}\n`;
}

export { terminalSafe } from '../core/text.js';

function signColor(c: Colors, sign: FindingSign): (s: string) => string {
  switch (sign) {
    case '+':
      return c.green;
    case '~':
      return c.yellow;
    case '-':
      return c.red;
    case '!':
      return (s) => c.bold(c.magenta(s));
    case '=':
      return c.cyan;
    default:
      return c.dim;
  }
}

function severityColor(c: Colors, severity: Severity): (s: string) => string {
  switch (severity) {
    case 'critical':
      return (s) => c.bold(c.red(s));
    case 'high':
      return c.red;
    case 'medium':
      return c.yellow;
    default:
      return c.dim;
  }
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => (line.length > 0 ? prefix + line : line))
    .join('\n');
}

function renderFinding(f: Finding, c: Colors): string[] {
  const sign = signOf(f);
  const paint = signColor(c, sign);
  const safe = (s: string): string => terminalSafe(s);
  const out: string[] = [];
  out.push(`  ${paint(sign)} ${c.bold(`${safe(f.resource.type)} "${safe(f.resource.name)}"`)} ${paint(outcomeOf(f))}`);
  const pad = '      ';
  out.push(
    `${pad}${c.bold(safe(f.control.versionedId))} ${safe(f.control.title)}`,
    `${pad}severity ${severityColor(c, f.severity)(f.severity)} · status ${statusLabel(f.status)} · check ${safe(f.check)}`,
    `${pad}${safe(f.summary)}`,
  );
  for (const line of patchLines(f)) {
    const lineColor = line.sign === '+' ? c.green : line.sign === '-' ? c.red : c.yellow;
    out.push(`${pad}${lineColor(safe(patchLineText(line)))}`);
  }
  const exception = exceptionText(f);
  if (exception) out.push(`${pad}${c.cyan(f.status === 'exception-expired' ? 'exception (expired):' : 'excepted:')} ${safe(exception)}`);
  const notEvaluated = notEvaluatedText(f);
  if (notEvaluated) out.push(`${pad}${c.dim('not evaluated:')} ${safe(notEvaluated)}`);
  const nearMiss = nearMissLines(f);
  if (nearMiss) out.push(`${pad}${c.cyan('near miss:')} ${safe(nearMiss.heading)}`, ...nearMiss.reasons.map((r) => `${pad}  - ${safe(r)}`));
  if (nearMiss?.confirmation) out.push(`${pad}  ${safe(nearMiss.confirmation)}`);
  if (f.remediation) {
    const text = terminalSafe(f.remediation, true).trim();
    if (text.includes('\n')) out.push(`${pad}remediation:`, indent(text, `${pad}  `));
    else out.push(`${pad}remediation: ${text}`);
  }
  out.push(`${pad}${c.dim(`evidence: ${safe(f.evidence.endpoint)} at ${safe(f.evidence.readAt)}`)}`);
  return out;
}

/**
 * Renders a plan for a terminal, in the manner of `terraform plan`: the findings grouped by owner,
 * each a block headed by its sign (`+` create, `~` update, `-` delete, `!` no automatic change,
 * `=` excepted, `?` not evaluated), then the summary line, then a loud INCOMPLETE section when some
 * reads failed. A plan with no findings and nothing incomplete reads "No changes.". Secrets are
 * redacted, and every string from outside is made safe for a terminal.
 */
export function renderHuman(input: PlanDocument, options: HumanOptions = {}): string {
  // Every string of the plan (a saved plan file is outside input too) loses its control characters
  // here; single-line fields also lose their newlines where they are printed.
  const plan = mapStrings(redactSecrets(input), (s) => terminalSafe(s, true));
  const c = createColors(options.color === true);
  const out: string[] = [];
  const safe = (s: string): string => terminalSafe(s);
  out.push(
    c.dim(
      `email-posture ${plan.kind} · ${safe(plan.organization)} · stack ${safe(plan.stack)} · tenant ${safe(plan.tenantId)} · ${safe(plan.createdAt)}`,
    ),
    '',
  );

  if (plan.rollbackOf) {
    // A rollback plan has no findings: it is the list of writes that undo an apply run.
    const n = plan.changes.length;
    out.push(c.bold(n ? `Rollback of run ${safe(plan.rollbackOf)}: ${n} change${n === 1 ? '' : 's'}, last change first:` : `Rollback of run ${safe(plan.rollbackOf)}: nothing to reverse.`));
    for (const change of plan.changes) out.push(`  ${safe(describeChange(change))}`);
    if (plan.restores?.length) out.push(renderRestores(plan.restores).trimEnd());
    return `${out.join('\n')}\n`;
  }

  if (plan.inboundPaths) out.push(...pathMapLines(plan.inboundPaths).map((l) => safe(l)), '');

  if (plan.findings.length === 0 && plan.incomplete.length === 0) {
    out.push(c.green(c.bold('No changes. The tenant matches the posture.')));
    return `${out.join('\n')}\n`;
  }

  if (plan.findings.length > 0) {
    out.push(
      'Signs: + create, ~ update, - delete (by apply); ! needs its owner; = excepted; ? not evaluated.',
      '',
    );
  }
  for (const group of groupByOwner(plan.findings)) {
    const count = group.findings.length;
    out.push(
      `${c.bold(safe(group.owner.name))} · ${safe(group.owner.team)} · ${safe(group.owner.contact)} ${c.dim(`(${count} ${count === 1 ? 'finding' : 'findings'})`)}`,
      '',
    );
    for (const f of group.findings) out.push(...renderFinding(f, c), '');
  }

  const t = tally(plan.findings);
  if (plan.findings.length === 0) out.push('No findings in what could be read.');
  out.push(c.bold(`${changesText(plan)}; ${tallyText(t)}.`));

  if (plan.incomplete.length > 0) {
    out.push(
      '',
      c.bold(c.red('INCOMPLETE: the following could not be read; this run cannot report "no drift":')),
    );
    for (const read of plan.incomplete) {
      out.push(c.red(`  - ${safe(read.what)}`), `      endpoint: ${safe(read.endpoint)}`, `      error:    ${safe(read.error)}`);
    }
  }
  return `${out.join('\n')}\n`;
}
