import { FAILURE_KINDS } from '../model/paths.js';
import { FAILURE_KIND_LABELS, routeText } from './path-text.js';
import { escapeUTF8 } from 'entities';
import type { Finding } from '../model/finding.js';
import type { PlanDocument } from '../model/plan.js';
import { redactSecrets } from '../core/redact.js';
import { neutralise } from '../core/text.js';
import {
  changesText,
  exceptionText,
  groupByOwner,
  nearMissLines,
  notEvaluatedText,
  outcomeOf,
  patchLines,
  patchLineText,
  SEVERITIES,
  signOf,
  statusLabel,
  tally,
  tallyText,
  type OwnerGroup,
} from './shared.js';

/** GitHub refuses a pull-request comment longer than this many characters. */
export const GITHUB_COMMENT_LIMIT = 65_536;

export interface MarkdownOptions {
  /** The longest comment to write; defaults to a little under GitHub's limit. */
  readonly maxLength?: number;
}

/**
 * Escapes a tenant-supplied string for inline Markdown on GitHub: control characters and
 * bidirectional formatting are shown as escapes (`\x1b`, `\u{202e}`); HTML metacharacters become
 * entities (so `<img …>` shows as text); emphasis, code, link, table, strikethrough, heading and
 * math punctuation is backslash-escaped (so `|` cannot split a table cell and backticks cannot open
 * code); a leading list, heading-underline or numbered-list marker is escaped; line breaks become
 * spaces; `@name` cannot mention a GitHub user or team; and a bare URL or `www.` name cannot become
 * a link.
 */
export function escapeMarkdown(text: string): string {
  return breakAutolinks(
    escapeUTF8(neutralise(text.replace(/[\r\n\t]+/g, ' ')))
      .replace(/[\\`*_[\]|~#$]/g, (ch) => `\\${ch}`)
      .replace(/^(\s*)([-+=])/, '$1\\$2')
      .replace(/^(\s*\d+)([.)])/, '$1\\$2')
      .replace(/(^|[^\w])@(?=\w)/g, '$1@\u200b'),
  );
}

/**
 * GitHub turns `http://…`, `https://…`, `ftp://…` and `www.…` in running text into links. A zero-width
 * joiner after the scheme or the `www` stops that; the text reads the same.
 */
function breakAutolinks(text: string): string {
  return text.replace(/(?<=[a-z0-9])(?=:\/\/)/gi, '\u200d').replace(/(www)(?=\.)/gi, '$1\u200d');
}

/**
 * {@link escapeMarkdown} for a string the tenant (or whoever phished a mailbox in it) wrote: an inbox
 * rule's name, a summary quoting one, a service's error. An e-mail address in it is not turned into
 * a mailto: link either (a zero-width joiner after the `@`), so a name cannot put an address one
 * click away from a reviewer.
 */
export function escapeTenantMarkdown(text: string): string {
  return escapeMarkdown(text).replace(/(?<=[A-Za-z0-9._+-])@(?=[A-Za-z0-9])/g, '@\u200d');
}

/** Text of the tool's own HTML (`<summary>`, `<sub>`): entities, and no control characters or line breaks. */
const html = (s: string): string => escapeUTF8(neutralise(s.replace(/[\r\n\t]+/g, ' ')));

/** Text of an inline code span: no backtick can close it, no control character or line break. */
const codeSpan = (s: string): string => `\`${neutralise(s.replace(/[\r\n\t]+/g, ' ').replace(/`/g, ''))}\``;

/** A fenced code block whose fence is longer than any run of backticks in the content. */
function fenced(text: string, info = ''): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${info}\n${text}\n${fence}`;
}

/** Text inside a fenced block: tabs and carriage returns become spaces, other control and bidirectional characters escapes. */
function codeText(text: string): string {
  return neutralise(text.replace(/[\t\r]/g, ' '), '\n');
}

function findingMarkdown(f: Finding): string {
  const e = escapeMarkdown;
  const lines: string[] = [];
  lines.push(
    `#### \`${signOf(f)}\` ${e(f.resource.type)} “${escapeTenantMarkdown(f.resource.name)}” ${e(outcomeOf(f))}`,
    '',
    `**${e(f.control.versionedId)}** ${e(f.control.title)}  `,
    `Severity **${e(f.severity)}** · status **${e(statusLabel(f.status))}** · check ${codeSpan(f.check)}`,
    '',
    escapeTenantMarkdown(f.summary),
  );
  const patch = patchLines(f, 200).map(patchLineText);
  if (patch.length > 0) lines.push('', fenced(codeText(patch.join('\n')), 'diff'));
  const exception = exceptionText(f);
  if (exception) lines.push('', `${f.status === 'exception-expired' ? '**Exception expired:**' : '**Excepted:**'} ${e(exception)}`);
  const notEvaluated = notEvaluatedText(f);
  if (notEvaluated) lines.push('', `**Not evaluated:** ${e(notEvaluated)}`);
  const nearMiss = nearMissLines(f);
  if (nearMiss) lines.push('', `**Near miss:** ${escapeTenantMarkdown(nearMiss.heading)}`, '', ...nearMiss.reasons.map((r) => `- ${escapeTenantMarkdown(r)}`));
  if (nearMiss?.confirmation) lines.push('', escapeTenantMarkdown(nearMiss.confirmation));
  if (f.remediation) lines.push('', '**Remediation:**', '', fenced(codeText(f.remediation.trim())));
  lines.push('', `<sub>Evidence: ${escapeTenantMarkdown(f.evidence.endpoint)} at ${e(f.evidence.readAt)} · finding ${e(f.id)}</sub>`, '');
  return lines.join('\n');
}

function ownerSummary(group: OwnerGroup): string {
  const t = tally(group.findings);
  return `<strong>${html(group.owner.name)}</strong> (${html(group.owner.team)}, ${html(group.owner.contact)}): ${escapeUTF8(tallyText(t))}`;
}

function headline(plan: PlanDocument): string[] {
  const t = tally(plan.findings);
  const title = `## email-posture ${escapeMarkdown(plan.kind)}: ${escapeMarkdown(plan.organization)} (stack ${codeSpan(plan.stack)})`;
  const lines = [title, ''];
  if (plan.findings.length === 0 && plan.incomplete.length === 0) {
    lines.push('**No changes.** The tenant matches the posture.', '');
  } else {
    const bySeverity = SEVERITIES.map((s) => `${t[s]} ${s}`).join(' · ');
    lines.push(`**${t.actionable} ${t.actionable === 1 ? 'finding' : 'findings'} to act on** (${bySeverity}) · ${t.excepted} excepted · ${t.notEvaluated} not evaluated`, '');
    lines.push(`${escapeMarkdown(changesText(plan))}.`, '');
  }
  if (plan.incomplete.length > 0) {
    lines.push('> [!CAUTION]', '> **INCOMPLETE:** the following could not be read; this run cannot report "no drift":');
    for (const read of plan.incomplete) {
      lines.push(`> - ${escapeMarkdown(read.what)}: ${escapeTenantMarkdown(read.error)} (${escapeMarkdown(read.endpoint)})`);
    }
    lines.push('');
  }
  return lines;
}

/** The inbound path map as a table: a path per row, its outcome per failure kind (short ones in bold), its owners. */
function pathTable(plan: PlanDocument): string[] {
  const map = plan.inboundPaths;
  if (!map?.paths.length) return [];
  const owner = (o: { name: string } | undefined) => (o ? escapeMarkdown(o.name) : '**unowned**');
  const rows = [
    `| Inbound path | Route | ${FAILURE_KINDS.map((k) => FAILURE_KIND_LABELS[k]).join(' | ')} | Routing owner | Policy owner | Observed |`,
    `| --- | --- | ${FAILURE_KINDS.map(() => '---').join(' | ')} | --- | --- | --- |`,
  ];
  for (const p of map.paths) {
    // A saved plan is outside input: every value is escaped, numbers too.
    const e = (v: unknown) => escapeMarkdown(String(v ?? ''));
    const cell = (k: (typeof FAILURE_KINDS)[number]) => (p.short.includes(k) ? `**${e(p.dispositions[k]?.outcome)}** (${e(p.required[k])} required)` : e(p.dispositions[k]?.outcome));
    const observed = p.observed ? `${e(p.observed.failed)} failing${p.observed.deliveredDespiteFailure ? `, **${e(p.observed.deliveredDespiteFailure)} delivered despite failure**` : ''}` : '';
    rows.push(
      `| ${escapeTenantMarkdown(p.key)}${p.exception ? ` (exception ${p.exception.inForce ? 'until' : 'EXPIRED'} ${escapeMarkdown(p.exception.expires)})` : ''} | ${escapeTenantMarkdown(routeText(p))} | ${FAILURE_KINDS.map(cell).join(' | ')} | ${owner(p.owners.routing)} | ${owner(p.owners.policy)} | ${observed} |`,
    );
  }
  return [...rows, ''];
}

function ownerTable(groups: readonly OwnerGroup[]): string[] {
  if (groups.length === 0) return [];
  const rows = ['| Owner | Team | Critical | High | Medium | Low | Excepted | Not evaluated |', '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |'];
  for (const g of groups) {
    const t = tally(g.findings);
    rows.push(`| ${escapeMarkdown(g.owner.name)} | ${escapeMarkdown(g.owner.team)} | ${t.critical} | ${t.high} | ${t.medium} | ${t.low} | ${t.excepted} | ${t.notEvaluated} |`);
  }
  return [...rows, ''];
}

/**
 * Renders a plan as a GitHub pull-request comment: a headline with the counts, a table by owner and
 * severity, then one collapsed `<details>` per owner with its findings. Every tenant-supplied string
 * is escaped. When the whole would exceed GitHub's comment limit the details are cut, with a note
 * saying how many findings are left out; the headline and table are always kept.
 */
export function renderMarkdown(input: PlanDocument, options: MarkdownOptions = {}): string {
  const plan = redactSecrets(input);
  const max = options.maxLength ?? GITHUB_COMMENT_LIMIT - 536;
  const groups = groupByOwner(plan.findings);
  const head = [...headline(plan), ...pathTable(plan), ...ownerTable(groups)].join('\n');
  const footer = `\n<sub>${html(plan.tool.name)} ${html(plan.tool.version)} · ${html(plan.createdAt)} · tenant ${escapeMarkdown(plan.tenantId)}</sub>\n`;
  const noteFor = (shown: number): string =>
    `\n> [!WARNING]\n> **Truncated:** ${shown} of ${plan.findings.length} findings are shown in detail; ` +
    `the comment would exceed GitHub's ${GITHUB_COMMENT_LIMIT.toLocaleString('en-US')}-character limit. ` +
    'The counts above cover every finding; the JSON, SARIF or HTML report has them all.\n';
  // The longest note the comment could need, so that adding it never breaks the limit.
  const reserve = noteFor(plan.findings.length).length + footer.length + '\n</details>\n'.length;

  let body = head;
  if (body.length + reserve > max) {
    return `${body.slice(0, Math.max(0, max - reserve))}\n${noteFor(0)}${footer}`;
  }
  let shown = 0;
  let truncated = false;
  for (const group of groups) {
    const open = `\n<details><summary>${ownerSummary(group)}</summary>\n\n`;
    if (body.length + open.length + reserve > max) {
      truncated = true;
      break;
    }
    let section = open;
    for (const f of group.findings) {
      const block = `${findingMarkdown(f)}\n`;
      if (body.length + section.length + block.length + reserve > max) {
        truncated = true;
        break;
      }
      section += block;
      shown++;
    }
    body += `${section}</details>\n`;
    if (truncated) break;
  }
  return `${body}${truncated ? noteFor(shown) : ''}${footer}`;
}
