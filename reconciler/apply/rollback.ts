import { resolveControl } from '../../policies/catalogue.js';
import type { ApplyStartEvidenceRecord, ChangeEvidenceRecord, EvidenceRecord } from '../evidence/records.js';
import type { RestoredFinding } from '../findings/model.js';
import { isAnnotation, withoutAnnotations } from '../core/annotations.js';
import { canonicalJson } from '../core/json.js';
import { REDACTED } from '../core/redact.js';
import { writeProblem, type PlannedChange, type Write } from './writes.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/** The reverse of one recorded change, before the live state is read. */
export interface ReverseStep {
  readonly record: ChangeEvidenceRecord;
  readonly write: Write;
  readonly action: PlannedChange['action'];
  /** The resource as the rollback addresses it (a created policy now has an id). */
  readonly resource: PlannedChange['resource'];
}

/** A recorded change that rollback cannot reverse, and why. */
export interface Irreversible {
  readonly record: ChangeEvidenceRecord;
  readonly reason: string;
}

/** Read-only properties the service sets itself; a write that restores an object leaves them out. */
const READ_ONLY = new Set(['id', 'hasError', 'isReadOnly', 'createdDateTime', 'modifiedDateTime', 'version']);

/** For each top-level property a write set, the whole value `source` held for it. */
function pickLike(source: unknown, template: Obj): Obj {
  const src = isObj(source) ? source : {};
  return Object.fromEntries(Object.keys(template).map((k) => [k, src[k] ?? null]));
}

const writable = (o: Obj): Obj => Object.fromEntries(Object.entries(withoutAnnotations(o) as Obj).filter(([k]) => !READ_ONLY.has(k)));

/**
 * The write that undoes a recorded change, from its recorded before-value (and, for a created
 * resource, its after-value). Pure: reads nothing.
 */
export function reverseOf(record: ChangeEvidenceRecord): ReverseStep | Irreversible | undefined {
  const w = record.write;
  const before = record.before;
  const after = record.after;
  const no = (reason: string): Irreversible => ({ record, reason });
  if (!w) return no('the record does not hold the write that was made');
  const recorded = writeProblem(w);
  if (recorded) return no(`its recorded write is not one apply makes (${recorded}), so it cannot be trusted to say what to reverse`);
  if (JSON.stringify(before ?? null).includes(REDACTED)) return no('its recorded before-value has redacted parts, which cannot be written back');
  const step = (write: Write, action: PlannedChange['action'], resource = record.resource): ReverseStep | Irreversible => {
    const problem = writeProblem(write);
    return problem ? no(`its reverse would not be a write apply makes (${problem})`) : { record, write, action, resource };
  };

  if (w.api === 'graph') {
    switch (w.method) {
      case 'PATCH':
        if (!isObj(before)) return no('the resource did not exist before the change');
        return step({ api: 'graph', method: 'PATCH', path: w.path, body: pickLike(before, w.body ?? {}) }, 'update');
      case 'PUT':
        if (!isObj(before)) return no('the resource did not exist before the change');
        return step({ api: 'graph', method: 'PUT', path: w.path, body: writable(before) }, 'update');
      case 'POST': {
        const id = isObj(after) ? after['id'] : undefined;
        if (typeof id !== 'string' || !id) return no('the id of the created resource was not recorded');
        return step({ api: 'graph', method: 'DELETE', path: `${w.path}/${encodeURIComponent(id)}` }, 'delete', { ...record.resource, id });
      }
      case 'DELETE': {
        if (!isObj(before)) return no('the deleted resource was not recorded');
        if (/^\/oauth2PermissionGrants\/[^/]+$/.test(w.path)) {
          const grant: Obj = { clientId: before['clientId'], consentType: before['consentType'], resourceId: before['resourceId'], scope: before['scope'] };
          if (before['consentType'] === 'Principal') grant['principalId'] = before['principalId'];
          return step({ api: 'graph', method: 'POST', path: '/oauth2PermissionGrants', body: grant }, 'create');
        }
        if (/\/messageRules\/[^/]+$/.test(w.path)) {
          return step({ api: 'graph', method: 'POST', path: w.path.replace(/\/[^/]+$/, ''), body: writable(before) }, 'create');
        }
        return no(`a deletion at ${w.path} cannot be undone`);
      }
    }
  }
  if (w.api !== 'exchange') return undefined;
  const identity = w.parameters['Identity'];
  if (w.cmdlet === 'New-DkimSigningConfig') {
    // Exchange has no cmdlet that removes a signing configuration: the reverse turns signing off.
    return step({ api: 'exchange', cmdlet: 'Set-DkimSigningConfig', parameters: { Identity: w.parameters['DomainName'], Enabled: false } }, 'update');
  }
  if (!isObj(before)) return no('the object did not exist before the change');
  if (w.cmdlet.startsWith('Disable-') || w.cmdlet.startsWith('Enable-')) {
    const disabling = w.cmdlet.startsWith('Disable-');
    if (String(before['State']).toLowerCase() === (disabling ? 'disabled' : 'enabled')) return undefined;
    return step({ api: 'exchange', cmdlet: w.cmdlet.replace(/^(Disable|Enable)-/, disabling ? 'Enable-' : 'Disable-'), parameters: { Identity: identity, Confirm: false } }, 'update');
  }
  if (w.cmdlet.startsWith('Set-')) {
    const parameters: Obj = { Identity: identity };
    for (const k of Object.keys(w.parameters)) if (k !== 'Identity' && k !== 'Confirm') parameters[k] = before[k] === '' ? null : (before[k] ?? null);
    return step({ api: 'exchange', cmdlet: w.cmdlet, parameters }, 'update');
  }
  return no(`${w.cmdlet} cannot be undone`);
}

/**
 * The reverse steps of one apply run, last change first. Only changes that were applied are
 * reversed; a change that failed may have been partly made and is named as irreversible.
 */
export function reverseRun(records: readonly EvidenceRecord[]): { steps: ReverseStep[]; irreversible: Irreversible[] } {
  const steps: ReverseStep[] = [];
  const irreversible: Irreversible[] = [];
  const changes = records.filter((r): r is ChangeEvidenceRecord => r.kind === 'change');
  for (const record of [...changes].reverse()) {
    if (record.result === 'skipped') continue;
    if (record.result === 'failed') {
      irreversible.push({ record, reason: `it failed during the run (${record.error ?? 'no detail'}) and may have been partly made: check it by hand` });
      continue;
    }
    const r = reverseOf(record);
    if (!r) continue;
    if ('reason' in r) irreversible.push(r);
    else steps.push(r);
  }
  return { steps, irreversible };
}

/**
 * What a rollback of one apply run consists of, from the whole trail: the run's apply-start, the
 * reverse steps of its applied changes not already undone by an earlier rollback, and what cannot be
 * reversed. `undone` counts changes an earlier rollback already reversed.
 */
export function planRollback(records: readonly EvidenceRecord[], runId: string): { start?: ApplyStartEvidenceRecord; steps: ReverseStep[]; irreversible: Irreversible[]; undone: number } {
  const ofRun = records.filter((r) => r.runId === runId);
  const start = ofRun.find((r): r is ApplyStartEvidenceRecord => r.kind === 'apply-start');
  const undoneSeqs = new Set(
    records.filter((r): r is ChangeEvidenceRecord => r.kind === 'change' && r.result === 'applied' && r.rollbackOf?.runId === runId).map((r) => r.rollbackOf!.seq),
  );
  const { steps, irreversible } = reverseRun(ofRun.filter((r) => !(r.kind === 'change' && undoneSeqs.has(r.seq))));
  return { ...(start ? { start } : {}), steps, irreversible, undone: undoneSeqs.size };
}

/**
 * How many rollbacks deep a recorded change is: 0 for a change an apply made for a finding, 1 for
 * a rollback's change that undid it, 2 for one that undid that rollback, and so on. A change whose
 * `rollbackOf` names no change of the trail counts as 0 (a fix), so undoing it is never taken for
 * harmless.
 */
function rollbackDepth(record: ChangeEvidenceRecord, records: readonly EvidenceRecord[]): number {
  let depth = 0;
  const seen = new Set<ChangeEvidenceRecord>();
  for (let r: ChangeEvidenceRecord | undefined = record; r?.rollbackOf && !seen.has(r); ) {
    seen.add(r);
    const of: { runId: string; seq: number } = r.rollbackOf;
    r = records.find((x): x is ChangeEvidenceRecord => x.kind === 'change' && x.runId === of.runId && x.seq === of.seq);
    if (!r) return 0;
    depth++;
  }
  return depth;
}

/**
 * The findings a rollback brings back: every step that undoes a security fix. A change an apply
 * made for a finding is a fix; a rollback's change that undid it brought the finding back, so
 * undoing that makes the fix again; undoing a rollback of a rollback brings the finding back once
 * more. A step restores its finding when the change it reverses is an even number of rollbacks
 * deep, followed through `records` (the whole trail). Pure.
 */
export function findingsRestored(steps: readonly Pick<ReverseStep, 'record'>[], records: readonly EvidenceRecord[]): RestoredFinding[] {
  return steps
    .filter((s) => rollbackDepth(s.record, records) % 2 === 0)
    .map(({ record }) => {
      const found = resolveControl(record.control.replace(/v[0-9]+$/, ''));
      const control = 'control' in found ? found.control : undefined;
      return {
        findingId: record.findingId,
        control: record.control,
        title: control?.title ?? record.control,
        severity: control?.severity ?? 'unknown',
        resource: { type: record.resource.type, id: record.resource.id, name: record.resource.name },
      };
    });
}

/** The resource a write acts on, as one key: several steps on one resource share it. */
export function targetKey(w: Write): string {
  if (w.api === 'exchange') return `exchange ${w.cmdlet.replace(/^[A-Za-z]+-/, '').toLowerCase()} ${String(w.parameters['Identity'] ?? w.parameters['DomainName']).toLowerCase()}`;
  return w.method === 'POST' ? `graph ${w.path.toLowerCase()} ${canonicalJson(w.body ?? null)}` : `graph ${w.path.toLowerCase()}`;
}

/** Loose equality for verifying a restored value: case-insensitive strings, null = absent = "" = []. */
export function restored(expected: unknown, actual: unknown): boolean {
  const empty = (v: unknown) => v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0);
  if (empty(expected)) return empty(actual);
  if (typeof expected === 'string') return typeof actual === 'string' && expected.toLowerCase() === actual.toLowerCase();
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return false;
    const used = new Set<number>();
    return expected.every((e) => {
      const i = actual.findIndex((a, j) => !used.has(j) && restored(e, a));
      if (i < 0) return false;
      used.add(i);
      return true;
    });
  }
  if (isObj(expected)) return Object.entries(expected).every(([k, v]) => isAnnotation(k) || restored(v, isObj(actual) ? actual[k] : undefined));
  return expected === actual;
}
