import { escapeUTF8 } from 'entities';
import { redactSecrets } from '../core/redact.js';
import { neutralise, terminalSafe } from '../core/text.js';
import { describeChange, type PlannedChange } from '../model/change.js';
import type { PlannedAction, PlannedChain, PlannedIncident, ResponsePlan } from '../respond/run.js';
import { escapeTenantMarkdown } from './markdown.js';

/**
 * The response plan of `posture respond` as people read it: on a terminal, as Markdown (a ticket or
 * chat message) and as one self-contained HTML page. Every string from the tenant or a signal file
 * is escaped for the form it lands in; secrets are masked first.
 */

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A count and its noun, for nouns whose plural is not just an `s`. */
const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** What an action comes to, in words. */
function actionText(a: Pick<PlannedAction, 'disposition' | 'writes'> & { readonly action: string; readonly owner?: string }, owner: string, e: Escape = String): string {
  if (a.disposition === 'never') return 'never done';
  if (a.action === 'notify') return `the incident owner, ${owner}`;
  if (a.writes === 0) return 'nothing left to do';
  // The owner of the action's platform, who carries it out (a name from the posture).
  return `${plural(a.writes, 'write')}${a.disposition === 'approval' ? ', waiting for approval' : ''}${a.owner !== undefined ? `, by ${e(a.owner)}` : ''}`;
}

/** The counts line; a plan with phishing chains names how many. */
const counts = (p: ResponsePlan) =>
  `Response: ${plural(p.incidents.length, 'incident')}, ${p.chains?.length ? `${plural(p.chains.length, 'phishing chain')}, ` : ''}${plural(p.changes.length, 'automatic write')}, ${p.approvals.length} waiting for approval.`;

function setAsideText(p: ResponsePlan): string | undefined {
  if (!p.setAside.length) return undefined;
  const by = new Map<string, number>();
  for (const x of p.setAside) by.set(x.reason, (by.get(x.reason) ?? 0) + 1);
  return `Signals set aside: ${[...by].map(([r, n]) => `${n} ${r}`).join(', ')}.`;
}

const breakGlassText = (inc: PlannedIncident, name: string, id: string) =>
  `Break-glass account ${name} is named in ${plural(inc.signals.length, 'signal')} (incident ${id}): never acted on; the incident owner must look at it.`;

/** Text in HTML: entities, and no control characters or line breaks. */
const h = (v: unknown) => escapeUTF8(neutralise(String(v).replace(/[\r\n\t]+/g, ' ')));

/** Escapes a string from the plan for the form it lands in (terminal, Markdown or HTML). */
type Escape = (v: unknown) => string;

type ChainAction = PlannedChain['actions'][number];

/** A group of automatic actions this small names its mailboxes one by one all the same. */
const FEW_MAILBOXES = 3;

/** A chain's containment for one action and disposition (those the circuit breaker held back apart). */
interface ContainmentGroup {
  readonly action: string;
  readonly disposition: string;
  readonly heldBack: boolean;
  readonly actions: readonly ChainAction[];
  readonly writes: number;
  /** The matrix cells that decided it. */
  readonly rules: readonly string[];
  /** Its mailboxes are named one by one: waiting for approval, never acted on, held back, or few. */
  readonly listed: boolean;
}

const DISPOSITION_ORDER = ['automatic', 'approval', 'never'];

/** A chain's actions grouped by action (in the order they first appear) and disposition. */
function containmentGroups(c: PlannedChain): ContainmentGroup[] {
  const byKey = new Map<string, ChainAction[]>();
  for (const a of c.actions) {
    const key = JSON.stringify([a.action, a.disposition, a.heldBack !== undefined]);
    const group = byKey.get(key);
    if (group) group.push(a);
    else byKey.set(key, [a]);
  }
  const actionOrder = [...new Set(c.actions.map((a) => a.action))];
  const rank = (d: string) => (DISPOSITION_ORDER.includes(d) ? DISPOSITION_ORDER.indexOf(d) : DISPOSITION_ORDER.length);
  return [...byKey.values()]
    .map((actions) => {
      const { action, disposition } = actions[0]!;
      const heldBack = actions[0]!.heldBack !== undefined;
      return {
        action,
        disposition,
        heldBack,
        actions,
        writes: actions.reduce((n, a) => n + a.writes, 0),
        rules: [...new Set(actions.map((a) => a.rule))],
        listed: heldBack || disposition !== 'automatic' || actions.length <= FEW_MAILBOXES,
      };
    })
    .sort((a, b) => actionOrder.indexOf(a.action) - actionOrder.indexOf(b.action) || rank(a.disposition) - rank(b.disposition) || Number(a.heldBack) - Number(b.heldBack));
}

/** What is said of a chain whose message could not be found but that names no reason. */
const NO_MESSAGE = 'the message is not in the plan';

const isTraced = (c: PlannedChain): c is PlannedChain & { message: NonNullable<PlannedChain['message']> } => c.notTraced === undefined && c.message !== undefined;

/** How sure the chain is and what started it. */
const chainAbout = (c: PlannedChain, e: Escape) => `${e(c.confidence)} confidence, started by ${c.startedBy.length ? c.startedBy.map(e).join(', ') : 'no signal named'}`;

/** The message's authentication verdicts, as the trace found them. */
function authText(a: NonNullable<PlannedChain['message']>['authentication'], e: Escape): string {
  const verdicts = ([['SPF', a.spf], ['DKIM', a.dkim], ['DMARC', a.dmarc], ['composite', a.composite]] as const).filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ${e(v)}`);
  return verdicts.length ? verdicts.join(', ') : 'no authentication verdicts';
}

/** The delivery: when, what, from whom and where, how it authenticated, to how many, with which links. */
function messageText(msg: NonNullable<PlannedChain['message']>, e: Escape): string {
  const via = [msg.senderIp !== undefined ? `IP ${e(msg.senderIp)}` : '', msg.returnPath !== undefined ? `return path ${e(msg.returnPath)}` : ''].filter((x) => x);
  const links = msg.links.length ? `${msg.links.length === 1 ? 'link' : 'links'} ${msg.links.map(e).join(', ')}` : 'no links';
  return `${e(msg.receivedAt)}: "${e(msg.subject)}" from ${e(msg.sender)}${via.length ? ` (${via.join(', ')})` : ''}, ${e(msg.directionality)}; ${authText(msg.authentication, e)}; ${plural(msg.recipients, 'recipient')}; ${links}`;
}

const inviteText = (i: PlannedChain['invites'][number], e: Escape) =>
  `"${e(i.subject)}" by ${e(i.organizer)} (${e(i.organizerKind)}), matched by ${i.matchedBy.length ? i.matchedBy.map(e).join(' and ') : 'nothing named'}, ${count(i.copies, 'copy', 'copies')}`;

const leftAloneText = (l: PlannedChain['leftAlone'][number], e: Escape) => `"${e(l.subject)}" by ${e(l.organizer)}: ${e(l.reason)}`;

const accountText = (a: PlannedChain['accounts'][number], e: Escape) => `${e(a.upn)} (${e(a.role)})`;

const traceText = (t: PlannedChain['trace'][number], e: Escape) => `${e(t.source)}: ${e(t.found)}`;

const DISPOSITION_WORDS: Readonly<Record<string, string>> = { automatic: 'automatic', approval: 'waiting for approval', never: 'never acted on' };

/** What one group of the containment comes to, after its action: `40 mailboxes automatic (40 writes), by matrix.standard.high.automatic`. */
function groupOutcome(g: ContainmentGroup, e: Escape): string {
  const how = Object.hasOwn(DISPOSITION_WORDS, g.disposition) ? DISPOSITION_WORDS[g.disposition] : e(g.disposition);
  const writes = g.disposition === 'never' ? '' : ` (${g.writes === 0 ? 'nothing left to do' : plural(g.writes, 'write')})`;
  const owners = [...new Set(g.actions.flatMap((a) => (a.owner !== undefined ? [a.owner] : [])))];
  return `${count(g.actions.length, 'mailbox', 'mailboxes')} ${how}${g.heldBack ? ', held back by the circuit breaker' : ''}${writes}, by ${g.rules.map(e).join(', ')}${owners.length && g.writes > 0 ? `; carried out by ${owners.map(e).join(', ')}` : ''}`;
}

const groupText = (g: ContainmentGroup, e: Escape) => `${e(g.action)}: ${groupOutcome(g, e)}`;

/** One mailbox of a group named one by one. */
const mailboxText = (a: ChainAction, e: Escape, owner: string) => `${e(a.upn)} (${e(a.tier)}): ${actionText(a, e(owner), e)} (${e(a.rule)})`;

/** Why the circuit breaker held the chain's automatic actions back, each reason once. */
const heldBackReasons = (c: PlannedChain) => [...new Set(c.actions.flatMap((a) => (a.heldBack !== undefined ? [a.heldBack] : [])))];

const untouchedText = (u: PlannedChain['untouched'][number], e: Escape) => `${e(u.address)} (${e(u.reason)})`;

/** What was still not contained when the run read it; undefined: nothing, the chain is contained. */
function openCopies(c: PlannedChain): string | undefined {
  const { messages, invites } = c.open;
  if (!messages.length && !invites.length) return undefined;
  return `${count(messages.length, 'message copy', 'message copies')}, ${count(invites.length, 'invite copy', 'invite copies')} (as read, before this run's writes)`;
}

/** A chain on a terminal: from the delivery to its containment, or the one line of a chain not traced. */
function chainHuman(c: PlannedChain, s: Escape, owner: string): string[] {
  const head = `Chain ${s(c.id)} (${chainAbout(c, s)})`;
  if (!isTraced(c)) return [`${head}: not traced: ${s(c.notTraced ?? NO_MESSAGE)}`];
  const row = (label: string, text: string) => `    ${label.padEnd(10)} ${text}`;
  const out = [head, row('delivered', messageText(c.message, s))];
  for (const i of c.invites) out.push(row('invite', inviteText(i, s)));
  for (const l of c.leftAlone) out.push(row('left alone', leftAloneText(l, s)));
  for (const a of c.accounts) out.push(row('account', accountText(a, s)));
  for (const t of c.trace) out.push(row('trace', traceText(t, s)));
  const groups = containmentGroups(c);
  if (!groups.length) out.push(row('contain', 'no containment action'));
  for (const g of groups) {
    out.push(row('contain', groupText(g, s)));
    if (g.listed) for (const a of g.actions) out.push(`${' '.repeat(17)}${mailboxText(a, s, owner)}`);
  }
  for (const why of heldBackReasons(c)) out.push(row('held back', `by the circuit breaker: ${s(why)}`));
  for (const u of c.untouched) out.push(row('untouched', untouchedText(u, s)));
  const open = openCopies(c);
  out.push(`    ${open ? `still open: ${open}` : 'contained'}`);
  return out;
}

/** A chain as Markdown: its steps as a list, the mailboxes named one by one as a table. */
function chainMarkdown(c: PlannedChain, m: Escape, owner: string): string[] {
  if (!isTraced(c)) return [`### Chain ${m(c.id)}: not traced`, '', `${chainAbout(c, m)}. ${m(c.notTraced ?? NO_MESSAGE)}`];
  const item = (label: string, text: string) => `- **${label}** ${text}`;
  const out = [`### Chain ${m(c.id)}`, '', `${chainAbout(c, m)}.`, '', item('delivered', messageText(c.message, m))];
  for (const i of c.invites) out.push(item('invite', inviteText(i, m)));
  for (const l of c.leftAlone) out.push(item('left alone', leftAloneText(l, m)));
  for (const a of c.accounts) out.push(item('account', accountText(a, m)));
  for (const t of c.trace) out.push(item('trace', traceText(t, m)));
  const groups = containmentGroups(c);
  if (!groups.length) out.push(item('contain', 'no containment action'));
  for (const g of groups) out.push(item('contain', groupText(g, m)));
  for (const why of heldBackReasons(c)) out.push(item('held back', `by the circuit breaker: ${m(why)}`));
  for (const u of c.untouched) out.push(item('untouched', untouchedText(u, m)));
  const listed = groups.filter((g) => g.listed).flatMap((g) => g.actions);
  if (listed.length) {
    out.push('', '| mailbox | tier | action | disposition | writes | rule |', '| --- | --- | --- | --- | --- | --- |');
    for (const a of listed) out.push(`| ${m(a.upn)} | ${m(a.tier)} | ${m(a.action)} | ${m(a.disposition)}${a.heldBack !== undefined ? ' (held back)' : ''} | ${actionText(a, m(owner), m)} | ${m(a.rule)} |`);
  }
  const open = openCopies(c);
  out.push('', open ? `**Still open:** ${open}.` : '**Contained.**');
  return out;
}

/** A chain as a section of the HTML page. */
function chainHtml(c: PlannedChain, owner: string): string {
  if (!isTraced(c)) return `<section class="chain not-traced"><h2>Chain ${h(c.id)}: not traced</h2><p>${chainAbout(c, h)}. ${h(c.notTraced ?? NO_MESSAGE)}</p></section>`;
  const list = (cls: string, items: readonly string[]) => (items.length ? `<ul class="${cls}">${items.map((x) => `<li>${x}</li>`).join('')}</ul>` : '');
  const groups = containmentGroups(c);
  const contain = groups
    .map((g) => `<li class="${h(g.disposition)}"><strong>${h(g.action)}</strong>: ${groupOutcome(g, h)}${g.listed ? list('mailboxes', g.actions.map((a) => mailboxText(a, h, owner))) : ''}</li>`)
    .join('');
  const invites = [...c.invites.map((i) => `<li class="invite">${inviteText(i, h)}</li>`), ...c.leftAlone.map((l) => `<li class="left-alone"><strong>left alone</strong> ${leftAloneText(l, h)}</li>`)].join('');
  const open = openCopies(c);
  return [
    `<section class="chain"><h2>Chain ${h(c.id)}</h2><p>${chainAbout(c, h)}</p>`,
    `<h3>Delivered</h3><p class="message">${messageText(c.message, h)}</p>`,
    invites ? `<h3>Invites</h3><ul>${invites}</ul>` : '',
    c.accounts.length ? `<h3>Accounts</h3>${list('accounts', c.accounts.map((a) => accountText(a, h)))}` : '',
    c.trace.length ? `<h3>Trace</h3><ol class="trace">${c.trace.map((t) => `<li><strong>${h(t.source)}</strong>: ${h(t.found)}</li>`).join('')}</ol>` : '',
    `<h3>Containment</h3>${groups.length ? `<ul>${contain}</ul>` : '<p>no containment action</p>'}`,
    heldBackReasons(c).map((why) => `<p class="protected">Held back by the circuit breaker: ${h(why)}</p>`).join(''),
    c.untouched.length ? `<h3>Untouched</h3>${list('untouched', c.untouched.map((u) => untouchedText(u, h)))}` : '',
    open ? `<p class="state open">Still open: ${open}</p>` : '<p class="state contained">Contained</p>',
    '</section>',
  ].join('');
}

/** The response plan on a terminal. */
export function renderResponseHuman(input: ResponsePlan): string {
  const p = redactSecrets(input);
  const s = (v: unknown) => terminalSafe(String(v));
  const out: string[] = [`Signals observed from ${s(p.window.since)}; the newest read was observed at ${s(p.window.until)}.`];
  for (const inc of p.incidents) {
    out.push('', `Incident ${s(inc.id)}: ${s(inc.identity.upn)} (${s(inc.tier)}, ${s(inc.confidence)} confidence), opened ${s(inc.openedAt)}`);
    for (const sig of inc.signals) out.push(`    signal  ${s(sig.source)} ${s(sig.id)} (${sig.rule < 0 ? 'no rule' : `${s(sig.confidence)}, rule ${sig.rule + 1}`}): ${s(sig.title)}`);
    for (const a of inc.actions) out.push(`    ${a.disposition.padEnd(9)} ${s(a.action)}: ${actionText(a, s(p.owner), s)} (${s(a.rule)})${a.heldBack ? ' [held back by the circuit breaker]' : ''}`);
  }
  for (const c of p.chains ?? []) out.push('', ...chainHuman(c, s, p.owner));
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
  for (const c of p.chains ?? []) out.push('', ...chainMarkdown(c, m, p.owner));
  for (const inc of p.protected) out.push('', `> ${m(breakGlassText(inc, inc.identity.upn, inc.id))}`);
  const aside = setAsideText(p);
  if (aside) out.push('', m(aside));
  if (p.circuitBreaker) out.push('', `**Circuit breaker:** ${m(p.circuitBreaker)}.`);
  if (p.approvals.length) out.push('', `### Waiting for approval`, '', ...p.approvals.map((c: PlannedChange) => `- ${m(describeChange(c))}`));
  return `${out.join('\n')}\n`;
}

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
  const chains = (p.chains ?? []).map((c) => chainHtml(c, p.owner)).join('\n');
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
<style>body{font:14px system-ui,sans-serif;margin:2rem;max-width:70rem;overflow-wrap:anywhere}section.incident{border:1px solid #ccc;border-radius:6px;padding:0 1rem;margin:1rem 0}.automatic strong{color:#0a6}.approval strong{color:#b60}.never strong{color:#888}.rule{color:#666;font-size:12px}.protected{background:#fee;padding:.5rem}.incomplete{background:#fee;border:2px solid #c00;border-radius:6px;padding:0 1rem}section.chain{border:1px solid #ccc;border-left:4px solid #b60;border-radius:6px;padding:0 1rem;margin:1rem 0}.left-alone{color:#666}.state{padding:.5rem;font-weight:600}.state.open{background:#fee}.state.contained{background:#efe}</style>
</head><body>
<h1>email-posture response: ${h(p.organization)}</h1>
${incomplete}
${guarded}
${rows}
${chains}
${aside ? `<p>${h(aside)}</p>` : ''}
${watches}
${p.circuitBreaker ? `<p><strong>Circuit breaker:</strong> ${h(p.circuitBreaker)}.</p>` : ''}
${approvals}
</body></html>
`;
}
