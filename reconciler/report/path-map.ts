import type { Owner } from '../manifest/schema.js';
import { FAILURE_KINDS, OUTCOMES, type FailureKind, type MappedPath, type Outcome, type PathMap } from '../model/paths.js';
import { h } from './html-text.js';

/**
 * The inbound path map drawn for the HTML report (docs/inbound-paths.md): per path a flow from the
 * internet through its entry, its connector and what skips filtering on it, to Exchange Online
 * Protection and what becomes of mail that fails authentication, kind by kind; under it the owners,
 * the exception and what was observed. Boxes and arrows are HTML and CSS (the classes are styled in
 * html.ts's STYLE, under one Content-Security-Policy hash), laid out in a row on a laptop and in a
 * column on a phone. Every string of the map is tenant data and goes through the report's `h`.
 *
 * html.ts imports this module and this module imports `h` from html.ts: `h` is only used inside
 * functions, once both modules are loaded.
 */

const KIND_LABEL: Readonly<Record<FailureKind, string>> = {
  'dmarc-reject': 'DMARC fail, p=reject',
  'dmarc-quarantine': 'DMARC fail, p=quarantine',
  'spf-hardfail': 'SPF hard fail',
  'compauth-fail': 'Composite authentication fail',
};

const OUTCOME_LABEL: Readonly<Record<Outcome, string>> = { reject: 'reject', quarantine: 'quarantine', junk: 'junk', inbox: 'inbox' };
const OBSERVED_LABEL: Readonly<Record<Outcome, string>> = { reject: 'rejected', quarantine: 'quarantined', junk: 'junk', inbox: 'inbox' };

const ENTRY_LABEL: Readonly<Record<MappedPath['entry'], string>> = {
  eop: 'Exchange Online Protection directly',
  gateway: 'Gateway in front of Exchange Online Protection',
  partner: 'Partner connector',
};

/** By bypass kind; a kind not listed is shown by its name. */
const BYPASS_LABEL: Readonly<Record<string, string>> = {
  'scl-minus-one': 'transport rule, SCL -1',
  'ip-allow-list': 'connection filter IP allow list',
  'spoof-allow': 'spoof allow pair',
  'allowed-sender': 'allowed sender or domain of the anti-spam policy',
};

/** Whether enhanced filtering looks past the gateway for everyone: anything less on a gateway breaks the path. */
const brokenFiltering = (p: MappedPath): boolean => p.entry === 'gateway' && p.enhancedFiltering !== 'on' && p.enhancedFiltering !== 'not-applicable';

const count = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

function step(cls: string, label: string, body: string): string {
  return `<div class="pm-step ${cls}"><span class="pm-label">${h(label)}</span>${body}</div>`;
}

/** A host name escaped, with a line break allowed after each dot (the escaped text holds no other dot). */
const hostName = (host: string): string => h(host).replace(/\./g, '.<wbr>');

const ARROW = '<span class="pm-arrow" aria-hidden="true"></span>';

function entryStep(p: MappedPath): string {
  if (p.entry === 'partner') {
    return step('pm-entry', 'Entry', `<span class="pm-name">Partner</span><span class="pm-sub">no MX: the partner sends to the connector, for every accepted domain</span>`);
  }
  const hosts =
    p.hosts.length > 0
      ? `<ul class="pm-hosts">${p.hosts.map((host) => `<li><code>${hostName(host)}</code></li>`).join('')}</ul>`
      : '<span class="pm-sub">no MX host read</span>';
  return step('pm-entry', p.entry === 'gateway' ? 'Entry: gateway MX' : p.unpublished ? 'Entry: direct, no MX names it' : 'Entry: MX', hosts);
}

function connectorStep(p: MappedPath): string {
  const name = p.connector ? `<span class="pm-name">${h(p.connector)}</span>` : `<span class="pm-sub">${p.entry === 'eop' ? 'none: straight to Exchange Online' : 'none read'}</span>`;
  const ef = p.enhancedFiltering;
  // Only a gateway needs enhanced filtering: elsewhere the setting is shown, not coloured.
  const efClass = p.entry !== 'gateway' || ef === 'not-applicable' ? 'ef-na' : ef === 'on' ? 'ef-on' : ef === 'off' ? 'ef-off' : 'ef-partial';
  const efText = ef === 'not-applicable' ? 'not applicable' : ef;
  const badge = `<span class="pm-badge ${efClass}">enhanced filtering: ${h(efText)}</span>`;
  const broken = brokenFiltering(p)
    ? `<span class="pm-break-note">${ef === 'off' ? 'Break' : 'Partial'}: Exchange Online Protection judges the gateway’s IP, not the sender${ef === 'test' ? ' (test mode only)' : ef === 'some' ? ' (for recipients outside EFUsers)' : ''}</span>`
    : '';
  return step(`pm-connector${brokenFiltering(p) ? ' pm-break' : ''}`, 'Connector', `${name}${badge}${broken}`);
}

function bypassStep(p: MappedPath): string {
  if (p.bypasses.length === 0) return step('pm-bypasses', 'Skips filtering', '<span class="pm-sub">nothing</span>');
  const items = p.bypasses.map(
    (b) =>
      `<li class="pm-bypass scope-${b.scope === 'all' ? 'all' : 'some'}"><span class="pm-name">${h(b.name)}</span>` +
      `<span class="pm-badge ${b.scope === 'all' ? 'ef-off' : 'ef-partial'}">${b.scope === 'all' ? 'all mail' : 'some senders'}</span>` +
      `<span class="pm-sub">${h(BYPASS_LABEL[b.kind] ?? b.kind)}: ${h(b.detail)}</span>` +
      (b.excepted ? `<span class="pm-sub">${b.excepted.inForce ? 'exception' : 'EXPIRED exception'} ${h(b.excepted.id)} until ${h(b.excepted.expires)}</span>` : '') +
      '</li>',
  );
  return step(`pm-bypasses${p.bypasses.some((b) => b.scope === 'all') ? ' pm-break' : ''}`, 'Skips filtering', `<ul class="pm-list">${items.join('')}</ul>`);
}

function eopStep(p: MappedPath): string {
  const notes: string[] = [];
  if (p.bypasses.some((b) => b.scope === 'all')) notes.push('skipped for all mail on this path');
  else if (p.bypasses.length > 0) notes.push('skipped for the senders listed');
  if (brokenFiltering(p)) notes.push('sees the gateway, not the sender');
  return step(
    'pm-eop',
    'Exchange Online Protection',
    `<span class="pm-name">anti-phishing · anti-spam</span>${notes.map((n) => `<span class="pm-sub">${h(n)}</span>`).join('')}`,
  );
}

/** The entry kinds a class name may carry; anything else (a plan file is outside input) is `unknown`. */
const ENTRY_KINDS: readonly string[] = ['eop', 'gateway', 'partner'];

function outcomeStep(p: MappedPath): string {
  const chips = FAILURE_KINDS.map((kind) => {
    const d = p.dispositions[kind];
    const outcome: Outcome = OUTCOMES.includes(d.outcome) ? d.outcome : 'inbox';
    const short = p.short.includes(kind);
    const required = p.required[kind];
    return (
      `<li class="pm-chip o-${outcome}${short ? ' short' : ''}" data-kind="${kind}" data-outcome="${outcome}" data-short="${short}" title="${h(d.because)}">` +
      `<span class="pm-kind">${h(KIND_LABEL[kind])}</span>` +
      `<span class="pm-out">${h(OUTCOME_LABEL[outcome])}</span>` +
      (short ? `<span class="pm-req">short: requires ${h(required)}</span>` : '') +
      '</li>'
    );
  });
  return step('pm-outcomes', 'Failing mail', `<ul class="pm-chips">${chips.join('')}</ul>`);
}

/** Each outcome's reason as visible text: kinds with the same outcome for the same reason share a line. */
function because(p: MappedPath): string {
  const groups: Array<{ kinds: FailureKind[]; outcome: string; because: string }> = [];
  for (const kind of FAILURE_KINDS) {
    const d = p.dispositions[kind];
    const same = groups.find((g) => g.outcome === d.outcome && g.because === d.because);
    if (same) same.kinds.push(kind);
    else groups.push({ kinds: [kind], outcome: d.outcome, because: d.because });
  }
  const rows = groups.map((g) => {
    const kinds = g.kinds.length === FAILURE_KINDS.length ? 'Every failure kind' : g.kinds.map((k) => KIND_LABEL[k]).join('; ');
    return `<li><strong>${h(kinds)} → ${h(g.outcome)}</strong>: ${h(g.because)}</li>`;
  });
  return `<details class="pm-why" open><summary>Why these outcomes</summary><ul>${rows.join('')}</ul></details>`;
}

function owner(role: string, o: Owner | undefined): string {
  const who = o
    ? `<span class="who">${h(o.name)}</span><span class="sub">${h(o.team)} · ${h(o.contact)}</span>`
    : '<span class="pm-unowned">unowned</span>';
  return `<div${o ? '' : ' class="unowned"'}><dt>${h(role)}</dt><dd>${who}</dd></div>`;
}

function exception(p: MappedPath): string {
  const e = p.exception;
  if (!e) return '';
  const when = e.inForce ? `expires ${h(e.expires)}` : `<strong>expired ${h(e.expires)}</strong>`;
  const control = e.compensatingControl ? `compensating control: ${h(e.compensatingControl)}` : 'no compensating control declared';
  return (
    `<p class="pm-exception${e.inForce ? '' : ' expired'}"><span class="pm-label">${e.inForce ? 'Exception' : 'Exception (expired)'}</span> ` +
    `<code>${h(e.id)}</code> · approved by ${h(e.approvedBy)} · ${when} · ${control}</p>`
  );
}

function observed(p: MappedPath): string {
  const o = p.observed;
  if (!o) return '';
  const counts = OUTCOMES.map((k) => `<li class="o-${k}${(o.byOutcome[k] ?? 0) === 0 ? ' zero' : ''}"><span class="n">${h(o.byOutcome[k] ?? 0)}</span> ${h(OBSERVED_LABEL[k])}</li>`);
  const despite =
    o.deliveredDespiteFailure > 0
      ? `<strong class="pm-despite">${h(o.deliveredDespiteFailure)} delivered despite failure</strong>`
      : `<span class="pm-despite-none">${h(o.deliveredDespiteFailure)} delivered despite failure</span>`;
  return `<div class="pm-observed"><span class="pm-label">Observed</span> <span>${h(count(o.failed, 'failing message'))}:</span> <ul class="pm-counts">${counts.join('')}</ul> ${despite}</div>`;
}

function pathArticle(p: MappedPath, index: number): string {
  const title = p.domain === '*' ? 'every accepted domain' : p.domain;
  const status =
    p.short.length > 0
      ? `<span class="pill pm-short-pill">short on ${h(count(p.short.length, 'failure kind'))}</span>`
      : '<span class="pill pm-ok-pill">meets the posture</span>';
  const flow = [
    step('pm-internet', 'From', '<span class="pm-name">Internet</span>'),
    entryStep(p),
    connectorStep(p),
    bypassStep(p),
    eopStep(p),
    outcomeStep(p),
  ].join(ARROW);
  return [
    `<article class="pm-path entry-${ENTRY_KINDS.includes(p.entry) ? p.entry : 'unknown'}${p.short.length > 0 ? ' is-short' : ''}" id="path-${index + 1}" data-path="${h(p.key)}" aria-labelledby="path-${index + 1}-title">`,
    `<header><h3 id="path-${index + 1}-title">${h(title)} <span class="pm-entry-kind">${h(ENTRY_LABEL[p.entry] ?? p.entry)}</span></h3>${status}<code class="pm-key">${h(p.key)}</code></header>`,
    `<div class="pm-flow">${flow}</div>`,
    because(p),
    `<dl class="pm-owners">${owner('Routing', p.owners.routing)}${owner('Policy', p.owners.policy)}${owner('Objective', p.owners.objective)}</dl>`,
    exception(p),
    observed(p),
    '</article>',
  ]
    .filter((line) => line !== '')
    .join('\n');
}

/**
 * The "Inbound paths" section of the HTML report: at its top the evidence period (when mail was
 * read for it) and how many failing messages no path accounts for, then one drawing per path.
 */
export function pathMapHtml(map: PathMap): string {
  const shortPaths = map.paths.filter((p) => p.short.length > 0).length;
  const excepted = map.paths.filter((p) => p.exception).length;
  const headline = [count(map.paths.length, 'path'), `${shortPaths} short of the posture`, ...(excepted > 0 ? [`${excepted} under an exception`] : [])].join(' · ');
  const top: string[] = [`<p class="pm-headline">${h(headline)}</p>`];
  const e = map.evidence;
  if (e) {
    top.push(
      `<p class="pm-evidence">Evidence period <time datetime="${h(e.from)}">${h(e.from)}</time> to <time datetime="${h(e.to)}">${h(e.to)}</time>: ` +
        `${h(count(e.failed, 'inbound message'))} failed authentication; ` +
        `<span class="${e.unattributed > 0 ? 'pm-unattributed' : ''}">${h(e.unattributed)} unattributed</span> (no path of the map accounts for them)</p>`,
    );
  }
  top.push(
    '<p class="legend pm-legend">Outcome of mail that fails authentication: <span class="pm-mini o-reject">reject</span> <span class="pm-mini o-quarantine">quarantine</span> <span class="pm-mini o-junk">junk</span> <span class="pm-mini o-inbox">inbox</span> <span class="pm-mini o-inbox short">short of the posture</span></p>',
  );
  const paths = map.paths.length > 0 ? map.paths.map(pathArticle) : ['<p class="pm-none">No inbound path: no accepted domain receives mail from the internet.</p>'];
  return [
    '<section id="inbound-paths" class="pm" aria-labelledby="inbound-paths-title">',
    '<h2 id="inbound-paths-title">Inbound paths</h2>',
    ...top,
    ...paths,
    '</section>',
  ].join('\n');
}
