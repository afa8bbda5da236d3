import { createHash } from 'node:crypto';
import { resolveControl } from '../../policies/catalogue.js';
import type { Severity } from '../../policies/types.js';
import type { Finding, FindingStatus } from '../model/finding.js';
import type { ControlResult, ControlResultKind, PlanDocument } from '../model/plan.js';
import type { Owner } from '../manifest/schema.js';
import { redactSecrets } from '../core/redact.js';
import { controlCsvRecord, csvHeader, findingCsvRecord } from './csv.js';
import { pathMapHtml } from './path-map.js';
import {
  changesText,
  compareFindings,
  groupByOwner,
  isActionable,
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
  type Tally,
} from './shared.js';

import { h } from './html-text.js';

const STATUS_ORDER: readonly FindingStatus[] = ['drift', 'missing', 'unmanaged', 'violation', 'exception-expired', 'excepted', 'not-evaluated'];

const STYLE = `
:root {
  color-scheme: light;
  --ink: #1d2433; --muted: #5b6578; --line: #dfe3ea; --paper: #ffffff; --bg: #f3f5f8;
  --critical: #b42318; --critical-bg: #fef3f2; --high: #c2410c; --high-bg: #fff6ed;
  --medium: #a16207; --medium-bg: #fefce8; --low: #3e5c76; --low-bg: #eff4f8;
  --excepted: #6941c6; --excepted-bg: #f4f3ff; --noteval: #5b6578; --noteval-bg: #f2f4f7;
  --ok: #067647; --ok-bg: #ecfdf3; --accent: #1f4e8c;
  --zero: #667085; --zero-large: #848e9f;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
.visually-hidden { position: absolute !important; width: 1px !important; height: 1px !important; padding: 0 !important; margin: -1px !important; overflow: hidden !important; clip: rect(0 0 0 0) !important; clip-path: inset(50%) !important; white-space: nowrap !important; border: 0 !important; }
html { background: var(--bg); }
body { margin: 0; color: var(--ink); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
code, pre { font-family: var(--mono); font-size: 13px; }
.page { max-width: 1180px; margin: 0 auto; padding: 0 24px 48px; }
.top { background: #17233b; color: #fff; }
.top .page { padding-top: 22px; padding-bottom: 22px; }
.eyebrow { margin: 0; font-size: 12px; letter-spacing: .08em; text-transform: uppercase; color: #aab8d4; }
.top h1 { margin: 2px 0 10px; font-size: 26px; font-weight: 650; }
.meta { display: flex; flex-wrap: wrap; gap: 6px 24px; margin: 0; font-size: 13px; color: #d4dcec; }
.meta div { display: flex; gap: 6px; }
.meta dt { color: #93a3c3; }
.meta dd { margin: 0; overflow-wrap: anywhere; }
h2 { font-size: 19px; margin: 32px 0 12px; }
h3 { font-size: 16px; margin: 0; }
.banner { margin-top: 24px; border: 2px solid var(--critical); background: var(--critical-bg); border-radius: 10px; padding: 14px 18px; }
.banner h2 { margin: 0 0 6px; color: var(--critical); font-size: 17px; }
.banner ul { margin: 0; padding-left: 20px; }
.banner li { margin: 4px 0; }
.verdict { margin: 24px 0 0; padding: 14px 18px; border-radius: 10px; font-size: 17px; font-weight: 600; }
.verdict.bad { background: var(--critical-bg); color: var(--critical); border: 1px solid #fecdca; }
.verdict.ok { background: var(--ok-bg); color: var(--ok); border: 1px solid #abefc6; }
.verdict .changes { display: block; font-size: 14px; font-weight: 500; color: var(--muted); margin-top: 2px; }
.cards { display: grid; grid-template-columns: repeat(6, minmax(0, 1fr)); gap: 12px; margin: 16px 0 0; padding: 0; list-style: none; }
.card { background: var(--paper); border: 1px solid var(--line); border-top: 4px solid var(--c, var(--line)); border-radius: 10px; padding: 10px 14px; }
.card .n { display: block; font-size: 28px; font-weight: 700; line-height: 1.2; color: var(--c, var(--ink)); }
.card .l { font-size: 13px; color: var(--muted); }
.card.zero .n { color: var(--zero-large); }
.c-critical { --c: var(--critical); --cb: var(--critical-bg); } .c-high { --c: var(--high); --cb: var(--high-bg); }
.c-medium { --c: var(--medium); --cb: var(--medium-bg); } .c-low { --c: var(--low); --cb: var(--low-bg); }
.c-excepted { --c: var(--excepted); --cb: var(--excepted-bg); } .c-not-evaluated { --c: var(--noteval); --cb: var(--noteval-bg); }
.table-wrap { position: relative; max-width: 100%; overflow-x: auto; background: var(--paper); border: 1px solid var(--line); border-radius: 10px; }
.table-wrap:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
table { border-collapse: collapse; width: 100%; background: var(--paper); }
th, td { text-align: left; padding: 8px 12px; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { background: #f8f9fb; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 600; }
tbody th { font-weight: 400; }
tbody tr:last-child td { border-bottom: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; width: 84px; }
th.num { white-space: nowrap; }
td.num.zero { color: var(--zero); }
td.num.hot { font-weight: 700; color: var(--c); }
tfoot td { font-weight: 700; background: #f8f9fb; border-top: 1px solid var(--line); border-bottom: 0; }
.who { font-weight: 600; }
.sub { display: block; color: var(--muted); font-size: 13px; overflow-wrap: anywhere; }
.filters { display: flex; flex-wrap: wrap; align-items: end; gap: 12px 18px; margin: 28px 0 0; padding: 12px 16px; background: var(--paper); border: 1px solid var(--line); border-radius: 10px; }
.filters .field { display: flex; flex-direction: column; gap: 3px; }
.filters label { font-size: 12px; color: var(--muted); font-weight: 600; }
.filters select, .filters button { font: inherit; font-size: 14px; padding: 5px 8px; border: 1px solid #c7cdd8; border-radius: 6px; background: #fff; color: var(--ink); }
.filters button { cursor: pointer; }
.filters select { max-width: 22em; }
.filters output { margin-left: auto; font-size: 13px; color: var(--muted); align-self: center; }
.filters .field.search { flex: 1 1 14em; min-width: 0; max-width: 24em; }
.filters input[type="search"] { font: inherit; font-size: 14px; padding: 5px 8px; border: 1px solid #c7cdd8; border-radius: 6px; background: #fff; color: var(--ink); width: 100%; min-width: 0; }
.filters select:focus-visible, .filters button:focus-visible, .filters input:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }
.filters .actions { display: flex; flex-wrap: wrap; gap: 8px; }
.filters .hint { font-size: 12px; color: var(--muted); flex-basis: 100%; margin: -6px 0 0; }
.control-tally { margin: 12px 0 0; font-size: 14px; color: var(--muted); }
.control-tally a { color: var(--accent); font-weight: 600; }
.empty { margin: 0 0 12px; padding: 10px 14px; background: var(--paper); border: 1px dashed #c7cdd8; border-radius: 10px; color: var(--muted); }
.noscript, .note { font-size: 13px; color: var(--muted); margin: 16px 0 0; }
.print-filter { display: none; }
.group { margin: 0 0 22px; }
.group > h3 { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 10px; padding: 6px 0 8px; border-bottom: 2px solid var(--line); margin-bottom: 12px; }
.group > h3 .sub { display: inline; font-weight: 400; }
.finding { background: var(--paper); border: 1px solid var(--line); border-left: 5px solid var(--c); border-radius: 10px; padding: 12px 16px 14px; margin: 0 0 12px; }
.finding > header { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 8px; }
.finding h4 { margin: 0 4px 0 2px; font-size: 15px; overflow-wrap: anywhere; }
.rtype { font-weight: 500; color: var(--muted); font-family: var(--mono); font-size: 13px; margin-right: 4px; }
.outcome { color: var(--muted); font-size: 13px; }
.sign { display: inline-flex; align-items: center; justify-content: center; width: 24px; height: 24px; border-radius: 6px; font: 700 15px/1 var(--mono); background: var(--cb); color: var(--c); border: 1px solid var(--c); }
.pill { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; background: var(--cb, #eef0f4); color: var(--c, var(--ink)); border: 1px solid var(--c, transparent); white-space: nowrap; }
.pill.status { background: #eef0f4; color: #344054; border-color: #d0d5dd; }
.summary { margin: 8px 0 8px; font-size: 15px; overflow-wrap: anywhere; }
.facts { display: grid; grid-template-columns: 9.5em 1fr; gap: 3px 14px; margin: 0; font-size: 13px; }
.facts dt { color: var(--muted); font-weight: 600; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.facts ul.reasons { margin: 2px 0 0; padding-left: 1.2em; }
.block { margin-top: 10px; }
.block .label { font-size: 12px; font-weight: 600; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin-bottom: 3px; }
pre { margin: 0; padding: 8px 12px; background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; white-space: pre-wrap; overflow-wrap: anywhere; }
.op-add { color: #067647; } .op-remove { color: #b42318; } .op-replace { color: #93370d; }
.controls { table-layout: fixed; min-width: 44rem; }
.controls col.c-resource { width: 27%; } .controls col.c-status { width: 172px; } .controls col.c-sev { width: 104px; } .controls col.c-owner { width: 17%; }
.controls tbody th[colspan] { background: #f8f9fb; border-top: 2px solid var(--line); padding: 10px 12px; font-size: 14px; font-weight: 600; }
.controls tbody th[colspan] code { font-weight: 700; margin-right: 6px; }
.controls tbody th[colspan] .pill { margin-left: 6px; }
.controls td { overflow-wrap: anywhere; }
.controls a { color: var(--accent); white-space: nowrap; }
.results { table-layout: fixed; min-width: 44rem; }
.results col.r-control { width: 27%; } .results col.r-result { width: 140px; } .results col.r-sev { width: 104px; } .results col.r-owner { width: 17%; }
.results tbody th { font-weight: 400; overflow-wrap: anywhere; }
.results tbody th code { font-weight: 700; margin-right: 6px; }
.results td { overflow-wrap: anywhere; }
.results ul.checked { margin: 0; padding-left: 1.1em; }
.results a { color: var(--accent); }
.r-passed { --c: var(--ok); --cb: var(--ok-bg); } .r-failed { --c: var(--critical); --cb: var(--critical-bg); }
.r-excepted { --c: var(--excepted); --cb: var(--excepted-bg); } .r-not-evaluated { --c: var(--noteval); --cb: var(--noteval-bg); }
.legend { margin: -4px 0 14px; font-size: 13px; color: var(--muted); }
.legend code { display: inline-block; min-width: 1.2em; text-align: center; font-weight: 700; color: var(--ink); }
footer { color: var(--muted); font-size: 12px; margin-top: 36px; border-top: 1px solid var(--line); padding-top: 12px; overflow-wrap: anywhere; }
.pm-headline { margin: -4px 0 6px; font-size: 14px; color: var(--muted); }
.pm-evidence { margin: 0 0 8px; font-size: 14px; overflow-wrap: anywhere; }
.pm-unattributed { font-weight: 700; color: var(--high); }
.pm-legend { margin: 0 0 14px; }
.pm-path { background: var(--paper); border: 1px solid var(--line); border-left: 5px solid var(--ok); border-radius: 10px; padding: 12px 16px 14px; margin: 0 0 14px; min-width: 0; }
.pm-path.is-short { border-left-color: var(--critical); }
.pm-path > header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 10px; margin-bottom: 10px; }
.pm-path h3 { overflow-wrap: anywhere; min-width: 0; }
.pm-entry-kind { font-weight: 400; color: var(--muted); font-size: 14px; margin-left: 4px; }
.pm-key { color: var(--muted); font-size: 12px; overflow-wrap: anywhere; min-width: 0; }
.pm-short-pill { --c: var(--critical); --cb: var(--critical-bg); }
.pm-ok-pill { --c: var(--ok); --cb: var(--ok-bg); }
.pm-flow { display: flex; flex-wrap: wrap; align-items: stretch; gap: 8px 0; }
.pm-step { flex: 1 1 130px; min-width: 0; display: flex; flex-direction: column; gap: 3px; padding: 8px 10px; border: 1px solid #c7cdd8; border-radius: 8px; background: #f8f9fb; font-size: 13px; overflow-wrap: anywhere; }
.pm-step.pm-internet { flex: 0 0 auto; justify-content: center; background: #17233b; border-color: #17233b; color: #fff; }
.pm-step.pm-internet .pm-label { color: #aab8d4; }
.pm-step.pm-eop { background: #eff4f8; border-color: #b9cadb; }
.pm-step.pm-outcomes { flex: 2 1 250px; background: var(--paper); }
.pm-step.pm-break { border: 2px dashed var(--critical); background: var(--critical-bg); }
.pm-label { font-size: 11px; font-weight: 600; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.pm-name { font-weight: 600; }
.pm-sub { color: var(--muted); font-size: 12px; }
.pm-step code { font-size: 12px; }
.pm-hosts, .pm-list, .pm-chips, .pm-counts { margin: 0; padding: 0; list-style: none; }
.pm-list { display: flex; flex-direction: column; gap: 6px; }
.pm-bypass { display: flex; flex-wrap: wrap; align-items: baseline; gap: 2px 6px; }
.pm-bypass .pm-sub { flex-basis: 100%; }
.pm-arrow { flex: 0 0 22px; display: flex; align-items: center; justify-content: center; color: var(--muted); font-size: 18px; font-weight: 700; }
.pm-arrow::before { content: "→"; }
.pm-badge { align-self: flex-start; display: inline-block; max-width: 100%; padding: 0 7px; border-radius: 8px; font-size: 11px; font-weight: 600; border: 1px solid; }
.ef-on { color: var(--ok); background: var(--ok-bg); }
.ef-partial { color: var(--medium); background: var(--medium-bg); }
.ef-off { color: #fff; background: var(--critical); border-color: var(--critical); }
.ef-na { color: var(--muted); background: #fff; }
.pm-break-note { color: var(--critical); font-weight: 600; font-size: 12px; }
.pm-chips { display: flex; flex-direction: column; gap: 4px; }
.pm-chip { display: flex; flex-wrap: wrap; align-items: center; gap: 2px 8px; padding: 3px 8px; border-radius: 6px; border: 1px solid var(--c); background: var(--cb); }
.pm-kind { flex: 1 1 8em; min-width: 0; font-size: 12px; color: var(--ink); }
.pm-out { font-weight: 700; color: var(--c); text-transform: uppercase; font-size: 12px; letter-spacing: .03em; }
.pm-req { flex-basis: 100%; font-size: 12px; font-weight: 600; color: var(--critical); }
.o-reject { --c: var(--ok); --cb: var(--ok-bg); }
.o-quarantine { --c: var(--excepted); --cb: var(--excepted-bg); }
.o-junk { --c: var(--medium); --cb: var(--medium-bg); }
.o-inbox { --c: var(--noteval); --cb: var(--noteval-bg); }
.pm-chip.short { --c: var(--critical); --cb: var(--critical-bg); border-width: 2px; }
.pm-chip.short.o-inbox { --cb: #fee4e2; }
.pm-mini { display: inline-block; padding: 0 7px; border-radius: 6px; border: 1px solid var(--c); background: var(--cb); color: var(--c); font-weight: 600; font-size: 12px; }
.pm-mini.short { --c: var(--critical); --cb: #fee4e2; }
.pm-why { margin-top: 8px; font-size: 13px; }
.pm-why summary { cursor: pointer; color: var(--accent); font-weight: 600; }
.pm-why ul { margin: 4px 0 0; padding-left: 1.2em; }
.pm-why li { overflow-wrap: anywhere; }
.pm-owners { display: flex; flex-wrap: wrap; gap: 6px 28px; margin: 10px 0 0; padding-top: 8px; border-top: 1px solid var(--line); font-size: 13px; }
.pm-owners > div { min-width: 0; overflow-wrap: anywhere; }
.pm-owners dt { font-size: 11px; font-weight: 600; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.pm-owners dd { margin: 0; }
.pm-unowned { font-weight: 700; color: var(--critical); }
.pm-exception { margin: 8px 0 0; padding: 6px 10px; border-radius: 6px; background: var(--excepted-bg); border: 1px solid #d9d6fe; font-size: 13px; overflow-wrap: anywhere; }
.pm-exception .pm-label { color: var(--excepted); }
.pm-exception.expired { background: var(--critical-bg); border-color: #fecdca; }
.pm-exception.expired .pm-label, .pm-exception.expired strong { color: var(--critical); }
.pm-observed { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 10px; margin: 8px 0 0; font-size: 13px; }
.pm-counts { display: flex; flex-wrap: wrap; gap: 4px 10px; }
.pm-counts li { color: var(--c); }
.pm-counts li .n { font-weight: 700; font-variant-numeric: tabular-nums; }
.pm-counts li.zero { color: var(--zero); }
.pm-despite { color: #fff; background: var(--critical); padding: 1px 8px; border-radius: 6px; }
.pm-despite-none { color: var(--ok); }
@media (max-width: 640px) {
  .pm-flow { flex-direction: column; gap: 0; }
  .pm-step, .pm-step.pm-internet, .pm-step.pm-outcomes { flex: 0 0 auto; }
  .pm-arrow { flex: 0 0 22px; }
  .pm-arrow::before { content: "↓"; }
}
@media (max-width: 960px) {
  /* The owner table may scroll sideways here: the owners stay in view, the counts pass under them. */
  .owners tbody th, .owners thead th:first-child, .owners tfoot td:first-child { position: sticky; left: 0; z-index: 1; min-width: 12rem; box-shadow: inset -1px 0 0 var(--line); }
  .owners tbody th { background: var(--paper); }
}
@media (max-width: 860px) {
  .cards { grid-template-columns: repeat(3, minmax(0, 1fr)); }
  /* The by-control table stacked: each finding a block, its cells one under the other. */
  .controls, .controls tbody, .controls tr, .controls th, .controls td { display: block; }
  .controls { min-width: 0; }
  .controls colgroup { display: none; }
  .controls thead { position: absolute; width: 1px; height: 1px; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap; }
  .controls tr[data-finding] { padding: 8px 12px 10px; border-bottom: 1px solid var(--line); }
  .controls tbody tr:last-child { border-bottom: 0; }
  .controls td { padding: 2px 0; border: 0; }
  .controls td.ctl-status, .controls td.ctl-sev { display: inline-block; margin: 4px 6px 2px 0; }
  .controls td.ctl-owner::before { content: "Owner: "; color: var(--muted); font-weight: 600; }
  .controls td.ctl-owner .sub { display: inline; }
  .controls td.ctl-owner .sub::before { content: " · "; }
  /* The controls table stacked the same way: each control a block. */
  .results, .results tbody, .results tr, .results th, .results td { display: block; }
  .results { min-width: 0; }
  .results colgroup { display: none; }
  .results thead { position: absolute; width: 1px; height: 1px; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap; }
  .results tr { padding: 8px 12px 10px; border-bottom: 1px solid var(--line); }
  .results tbody tr:last-child { border-bottom: 0; }
  .results th, .results td { padding: 2px 0; border: 0; }
  .results td.res-result, .results td.res-sev { display: inline-block; margin: 4px 6px 2px 0; }
  .results td.res-owner::before { content: "Owner: "; color: var(--muted); font-weight: 600; }
  .results td.res-owner .sub { display: inline; }
  .results td.res-owner .sub::before { content: " · "; }
}
@media print {
  .filters, .noscript { display: none !important; }
  .print-filter { display: block; margin: 16px 0 0; padding: 8px 12px; border: 2px solid var(--ink); border-radius: 6px; background: var(--paper); font-weight: 600; }
  .table-wrap { overflow: visible; }
  .owners tbody th, .owners thead th:first-child, .owners tfoot td:first-child { position: static; min-width: 0; box-shadow: none; }
  td.num, th.num { width: auto; }
  th.num { white-space: normal; }
  .owners th, .owners td { padding: 6px 8px; }
  .finding, .pm-path, .results tr { break-inside: avoid; }
  html { background: #fff; }
  .pm-path, .pm-step, .pm-chip, .pm-badge, .pm-mini, .pm-despite, .pm-exception { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
}
`;

const SCRIPT = String.raw`
(() => {
  const form = document.getElementById('filters');
  if (!form) return;
  form.hidden = false;
  const note = document.getElementById('filters-note');
  if (note) note.hidden = true;
  // Only dataset, hidden and textContent are set from here on: no markup is built from the report's text.
  const items = Array.from(document.querySelectorAll('[data-finding]'));
  const rows = Array.from(document.querySelectorAll('[data-control-result]'));
  const groups = Array.from(document.querySelectorAll('[data-group]'));
  const empties = Array.from(document.querySelectorAll('[data-empty]'));
  const count = document.getElementById('filter-count');
  const total = document.querySelectorAll('article[data-finding]').length;
  const controls = rows.length;
  const field = (name) => form.elements.namedItem(name);
  const search = field('search');
  let shown = 0;
  let shownControls = 0;
  const counted = () => 'Showing ' + shown + ' of ' + total + ' findings' + (controls > 0 ? ' and ' + shownControls + ' of ' + controls + ' controls' : '');
  let pending = 0;
  const apply = (later) => {
    const severity = field('severity').value;
    const status = field('status').value;
    const owner = field('owner').value;
    const words = search.value.toLowerCase().split(/\s+/).filter((w) => w !== '');
    const found = (d) => words.every((w) => (d.search || '').includes(w));
    const withFindings = new Set();
    shown = 0;
    for (const el of items) {
      const d = el.dataset;
      const ok = (!severity || d.severity === severity)
        && (!status || (status === 'actionable' ? d.actionable === 'true' : d.status === status))
        && (!owner || d.owner === owner)
        && found(d);
      el.hidden = !ok;
      if (ok) withFindings.add(d.control);
      if (ok && el.tagName === 'ARTICLE') shown++;
    }
    for (const g of groups) g.hidden = !g.querySelector('[data-finding]:not([hidden])');
    // A control is shown when it matches the filters itself (passed and not evaluated ones), or
    // when one of its findings is shown.
    shownControls = 0;
    for (const r of rows) {
      const d = r.dataset;
      const own = (!severity || d.severity === severity) && (!owner || d.owner === owner) && found(d);
      const ok = status === '' ? own || withFindings.has(d.control)
        : status === 'passed' ? d.controlResult === 'passed' && own
        : status === 'not-evaluated' ? withFindings.has(d.control) || (d.controlResult === 'not-evaluated' && own)
        : withFindings.has(d.control);
      r.hidden = !ok;
      if (ok) shownControls++;
    }
    for (const e of empties) e.hidden = (e.dataset.empty === 'controls' ? shownControls : shown) > 0;
    mark();
    // The count is a live region: while someone types it is announced once they pause.
    clearTimeout(pending);
    if (later) pending = setTimeout(() => { count.textContent = counted(); }, 400);
    else count.textContent = counted();
  };
  // On paper there is no form: each note says which filter and search the printed lists are under.
  const notes = Array.from(document.querySelectorAll('[data-print-filter]'));
  const describe = () => {
    const parts = Array.from(form.querySelectorAll('select'))
      .filter((s) => s.value !== '')
      .map((s) => form.querySelector('label[for="' + s.id + '"]').textContent + ': ' + s.selectedOptions[0].textContent);
    if (search.value.trim() !== '') parts.push('Search: “' + search.value.trim() + '”');
    return parts.join('; ');
  };
  const mark = () => {
    const filter = describe();
    const ofControls = controls > 0 ? ' and ' + shownControls + ' of ' + controls + ' controls' : '';
    for (const n of notes) {
      n.hidden = filter === '';
      n.textContent = n.dataset.printFilter === 'counts'
        ? 'Filtered copy: these counts cover all ' + total + ' findings; the ' + (controls > 0 ? 'lists' : 'findings listed') + ' below show ' + shown + ' of them' + ofControls + ' (' + filter + ').'
        : 'Filtered: showing ' + shown + ' of ' + total + ' findings' + ofControls + ' (' + filter + '). The counts at the top cover all ' + total + '.';
    }
  };
  // The CSV of what is shown: each record was written, quoted and defused when the report was made.
  const csv = document.getElementById('csv-download');
  if (csv) {
    csv.addEventListener('click', () => {
      const lines = [csv.dataset.csvHeader];
      for (const el of items) if (el.tagName === 'ARTICLE' && !el.hidden) lines.push(el.dataset.csv);
      for (const r of rows) if (!r.hidden) lines.push(r.dataset.csv);
      const blob = new Blob(['\ufeff' + lines.join('\r\n') + '\r\n'], { type: 'text/csv;charset=utf-8' });
      // Called through call(), so nothing in the page reads like a style sheet reference to a resource.
      const url = URL.createObjectURL.call(URL, blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = csv.dataset.filename;
      a.hidden = true;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL.call(URL, url), 1000);
    });
  }
  form.addEventListener('change', () => apply(false));
  search.addEventListener('input', () => apply(true));
  form.addEventListener('reset', () => setTimeout(() => apply(false), 0));
  form.addEventListener('submit', (e) => e.preventDefault());
  apply(false);
})();
`;

const cspHash = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

function severityClass(severity: Severity): string {
  return `c-${severity}`;
}

/** The colour a finding is drawn in: its severity when actionable, else excepted or not evaluated. */
function findingClass(f: Finding): string {
  if (f.status === 'excepted') return 'c-excepted';
  if (f.status === 'not-evaluated') return 'c-not-evaluated';
  return severityClass(f.severity);
}

function anchorIds(findings: readonly Finding[]): Map<Finding, string> {
  const used = new Set<string>();
  const ids = new Map<Finding, string>();
  for (const f of findings) {
    const base = `f-${f.id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}-${n}`;
    used.add(id);
    ids.set(f, id);
  }
  return ids;
}

/** What the search box looks in: ids, titles, resources and owners, in lower case. */
function searchText(parts: readonly (string | null | undefined)[]): string {
  return parts.filter((p): p is string => typeof p === 'string' && p !== '').join('\n').toLowerCase();
}

/** An attribute value holding a CSV record: HTML-escaped, and CR written as a reference (the parser would make a raw one LF). */
const csvAttr = (record: string): string => h(record).replace(/\r/g, '&#13;');

const ownerKey = (o: Owner): string => o.contact.toLowerCase();

function dataAttrs(f: Finding): string {
  const search = searchText([f.id, f.control.versionedId, f.control.title, f.check, f.resource.type, f.resource.name, f.resource.id, f.owner.name, f.owner.team, f.owner.contact]);
  return (
    `data-finding data-severity="${h(f.severity)}" data-status="${h(f.status)}" data-actionable="${isActionable(f)}" data-owner="${h(ownerKey(f.owner))}"` +
    ` data-control="${h(f.control.versionedId)}" data-search="${h(search)}"`
  );
}

function renderCards(t: Tally): string {
  const card = (cls: string, n: number, label: string): string =>
    `<li class="card ${cls}${n === 0 ? ' zero' : ''}"><span class="n">${n}</span><span class="l">${h(label)}</span></li>`;
  return [
    '<ul class="cards" aria-label="Findings by severity">',
    ...SEVERITIES.map((s) => card(severityClass(s), t[s], s)),
    card('c-excepted', t.excepted, 'excepted'),
    card('c-not-evaluated', t.notEvaluated, 'not evaluated'),
    '</ul>',
  ].join('\n');
}

/**
 * A table in a box of its own that scrolls sideways when the table is wider than the screen, so the
 * page itself never does. The owner table does on a phone: its box can take focus, to be scrolled
 * from the keyboard, and is a region named by the table's caption. The by-control table is stacked
 * on a narrow screen instead (STYLE), so its box needs neither.
 */
function tableWrap(table: string, scrollsOn?: { captionId: string }): string {
  const region = scrollsOn ? ` role="region" aria-labelledby="${scrollsOn.captionId}" tabindex="0"` : '';
  return `<div class="table-wrap"${region}>\n${table}\n</div>`;
}

function countCell(n: number, cls: string): string {
  return `<td class="num ${cls}${n === 0 ? ' zero' : ' hot'}">${n}</td>`;
}

function renderOwnerTable(groups: readonly OwnerGroup[], all: Tally): string {
  const head = [...SEVERITIES, 'excepted', 'not evaluated', 'total'].map((l) => `<th class="num" scope="col">${h(l)}</th>`).join('');
  const row = (t: Tally): string =>
    [
      ...SEVERITIES.map((s) => countCell(t[s], severityClass(s))),
      countCell(t.excepted, 'c-excepted'),
      countCell(t.notEvaluated, 'c-not-evaluated'),
      `<td class="num">${t.total}</td>`,
    ].join('');
  const rows = groups.map((g) => {
    const t = tally(g.findings);
    return `<tr><th scope="row"><span class="who">${h(g.owner.name)}</span><span class="sub">${h(g.owner.team)} · ${h(g.owner.contact)}</span></th>${row(t)}</tr>`;
  });
  return tableWrap(
    [
      '<table class="owners">',
      '<caption id="owners-caption" class="visually-hidden">Findings by owner and severity</caption>',
      `<thead><tr><th scope="col">Owner</th>${head}</tr></thead>`,
      `<tbody>${rows.join('\n')}</tbody>`,
      `<tfoot><tr><td>All owners</td>${row(all)}</tr></tfoot>`,
      '</table>',
    ].join('\n'),
    { captionId: 'owners-caption' },
  );
}

function renderFinding(f: Finding, id: string): string {
  const cls = findingClass(f);
  const facts: string[] = [
    `<dt>Control</dt><dd><code>${h(f.control.versionedId)}</code> ${h(f.control.title)}</dd>`,
    `<dt>Check</dt><dd><code>${h(f.check)}</code> · mode ${h(f.mode)}</dd>`,
    `<dt>Owner</dt><dd>${h(f.owner.name)} · ${h(f.owner.team)} · ${h(f.owner.contact)}</dd>`,
    `<dt>Evidence</dt><dd><code>${h(f.evidence.endpoint)}</code> <span class="sub">read ${h(f.evidence.readAt)}</span></dd>`,
  ];
  if (f.resource.id) facts.splice(3, 0, `<dt>Resource id</dt><dd><code>${h(f.resource.id)}</code></dd>`);
  const e = f.exception;
  if (e) {
    const label = f.status === 'exception-expired' ? 'Exception (expired)' : 'Exception';
    facts.push(
      `<dt>${label}</dt><dd>${h(e.reason)}<span class="sub">${h(e.id)} · approved by ${h(e.approvedBy)} · ${f.status === 'exception-expired' ? 'expired' : 'expires'} ${h(e.expires)}${e.ticket ? ` · ticket ${h(e.ticket)}` : ''}</span></dd>`,
    );
  }
  const notEvaluated = notEvaluatedText(f);
  if (notEvaluated) facts.push(`<dt>Not evaluated</dt><dd>${h(notEvaluated)}</dd>`);
  const nearMiss = nearMissLines(f);
  if (nearMiss) facts.push(`<dt>Near miss</dt><dd>${h(nearMiss.heading)}<ul class="reasons">${nearMiss.reasons.map((r) => `<li>${h(r)}</li>`).join('')}</ul>${nearMiss.confirmation ? `<span class="sub">${h(nearMiss.confirmation)}</span>` : ''}</dd>`);
  const patch = patchLines(f, 300);
  const opClass = { '+': 'op-add', '-': 'op-remove', '~': 'op-replace' } as const;
  const blocks: string[] = [];
  if (patch.length > 0) {
    blocks.push(
      `<div class="block patch"><div class="label">Patch</div><pre>${patch.map((l) => `<span class="${opClass[l.sign]}">${h(patchLineText(l))}</span>`).join('\n')}</pre></div>`,
    );
  }
  if (f.remediation) blocks.push(`<div class="block remediation"><div class="label">Remediation</div><pre>${h(f.remediation.trim())}</pre></div>`);
  return [
    `<article class="finding ${cls}" id="${h(id)}" ${dataAttrs(f)} data-csv="${csvAttr(findingCsvRecord(f))}">`,
    '<header>',
    `<span class="sign" title="${h(outcomeOf(f))}">${h(signOf(f))}</span>`,
    `<h4><span class="rtype">${h(f.resource.type)}</span>${h(f.resource.name)}</h4>`,
    `<span class="pill ${severityClass(f.severity)}">${h(f.severity)}</span>`,
    `<span class="pill status">${h(statusLabel(f.status))}</span>`,
    `<span class="outcome">${h(outcomeOf(f))}</span>`,
    '</header>',
    `<p class="summary">${h(f.summary)}</p>`,
    `<dl class="facts">${facts.join('\n')}</dl>`,
    ...blocks,
    '</article>',
  ].join('\n');
}

function renderByOwner(groups: readonly OwnerGroup[], ids: Map<Finding, string>): string {
  return groups
    .map((g) =>
      [
        `<section class="group" data-group data-owner-group="${h(g.key)}">`,
        `<h3>${h(g.owner.name)} <span class="sub">${h(g.owner.team)} · ${h(g.owner.contact)} · ${h(tallyText(tally(g.findings)))}</span></h3>`,
        ...g.findings.map((f) => renderFinding(f, ids.get(f)!)),
        '</section>',
      ].join('\n'),
    )
    .join('\n');
}

function renderByControl(findings: readonly Finding[], ids: Map<Finding, string>): string {
  const byControl = new Map<string, Finding[]>();
  for (const f of findings) {
    const list = byControl.get(f.control.versionedId);
    if (list) list.push(f);
    else byControl.set(f.control.versionedId, [f]);
  }
  const controls = [...byControl.entries()]
    .map(([id, list]) => ({ id, list: list.sort(compareFindings) }))
    .sort((a, b) => compareFindings(a.list[0]!, b.list[0]!));
  const groups = controls.map(({ id, list }) => {
    const first = list[0]!;
    const resolved = resolveControl(id);
    const severity = 'control' in resolved ? resolved.control.severity : first.severity;
    const rows = list.map(
      (f) =>
        `<tr ${dataAttrs(f)}><td class="ctl-resource"><code>${h(f.resource.type)}</code><br>${h(f.resource.name)}</td>` +
        `<td class="ctl-status"><span class="pill status">${h(statusLabel(f.status))}</span></td>` +
        `<td class="ctl-sev"><span class="pill ${severityClass(f.severity)}">${h(f.severity)}</span></td>` +
        `<td class="ctl-owner">${h(f.owner.name)}<span class="sub">${h(f.owner.team)}</span></td>` +
        `<td class="ctl-summary">${h(f.summary)} <a href="#${h(ids.get(f)!)}">details</a></td></tr>`,
    );
    return [
      '<tbody data-group>',
      `<tr><th colspan="5" scope="rowgroup"><code>${h(id)}</code>${h(first.control.title)}<span class="pill ${severityClass(severity)}">${h(severity)}</span></th></tr>`,
      ...rows,
      '</tbody>',
    ].join('\n');
  });
  return tableWrap(
    [
      '<table class="controls">',
      '<caption id="controls-caption" class="visually-hidden">Findings by control</caption>',
      '<colgroup><col class="c-resource"><col class="c-status"><col class="c-sev"><col class="c-owner"><col></colgroup>',
      '<thead><tr><th scope="col">Resource</th><th scope="col">Status</th><th scope="col">Severity</th><th scope="col">Owner</th><th scope="col">Summary</th></tr></thead>',
      ...groups,
      '</table>',
    ].join('\n'),
  );
}

const RESULT_ORDER: readonly ControlResultKind[] = ['failed', 'not-evaluated', 'excepted', 'passed'];
const resultLabel = (r: ControlResultKind): string => (r === 'not-evaluated' ? 'not evaluated' : r);

/**
 * Every declared control and what the run made of it, passed ones included, in the posture's order:
 * what was checked (the catalogue's checks and the reads), and why for one not evaluated. A failed
 * or excepted control links to its first finding.
 */
function renderControls(controls: readonly ControlResult[], findings: readonly Finding[], ids: Map<Finding, string>): string {
  const count = (r: ControlResultKind) => controls.filter((c) => c.result === r).length;
  const tallyLine = RESULT_ORDER.map((r) => `${count(r)} ${resultLabel(r)}`).join(' · ');
  const rows = controls.map((c) => {
    const first = findings.find((f) => f.control.versionedId === c.control.versionedId);
    const link = first && c.findings > 0 ? ` <a href="#${h(ids.get(first) ?? '')}">${c.findings} ${c.findings === 1 ? 'finding' : 'findings'}</a>` : '';
    const why = c.result === 'not-evaluated' && c.notEvaluated ? `<span class="sub"><strong>Not evaluated:</strong> ${h(c.notEvaluated)}</span>` : '';
    const search = searchText([c.control.versionedId, c.control.title, ...c.checks.map((k) => k.id), c.owner.name, c.owner.team, c.owner.contact]);
    return (
      `<tr data-control-result="${h(c.result)}" data-severity="${h(c.severity)}" data-owner="${h(ownerKey(c.owner))}" data-control="${h(c.control.versionedId)}"` +
      ` data-search="${h(search)}" data-csv="${csvAttr(controlCsvRecord(c))}">` +
      `<th scope="row" class="res-control"><code>${h(c.control.versionedId)}</code>${h(c.control.title)}</th>` +
      `<td class="res-result"><span class="pill r-${h(c.result)}">${h(resultLabel(c.result))}</span></td>` +
      `<td class="res-sev"><span class="pill ${severityClass(c.severity)}">${h(c.severity)}</span></td>` +
      `<td class="res-owner">${h(c.owner.name)}<span class="sub">${h(c.owner.team)}</span></td>` +
      `<td class="res-checked"><ul class="checked">${c.checks.map((k) => `<li>${h(k.description)}</li>`).join('')}</ul>` +
      `<span class="sub">Read: ${h(c.reads.join(', ') || 'nothing')}</span>${why}${link}</td></tr>`
    );
  });
  return [
    '<section id="controls" aria-labelledby="controls-title">',
    '<h2 id="controls-title">Controls</h2>',
    `<p class="legend">${controls.length} declared: ${h(tallyLine)}. A control passes when its checks ran on everything they need and found nothing; one whose data could not be read or judged is not evaluated, never passed.</p>`,
    '<p class="empty" data-empty="controls" hidden>No control matches the filters.</p>',
    tableWrap(
      [
        '<table class="results">',
        '<caption class="visually-hidden">Every declared control and its result</caption>',
        '<colgroup><col class="r-control"><col class="r-result"><col class="r-sev"><col class="r-owner"><col></colgroup>',
        '<thead><tr><th scope="col">Control</th><th scope="col">Result</th><th scope="col">Severity</th><th scope="col">Owner</th><th scope="col">What was checked</th></tr></thead>',
        `<tbody>${rows.join('\n')}</tbody>`,
        '</table>',
      ].join('\n'),
    ),
    '</section>',
  ].join('\n');
}

/** A file name for the CSV: the stack and the day of the plan, in characters every system keeps. */
function csvFileName(plan: PlanDocument): string {
  const safe = (text: string) => text.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 60) || 'report';
  return `posture-${safe(plan.stack)}-${safe(plan.kind)}-${safe(plan.createdAt.slice(0, 10))}.csv`;
}

/** The owners the owner filter offers: those of findings and of controls, by name. */
function ownersOf(groups: readonly OwnerGroup[], controls: readonly ControlResult[]): { key: string; owner: Owner }[] {
  const byKey = new Map<string, Owner>(groups.map((g) => [g.key, g.owner]));
  for (const c of controls) if (!byKey.has(ownerKey(c.owner))) byKey.set(ownerKey(c.owner), c.owner);
  return [...byKey.entries()]
    .map(([key, owner]) => ({ key, owner }))
    .sort((a, b) => a.owner.name.localeCompare(b.owner.name) || a.owner.team.localeCompare(b.owner.team) || a.key.localeCompare(b.key));
}

function renderFilters(plan: PlanDocument, owners: readonly { key: string; owner: Owner }[]): string {
  const controls = plan.controls ?? [];
  const present = new Set<string>([...plan.findings.map((f) => f.status), ...controls.filter((c) => c.result === 'not-evaluated').map(() => 'not-evaluated')]);
  const option = (value: string, label: string): string => `<option value="${h(value)}">${h(label)}</option>`;
  const field = (name: string, label: string, options: string): string =>
    `<div class="field"><label for="filter-${name}">${label}</label><select id="filter-${name}" name="${name}">${options}</select></div>`;
  return [
    '<form class="filters" id="filters" hidden aria-label="Filter findings">',
    field('severity', 'Severity', `${option('', 'All severities')}${SEVERITIES.map((s) => option(s, s)).join('')}`),
    field(
      'status',
      'Status',
      `${option('', 'All statuses')}${option('actionable', 'To act on')}${STATUS_ORDER.filter((s) => present.has(s))
        .map((s) => option(s, statusLabel(s)))
        .join('')}${controls.length > 0 ? option('passed', 'Passed (controls)') : ''}`,
    ),
    field('owner', 'Owner', `${option('', 'All owners')}${owners.map((g) => option(g.key, `${g.owner.name} (${g.owner.team})`)).join('')}`),
    '<div class="field search"><label for="filter-search">Search</label>' +
      '<input type="search" id="filter-search" name="search" autocomplete="off" spellcheck="false" aria-describedby="filter-search-hint"></div>',
    '<div class="actions">',
    '<button type="reset">Clear filters</button>',
    `<button type="button" id="csv-download" data-filename="${h(csvFileName(plan))}" data-csv-header="${csvAttr(csvHeader())}">Download CSV of what is shown</button>`,
    '</div>',
    '<output id="filter-count" aria-live="polite"></output>',
    '<p class="hint" id="filter-search-hint">Search looks in ids, control titles, resources and owners; every word must match.</p>',
    '</form>',
    `<p class="noscript" id="filters-note">All ${controls.length > 0 ? 'findings and controls are' : 'findings are'} shown. Filtering, search and the CSV download need JavaScript.</p>`,
    '<p class="print-filter" data-print-filter="list" hidden></p>',
  ].join('\n');
}

/**
 * Renders a plan as one self-contained HTML page: inline CSS, no external resources, readable
 * without JavaScript. At the top, an INCOMPLETE banner when reads failed, then the counts by
 * severity and by owner; then, when the plan carries it, the inbound path map (path-map.ts); then
 * every finding grouped by owner, and again by control; then, when the plan carries them, every
 * declared control with its result (passed ones too, with what was checked; not evaluated ones
 * say why, and are never passed). Filters by severity, status and owner, a search box and a CSV
 * download of what is shown appear only when JavaScript runs; without it everything is shown. The
 * script builds no markup from the report's text: it sets `hidden` and `textContent`, and the CSV
 * records were written, quoted and defused (csv.ts) when the page was. A printed copy has no form,
 * so under a filter or search it says which, beside the counts (which always cover every finding)
 * and above the lists. On a phone the page is no wider than the screen: the owner table scrolls in
 * its own box, and the by-control and controls tables stack each row. Text meets WCAG AA contrast, and each table is
 * named by a caption that is hidden from sight only.
 * Every tenant-supplied string is HTML-escaped, secrets are redacted, and a Content-Security-Policy
 * forbids loading anything from anywhere.
 */
export function renderHtml(input: PlanDocument): string {
  const plan = redactSecrets(input);
  const groups = groupByOwner(plan.findings);
  const all = tally(plan.findings);
  const ordered = groups.flatMap((g) => g.findings);
  const ids = anchorIds(ordered);
  const clean = plan.findings.length === 0 && plan.incomplete.length === 0;
  const csp = `default-src 'none'; style-src ${cspHash(STYLE)}; script-src ${cspHash(SCRIPT)}; img-src data:; base-uri 'none'; form-action 'none'`;
  const title = `Email posture ${plan.kind}: ${plan.organization} (${plan.stack})`;

  const body: string[] = [];
  if (plan.incomplete.length > 0) {
    body.push(
      '<section class="banner" role="alert" id="incomplete">',
      '<h2>INCOMPLETE: the following could not be read; this run cannot report “no drift”</h2>',
      '<ul>',
      ...plan.incomplete.map((r) => `<li><strong>${h(r.what)}</strong>: ${h(r.error)} <span class="sub"><code>${h(r.endpoint)}</code></span></li>`),
      '</ul>',
      '</section>',
    );
  }
  body.push('<section id="overview" aria-labelledby="overview-title">', '<h2 id="overview-title" class="visually-hidden">Overview</h2>');
  if (clean) {
    body.push('<p class="verdict ok">No changes. The tenant matches the posture.</p>');
  } else {
    const verdictClass = all.actionable > 0 || plan.incomplete.length > 0 ? 'bad' : 'ok';
    const headline = plan.findings.length === 0 ? 'No findings in what could be read' : `${tallyText(all)}`;
    body.push(`<p class="verdict ${verdictClass}">${h(headline)}<span class="changes">${h(changesText(plan))}</span></p>`);
  }
  body.push(renderCards(all));
  const controls = plan.controls ?? [];
  if (controls.length > 0) {
    const n = (r: ControlResultKind) => controls.filter((c) => c.result === r).length;
    body.push(
      `<p class="control-tally"><a href="#controls">Controls</a>: ${n('passed')} of ${controls.length} passed · ${n('failed')} failed · ${n('not-evaluated')} not evaluated` +
        `${n('excepted') > 0 ? ` · ${n('excepted')} excepted` : ''}</p>`,
    );
  }
  if (plan.findings.length > 0) body.push('<p class="print-filter" data-print-filter="counts" hidden></p>');
  if (groups.length > 0) body.push('<h2>By owner</h2>', renderOwnerTable(groups, all));
  body.push('</section>');
  if (plan.inboundPaths) body.push(pathMapHtml(plan.inboundPaths));
  if (plan.findings.length > 0 || controls.length > 0) body.push(renderFilters(plan, ownersOf(groups, controls)));
  if (plan.findings.length > 0) {
    body.push(
      '<section id="by-owner" aria-labelledby="by-owner-title">',
      '<h2 id="by-owner-title">Findings by owner</h2>',
      '<p class="legend"><code>+</code> apply creates · <code>~</code> apply updates · <code>-</code> apply deletes · <code>!</code> needs its owner · <code>=</code> excepted · <code>?</code> not evaluated</p>',
      '<p class="empty" data-empty="findings" hidden>No finding matches the filters.</p>',
      renderByOwner(groups, ids),
      '</section>',
      '<section id="by-control" aria-labelledby="by-control-title">',
      '<h2 id="by-control-title">Findings by control</h2>',
      '<p class="empty" data-empty="findings" hidden>No finding matches the filters.</p>',
      renderByControl(plan.findings, ids),
      '</section>',
    );
  }
  if (controls.length > 0) body.push(renderControls(controls, ordered, ids));
  else if (!plan.rollbackOf) {
    body.push('<p class="note" id="controls-absent">This plan does not record which controls passed (it was written before plans carried each control’s result): only its findings are shown.</p>');
  }

  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="${h(csp)}">`,
    '<meta name="referrer" content="no-referrer">',
    `<title>${h(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<header class="top"><div class="page">',
    `<p class="eyebrow">email-posture · ${h(plan.kind)}</p>`,
    `<h1>${h(plan.organization)}</h1>`,
    '<dl class="meta">',
    `<div><dt>Stack</dt><dd>${h(plan.stack)}</dd></div>`,
    `<div><dt>Tenant</dt><dd>${h(plan.tenantId)}</dd></div>`,
    `<div><dt>Created</dt><dd><time datetime="${h(plan.createdAt)}">${h(plan.createdAt.replace('T', ' ').slice(0, 16))} UTC</time></dd></div>`,
    `<div><dt>Posture</dt><dd>${h(plan.desiredHash.slice(0, 19))}…</dd></div>`,
    '</dl>',
    '</div></header>',
    '<main class="page">',
    ...body,
    `<footer>${h(plan.tool.name)} ${h(plan.tool.version)} · ${h(plan.kind)} of stack ${h(plan.stack)} for tenant ${h(plan.tenantId)} · desired state ${h(plan.desiredHash)} · ${h(plan.createdAt)}</footer>`,
    '</main>',
    `<script>${SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
