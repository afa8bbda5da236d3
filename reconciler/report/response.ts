import { escapeUTF8 } from 'entities';
import { redactSecrets } from '../core/redact.js';
import { neutralise, terminalSafe } from '../core/text.js';
import { describeChange, type PlannedChange } from '../model/change.js';
import type { PlannedAction, PlannedIncident, ResponsePlan } from '../respond/run.js';
import { escapeTenantMarkdown } from './markdown.js';

/**
 * The response plan of `posture respond` as people read it: on a terminal, as Markdown (a ticket or
 * chat message) and as one self-contained HTML page. Every string from the tenant or a signal file
 * is escaped for the form it lands in; secrets are masked first.
 */

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What an action comes to, in words. */
function actionText(a: PlannedAction, owner: string): string {
  if (a.disposition === 'never') return 'never done';
  if (a.action === 'notify') return `the incident owner, ${owner}`;
  if (a.writes === 0) return 'nothing left to do';
  return `${plural(a.writes, 'write')}${a.disposition === 'approval' ? ', waiting for approval' : ''}`;
}

const counts = (p: ResponsePlan) => `Response: ${plural(p.incidents.length, 'incident')}, ${plural(p.changes.length, 'automatic write')}, ${p.approvals.length} waiting for approval.`;

function setAsideText(p: ResponsePlan): string | undefined {
  if (!p.setAside.length) return undefined;
  const by = new Map<string, number>();
  for (const x of p.setAside) by.set(x.reason, (by.get(x.reason) ?? 0) + 1);
  return `Signals set aside: ${[...by].map(([r, n]) => `${n} ${r}`).join(', ')}.`;
}

const breakGlassText = (inc: PlannedIncident, name: string, id: string) =>
  `Break-glass account ${name} is named in ${plural(inc.signals.length, 'signal')} (incident ${id}): never acted on; the incident owner must look at it.`;

/** The response plan on a terminal. */
export function renderResponseHuman(input: ResponsePlan): string {
  const p = redactSecrets(input);
  const s = (v: unknown) => terminalSafe(String(v));
  const out: string[] = [`Signals observed from ${s(p.window.since)}; the newest read was observed at ${s(p.window.until)}.`];
  for (const inc of p.incidents) {
    out.push('', `Incident ${s(inc.id)}: ${s(inc.identity.upn)} (${s(inc.tier)}, ${s(inc.confidence)} confidence), opened ${s(inc.openedAt)}`);
    for (const sig of inc.signals) out.push(`    signal  ${s(sig.source)} ${s(sig.id)} (${sig.rule < 0 ? 'no rule' : `${s(sig.confidence)}, rule ${sig.rule + 1}`}): ${s(sig.title)}`);
    for (const a of inc.actions) out.push(`    ${a.disposition.padEnd(9)} ${s(a.action)}: ${actionText(a, s(p.owner))} (${s(a.rule)})${a.heldBack ? ' [held back by the circuit breaker]' : ''}`);
  }
  for (const inc of p.protected) out.push('', breakGlassText(inc, s(inc.identity.upn), s(inc.id)));
  const aside = setAsideText(p);
  if (aside) out.push('', aside);
  for (const w of p.watchesEnded) out.push('', `Watch ended: ${s(w.upn)}, on the watchlist since ${s(w.since)}: ${w.writes ? 'taken off it' : 'no longer on it'}.`);
  if (p.circuitBreaker) out.push('', `Circuit breaker: ${s(p.circuitBreaker)}.`);
  if (p.approvals.length) out.push('', `Waiting for approval (${p.approvals.length}):`, ...p.approvals.map((c) => `  ${s(describeChange(c))}`));
  out.push('', counts(p));
  return `${out.join('\n')}\n`;
}

/** The response plan as Markdown: a table of incidents, then each incident's signals and decisions. */
export function renderResponseMarkdown(input: ResponsePlan): string {
  const p = redactSecrets(input);
  const m = (v: unknown) => escapeTenantMarkdown(String(v));
  const out: string[] = [`## email-posture response: ${m(p.organization)}`, '', `Signals observed from ${m(p.window.since)}. ${m(counts(p))}`, ''];
  if (p.incidents.length) {
    out.push('| incident | identity | tier | confidence | automatic | waiting for approval |', '| --- | --- | --- | --- | --- | --- |');
    for (const inc of p.incidents) {
      const auto = inc.actions.filter((a) => a.disposition === 'automatic' && (a.writes > 0 || a.action === 'notify')).map((a) => a.action);
      const wait = inc.actions.filter((a) => a.disposition === 'approval' && a.writes > 0).map((a) => a.action);
      out.push(`| ${m(inc.id)} | ${m(inc.identity.upn)} | ${m(inc.tier)} | ${m(inc.confidence)} | ${m(auto.join(', ') || 'none')} | ${m(wait.join(', ') || 'none')} |`);
    }
    for (const inc of p.incidents) {
      out.push('', `### ${m(inc.id)}: ${m(inc.identity.upn)}`, '');
      for (const sig of inc.signals) out.push(`- signal: ${m(sig.source)} ${m(sig.id)} (${sig.rule < 0 ? 'no rule' : `${m(sig.confidence)}, rule ${sig.rule + 1}`}): ${m(sig.title)}`);
      for (const a of inc.actions) out.push(`- ${m(a.disposition)} ${m(a.action)}: ${m(actionText(a, p.owner))} (${m(a.rule)})${a.heldBack ? ' (held back by the circuit breaker)' : ''}`);
    }
  }
  for (const inc of p.protected) out.push('', `> ${m(breakGlassText(inc, inc.identity.upn, inc.id))}`);
  const aside = setAsideText(p);
  if (aside) out.push('', m(aside));
  if (p.circuitBreaker) out.push('', `**Circuit breaker:** ${m(p.circuitBreaker)}.`);
  if (p.approvals.length) out.push('', `### Waiting for approval`, '', ...p.approvals.map((c: PlannedChange) => `- ${m(describeChange(c))}`));
  return `${out.join('\n')}\n`;
}

const h = (v: unknown) => escapeUTF8(neutralise(String(v).replace(/[\r\n\t]+/g, ' ')));

/**
 * The response plan as one self-contained HTML page (no script, no external resource). A plan whose
 * read was incomplete opens with an INCOMPLETE alert instead of the counts: nothing was acted on.
 */
export function renderResponseHtml(input: ResponsePlan): string {
  const p = redactSecrets(input);
  const rows = p.incidents
    .map((inc) => {
      const signals = inc.signals.map((sig) => `<li>${h(sig.source)} <code>${h(sig.id)}</code> (${sig.rule < 0 ? 'no rule' : `${h(sig.confidence)}, rule ${sig.rule + 1}`}): ${h(sig.title)}</li>`).join('');
      const actions = inc.actions.map((a) => `<li class="${h(a.disposition)}"><strong>${h(a.disposition)}</strong> ${h(a.action)}: ${h(actionText(a, p.owner))} <span class="rule">${h(a.rule)}</span>${a.heldBack ? ' (held back by the circuit breaker)' : ''}</li>`).join('');
      return `<section class="incident"><h2>${h(inc.id)}: ${inc.identity.displayName ? `${h(inc.identity.displayName)} (${h(inc.identity.upn)})` : h(inc.identity.upn)}</h2><p>${h(inc.tier)}, ${h(inc.confidence)} confidence, opened ${h(inc.openedAt)}</p><h3>Signals</h3><ul>${signals}</ul><h3>Decisions</h3><ul>${actions}</ul></section>`;
    })
    .join('\n');
  const guarded = p.protected.map((inc) => `<p class="protected">${h(breakGlassText(inc, inc.identity.upn, inc.id))}</p>`).join('\n');
  const aside = setAsideText(p);
  const incomplete = p.incomplete.length
    ? `<section class="incomplete" role="alert"><h2>INCOMPLETE: the signals or the directory could not be read completely, so nothing was acted on</h2><ul>${p.incomplete.map((r) => `<li><strong>${h(r.what)}</strong> (<code>${h(r.endpoint)}</code>): ${h(r.error)}</li>`).join('')}</ul></section>`
    : `<p>Signals observed from ${h(p.window.since)}. ${h(counts(p))}</p>`;
  const watches = p.watchesEnded.map((w) => `<p>Watch ended: ${h(w.upn)}, on the watchlist since ${h(w.since)}: ${w.writes ? 'taken off it' : 'no longer on it'}.</p>`).join('\n');
  const approvals = p.approvals.length ? `<section><h2>Waiting for approval</h2><ul>${p.approvals.map((c) => `<li><code>${h(describeChange(c))}</code></li>`).join('')}</ul></section>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>email-posture response: ${h(p.organization)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;max-width:70rem;overflow-wrap:anywhere}section.incident{border:1px solid #ccc;border-radius:6px;padding:0 1rem;margin:1rem 0}.automatic strong{color:#0a6}.approval strong{color:#b60}.never strong{color:#888}.rule{color:#666;font-size:12px}.protected{background:#fee;padding:.5rem}.incomplete{background:#fee;border:2px solid #c00;border-radius:6px;padding:0 1rem}</style>
</head><body>
<h1>email-posture response: ${h(p.organization)}</h1>
${incomplete}
${guarded}
${rows}
${aside ? `<p>${h(aside)}</p>` : ''}
${watches}
${p.circuitBreaker ? `<p><strong>Circuit breaker:</strong> ${h(p.circuitBreaker)}.</p>` : ''}
${approvals}
</body></html>
`;
}
