import { neutralise } from '../core/text.js';
import type { FleetReport, FleetRespondRow, FleetTenantRow } from '../model/fleet.js';
import type { Owner } from '../manifest/schema.js';
import { h } from '../report/html-text.js';
import { xmlAttr, xmlText } from '../report/junit.js';
import { escapeMarkdown, escapeTenantMarkdown } from '../report/markdown.js';

/**
 * The fleet view as Markdown and HTML: one row per tenant, worst first, with its owners, its
 * outcome, findings by severity and a cell per control. Every string from a result file (tenant
 * names, owners, errors, control titles) is escaped for its format, control characters neutralised.
 */

const OUTCOME_TEXT: Readonly<Record<FleetTenantRow['outcome'], string>> = {
  missing: 'MISSING: no result',
  error: 'FAILED',
  incomplete: 'INCOMPLETE',
  findings: 'findings',
  clean: 'clean',
};

const CELL: Readonly<Record<string, string>> = { passed: 'pass', failed: 'FAIL', excepted: 'exc', 'not-evaluated': '?' };

const ownerText = (o: Owner) => `${o.name} (${o.team}, ${o.contact})`;

function headline(r: FleetReport): string {
  const s = r.summary;
  const bad = s.missing + s.error + s.incomplete;
  return bad
    ? `${bad} of ${s.tenants} tenants were not read in full (${s.error} failed, ${s.incomplete} incomplete, ${s.missing} missing): this is not a clean result.`
    : s.findings
      ? `${s.findings} of ${s.tenants} tenants have findings to act on; ${s.clean} clean.`
      : `All ${s.tenants} tenants clean.`;
}

export function renderFleetMarkdown(r: FleetReport): string {
  const out: string[] = [];
  out.push(`# Fleet ${escapeTenantMarkdown(r.fleet.name)}: ${r.kind}`, '', headline(r), '');
  const notRead = r.tenants.filter((t) => t.outcome === 'missing' || t.outcome === 'error' || t.outcome === 'incomplete');
  if (notRead.length) {
    out.push('## Not read in full', '');
    for (const t of notRead) {
      out.push(`- **${escapeTenantMarkdown(t.name ?? t.key)}** (\`${t.key}\`, ${t.tenantId}): ${OUTCOME_TEXT[t.outcome]}${t.error ? `: ${escapeTenantMarkdown(t.error)}` : ''}`);
      for (const i of t.incomplete.slice(0, 10)) out.push(`  - ${escapeTenantMarkdown(i)}`);
      if (t.incomplete.length > 10) out.push(`  - and ${t.incomplete.length - 10} more`);
    }
    out.push('');
  }
  if (r.respond) out.push(...respondMarkdown(r.respond));
  out.push('## Tenants, worst first', '');
  const head = ['Tenant', 'Outcome', 'Critical', 'High', 'Medium', 'Low', 'Owners', ...r.controls.map((c) => escapeMarkdown(c.id))];
  out.push(`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`);
  for (const t of r.tenants) {
    const cells = [
      `${escapeTenantMarkdown(t.name ?? t.key)} (\`${t.key}\`)`,
      OUTCOME_TEXT[t.outcome],
      ...(['critical', 'high', 'medium', 'low'] as const).map((s) => String(t.bySeverity[s])),
      t.owners.map((o) => escapeTenantMarkdown(ownerText(o))).join('; '),
      ...r.controls.map((c) => CELL[t.controls[c.id] ?? ''] ?? '–'),
    ];
    out.push(`| ${cells.join(' | ')} |`);
  }
  out.push('', `Controls: ${r.controls.map((c) => `${escapeMarkdown(c.id)} ${escapeTenantMarkdown(c.title)}`).join('; ') || 'none'}.`, '');
  out.push(`Cells: pass, FAIL (findings to act on), exc (excepted), ? (not evaluated), – (not in the tenant's stack or not read). Fleet file hash \`${r.fleet.hash.slice(0, 12)}\`.`, '');
  return out.join('\n');
}

/** A respond row's writes in one line: taken, failed, not run, awaiting approval. */
const writesText = (t: FleetRespondRow) =>
  [`${t.taken} taken`, ...(t.failed ? [`${t.failed} FAILED`] : []), ...(t.planned ? [`${t.planned} not run (not approved)`] : []), `${t.awaitingApproval} awaiting approval`].join(', ');

/** An incident's line: who, tier and confidence, and each action with its disposition. */
const incidentText = (i: FleetRespondRow['incidents'][number]) =>
  `${i.id} ${i.upn} (${i.tier}, ${i.confidence}): ${i.actions.map((a) => `${a.action} ${a.disposition}${a.heldBack ? ' held back' : ''}`).join(', ') || 'no action'}`;

function respondMarkdown(rows: readonly FleetRespondRow[]): string[] {
  const out = ['## Respond: incidents per tenant, worst first', ''];
  for (const t of rows) {
    out.push(`- **${escapeTenantMarkdown(t.name ?? t.key)}** (\`${t.key}\`): ${OUTCOME_TEXT[t.outcome]}${t.error ? `: ${escapeTenantMarkdown(t.error)}` : ''}; ${t.incidents.length} incident${t.incidents.length === 1 ? '' : 's'}; writes: ${writesText(t)}${t.circuitBreaker ? `; circuit breaker: ${escapeTenantMarkdown(t.circuitBreaker)}` : ''}`);
    for (const i of t.incidents.slice(0, 20)) out.push(`  - ${escapeTenantMarkdown(incidentText(i))}`);
    if (t.incidents.length > 20) out.push(`  - and ${t.incidents.length - 20} more`);
  }
  out.push('');
  return out;
}

function respondHtml(rows: readonly FleetRespondRow[]): string {
  const body = rows
    .map((t) => `<tr class="${t.outcome === 'clean' ? 'ok' : t.outcome === 'findings' ? 'warn' : 'bad'}"><th scope="row">${h(t.name ?? t.key)}<br><code>${h(t.key)}</code></th><td>${h(OUTCOME_TEXT[t.outcome])}${t.error ? `<br>${h(t.error)}` : ''}</td><td class="n">${t.incidents.length}</td><td>${t.incidents.length ? `<ul>${t.incidents.slice(0, 20).map((i) => `<li>${h(incidentText(i))}</li>`).join('')}${t.incidents.length > 20 ? `<li>and ${t.incidents.length - 20} more</li>` : ''}</ul>` : ''}</td><td>${h(writesText(t))}${t.circuitBreaker ? `<br>circuit breaker: ${h(t.circuitBreaker)}` : ''}</td></tr>`)
    .join('\n');
  return `<h2>Respond: incidents per tenant, worst first</h2>
<div class="wrap"><table>
<thead><tr><th scope="col">Tenant</th><th scope="col">Outcome</th><th scope="col">Incidents</th><th scope="col">Incidents and actions</th><th scope="col">Writes</th></tr></thead>
<tbody>
${body}
</tbody></table></div>
`;
}

export function renderFleetHtml(r: FleetReport): string {
  const rows = r.tenants
    .map((t) => {
      const cls = t.outcome === 'clean' ? 'ok' : t.outcome === 'findings' ? 'warn' : 'bad';
      const detail = [t.error, ...t.incomplete].filter((x): x is string => Boolean(x));
      return `<tr class="${cls}"><th scope="row">${h(t.name ?? t.key)}<br><code>${h(t.key)}</code><br><small>${h(t.tenantId)}</small></th><td>${h(OUTCOME_TEXT[t.outcome])}${detail.length ? `<ul>${detail.slice(0, 10).map((d) => `<li>${h(d)}</li>`).join('')}${detail.length > 10 ? `<li>and ${detail.length - 10} more</li>` : ''}</ul>` : ''}</td>${(['critical', 'high', 'medium', 'low'] as const).map((s) => `<td class="n">${t.bySeverity[s]}</td>`).join('')}<td>${t.owners.map((o) => h(ownerText(o))).join('<br>')}</td>${r.controls.map((c) => {
        const v = t.controls[c.id];
        return `<td class="c ${h(v ?? 'none')}">${h(CELL[v ?? ''] ?? '–')}</td>`;
      }).join('')}</tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Fleet ${h(r.fleet.name)}: ${h(r.kind)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1rem;color:#1a1a1a}
table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #999;padding:.25rem .4rem;vertical-align:top;text-align:left}
td.n{text-align:right}tr.bad th,tr.bad td:first-of-type{background:#fde2e1}tr.warn th{background:#fff4d6}tr.ok th{background:#e3f4e6}
td.failed{background:#fde2e1;font-weight:bold}td.passed{color:#1f6b2e}td.excepted{color:#5a4a00}td.not-evaluated{background:#eee}
.wrap{overflow-x:auto}
</style></head><body>
<h1>Fleet ${h(r.fleet.name)}: ${h(r.kind)}</h1>
<p>${h(headline(r))}</p>
${r.respond ? respondHtml(r.respond) : ''}<div class="wrap"><table>
<caption>Tenants, worst first, by control</caption>
<thead><tr><th scope="col">Tenant</th><th scope="col">Outcome</th><th scope="col">Critical</th><th scope="col">High</th><th scope="col">Medium</th><th scope="col">Low</th><th scope="col">Owners</th>${r.controls.map((c) => `<th scope="col" title="${h(c.title)}">${h(c.id)}</th>`).join('')}</tr></thead>
<tbody>
${rows}
</tbody></table></div>
<p><small>Fleet file hash ${h(r.fleet.hash.slice(0, 12))}; written ${h(r.createdAt)}.</small></p>
</body></html>
`;
}

/**
 * The fleet as one JUnit suite, a test case per tenant: a failure for a tenant that failed, came
 * back incomplete, has no result or has findings to act on, so a pipeline's test view lists each
 * tenant that needs a person (each tenant's own findings are in its tenants/KEY.junit.xml).
 */
export function renderFleetJunit(r: FleetReport): string {
  const failing = r.tenants.filter((t) => t.outcome !== 'clean');
  const cases = r.tenants.map((t) => {
    const name = xmlAttr(neutralise(`${t.key} (${t.tenantId})${t.name ? ` ${t.name}` : ''}`));
    if (t.outcome === 'clean') return `    <testcase classname="fleet" name="${name}"/>`;
    const respond = r.respond?.find((x) => x.key === t.key);
    const message = t.outcome === 'findings' ? (respond ? `${respond.incidents.length} incidents, ${respond.awaitingApproval} writes awaiting approval` : `${t.findings} findings to act on`) : `${OUTCOME_TEXT[t.outcome]}${t.error ? `: ${t.error}` : ''}`;
    const body = [message, ...t.incomplete, ...t.owners.map((o) => `owner: ${ownerText(o)}`)].join('\n');
    return `    <testcase classname="fleet" name="${name}">\n      <failure message="${xmlAttr(neutralise(message))}" type="${t.outcome}">${xmlText(neutralise(body, '\n'))}</failure>\n    </testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${xmlAttr(neutralise(`fleet ${r.fleet.name}`))}" tests="${r.tenants.length}" failures="${failing.length}">\n  <testsuite name="${xmlAttr(neutralise(`fleet ${r.fleet.name}: ${r.kind}`))}" tests="${r.tenants.length}" failures="${failing.length}" timestamp="${xmlAttr(r.createdAt)}">\n${cases.join('\n')}\n  </testsuite>\n</testsuites>\n`;
}
