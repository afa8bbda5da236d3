import { sha256 } from '../core/hash.js';
import type { Operation } from 'fast-json-patch';
import { resolveControl, versionedId } from '../../policies/catalogue.js';
import type { Control, ExceptionScopeType } from '../../policies/types.js';
import type { ChangeAction, Finding, FindingResource, FindingStatus, IncompleteRead, NearMiss } from '../model/finding.js';
import type { Manifest, Owner, PostureException } from '../manifest/schema.js';
import type { Directory, LiveState, Section } from '../model/live.js';
import { resourceType } from '../resources/registry.js';

type Obj = Record<string, unknown>;

export type { Directory } from '../model/live.js';

export function directoryOf(live: LiveState): Directory {
  const users = live.users?.ok ? live.users.value : [];
  const groups = live.groups?.ok ? live.groups.value : [];
  const byKey = (list: Obj[], key: string) => new Map(list.filter((o) => typeof o[key] === 'string').map((o) => [String(o[key]).toLowerCase(), o]));
  const upn = byKey(users, 'userPrincipalName');
  const uid = byKey(users, 'id');
  const gname = byKey(groups, 'displayName');
  const gmail = byKey(groups, 'mail');
  const gid = byKey(groups, 'id');
  return {
    userByUpn: (v) => upn.get(v.toLowerCase()),
    userById: (v) => uid.get(v.toLowerCase()),
    groupByName: (v) => gname.get(v.toLowerCase()),
    groupByMail: (v) => gmail.get(v.toLowerCase()),
    groupById: (v) => gid.get(v.toLowerCase()),
  };
}

export interface Scope {
  readonly type: ExceptionScopeType;
  readonly value: string;
}

export interface FindingInput {
  readonly control: string;
  readonly check: string;
  readonly resource: FindingResource;
  /** Identifies the problem across runs (defaults to resource type and name). */
  readonly key?: string;
  readonly status: Exclude<FindingStatus, 'excepted' | 'exception-expired' | 'not-evaluated'>;
  readonly summary: string;
  readonly patch?: readonly Operation[];
  readonly action: ChangeAction;
  readonly evidence: { endpoint: string; readAt: string; live: unknown; nearMiss?: NearMiss };
  readonly remediation?: string;
  /** What an exception could cover this by. */
  readonly scopes?: readonly Scope[];
  /**
   * Where the finding's mail goes (addresses), for controls with destinations: an exception that
   * names destinations covers the finding only when every one of these is among them.
   */
  readonly destinations?: readonly string[];
  /** The user the finding is about, when there is one. */
  readonly subject?: { readonly id?: string; readonly upn: string };
  /** Who answers for this one resource, when the posture names someone for it (a declared app's owner); else the control's owner. */
  readonly owner?: Owner;
}

/** Whether `address` is `allowed` (an address) or inside it (a domain). */
const allows = (allowed: string, address: string) => (allowed.includes('@') ? allowed.toLowerCase() === address.toLowerCase() : address.toLowerCase().endsWith(`@${allowed.toLowerCase()}`));

/** Everything the pure evaluation needs, and where its findings go. */
export class Evaluation {
  readonly findings: Finding[] = [];
  /** What an exception could cover each finding by, by finding id (findings that have a scope). */
  readonly scopes = new Map<string, readonly Scope[]>();
  readonly incomplete: IncompleteRead[] = [];
  readonly directory: Directory;
  private readonly notEvaluatedKeys = new Set<string>();
  /** Controls (unversioned ids) a check ran for on data it could judge: only these can pass. */
  readonly checked = new Set<string>();
  /** Controls a check could not judge for some resource, without a failed read (why, for each). */
  readonly unjudged = new Map<string, string[]>();

  constructor(
    readonly manifest: Manifest,
    readonly live: LiveState,
    /** "Today" for exception expiry, YYYY-MM-DD. */
    readonly today: string,
  ) {
    this.directory = directoryOf(live);
  }

  /** The declared controls of the posture, by unversioned id. */
  entry(controlId: string) {
    return this.manifest.controls.find((c) => c.id.replace(/v\d+$/, '') === controlId);
  }

  /** Adds a finding, applying owner, severity, mode and any exception that covers it. */
  add(input: FindingInput): void {
    const control = controlOf(input.control);
    const entry = this.entry(input.control);
    if (!entry) return;
    const inScope = this.exceptionFor(input.control, input.scopes ?? []);
    // An exception that pins destinations covers only mail going to them: anywhere else is the finding it was.
    const outside = inScope?.scope.destinations ? (input.destinations ?? []).filter((d) => !inScope.scope.destinations!.some((a) => allows(a, d))) : [];
    const pinned = inScope?.scope.destinations !== undefined && (outside.length > 0 || !(input.destinations ?? []).length);
    const exception = pinned ? undefined : inScope;
    let status: FindingStatus = input.status;
    if (exception) status = exception.expires >= this.today ? 'excepted' : 'exception-expired';
    const automatic = control.remediation.automatic && entry.mode === 'remediate';
    const id = findingId(control.id, input.check, input.resource.type, input.key ?? input.resource.name);
    if (input.scopes?.length) this.scopes.set(id, input.scopes);
    this.findings.push({
      id,
      control: { id: control.id, version: control.version, versionedId: versionedId(control), title: control.title },
      check: input.check,
      resource: input.resource,
      owner: input.owner ?? entry.owner,
      severity: control.severity,
      status,
      mode: entry.mode,
      summary: pinned ? `${input.summary} Exception ${inScope!.id} allows only ${inScope!.scope.destinations!.join(', ')}${outside.length ? `, not ${outside.join(', ')}` : ''}.` : input.summary,
      patch: [...(input.patch ?? [])],
      change: { action: status === 'excepted' ? 'none' : input.action, automatic: automatic && status !== 'excepted' && input.action !== 'none' },
      evidence: input.evidence,
      frameworks: control.frameworks,
      ...(input.remediation ? { remediation: input.remediation } : {}),
      ...(input.subject ? { subject: input.subject } : {}),
      ...(exception
        ? { exception: { id: exception.id, approvedBy: exception.approvedBy, expires: exception.expires, reason: exception.reason, ...(exception.ticket ? { ticket: exception.ticket } : {}) } }
        : {}),
    });
  }

  /**
   * Marks a control as not evaluated because a section it needs could not be read. A failed read
   * makes the run incomplete whatever the cause (a failed read, a missing permission or licence).
   */
  notEvaluated(controlId: string, section: Section<unknown> & { ok: false }, what: string): void {
    const control = controlOf(controlId);
    const entry = this.entry(controlId);
    if (!entry) return;
    const key = `${controlId}|${section.endpoint}`;
    if (this.notEvaluatedKeys.has(key)) return;
    this.notEvaluatedKeys.add(key);
    const detail =
      section.reason === 'permission-missing'
        ? `the application lacks ${section.permission ?? 'a required permission'} to read ${what}`
        : section.reason === 'licence-missing'
          ? `${what} cannot be read: the tenant has no ${section.licence ?? 'licence for the feature'}`
          : `${what} could not be read: ${section.error}`;
    this.findings.push({
      id: findingId(control.id, 'not-evaluated', 'read', section.endpoint),
      control: { id: control.id, version: control.version, versionedId: versionedId(control), title: control.title },
      check: 'not-evaluated',
      resource: { type: 'read', id: null, name: section.endpoint },
      owner: entry.owner,
      severity: control.severity,
      status: 'not-evaluated',
      mode: entry.mode,
      summary: `${versionedId(control)} was not evaluated: ${detail}.`,
      patch: [],
      change: { action: 'none', automatic: false },
      evidence: { endpoint: section.endpoint, readAt: section.readAt, live: null },
      frameworks: control.frameworks,
      notEvaluated: { reason: section.reason, detail, ...(section.permission ? { permission: section.permission } : {}) },
    });
    this.unread(section, what);
  }

  /** Records that a check of a control ran on data it could judge (`need` does it for the checks that call it). */
  ran(controlId: string): void {
    this.checked.add(controlId);
  }

  /**
   * Records that a check of a control could not judge one resource although every read succeeded
   * (no DMARC record to judge the policy of): the control cannot pass, and is listed as not evaluated.
   */
  cannotJudge(controlId: string, why: string): void {
    const list = this.unjudged.get(controlId);
    if (list) list.push(why);
    else this.unjudged.set(controlId, [why]);
  }

  /** Lists a failed read as incomplete (once per endpoint), whether or not a check needed it. */
  unread(section: Section<unknown> & { ok: false }, what: string): void {
    if (this.incomplete.some((i) => i.endpoint === section.endpoint)) return;
    this.incomplete.push({ what, endpoint: section.endpoint, error: section.reason === 'permission-missing' ? `permission missing: ${section.permission ?? section.error}` : section.reason === 'licence-missing' ? `licence missing: ${section.licence ?? section.error}` : section.error });
  }

  /**
   * The sections of the resource types a check needs (keys of the registry), when all were read;
   * otherwise marks the control not evaluated and returns undefined. A check may use only the types
   * its control names in the catalogue: the reads, permissions and docs come from that list.
   */
  need<T extends unknown[]>(controlId: string, keys: readonly string[]): T | undefined {
    const declared = controlOf(controlId).resources.read;
    const sections = keys.map((k) => {
      if (!declared.includes(k)) throw new Error(`a check of ${controlId} reads ${k}, which its catalogue entry does not name in resources.read`);
      const t = resourceType(k);
      return [t.read ? (this.live[t.read.section] as Section<unknown> | Map<string, unknown> | undefined) : undefined, t.title] as const;
    });
    let ok = true;
    for (const [section, what] of sections) {
      if (!section || section instanceof Map) continue;
      if (!section.ok) {
        this.notEvaluated(controlId, section, what);
        ok = false;
      }
    }
    if (!ok) return undefined;
    this.ran(controlId);
    return sections.map(([s]) => (s && !(s instanceof Map) && s.ok ? s.value : undefined)) as T;
  }

  /** The exception in force today that covers a scope of a control, if any (an expired one covers nothing). */
  exceptionInForce(controlId: string, scope: Scope): PostureException | undefined {
    const e = this.exceptionFor(controlId, [scope]);
    return e && e.expires >= this.today ? e : undefined;
  }

  private exceptionFor(controlId: string, scopes: readonly Scope[]): PostureException | undefined {
    return this.manifest.exceptions.find(
      (e) =>
        e.control.replace(/v\d+$/, '') === controlId &&
        scopes.some((s) => s.type === e.scope.type && s.value.toLowerCase() === e.scope.value.toLowerCase()),
    );
  }
}

function controlOf(id: string): Control {
  const r = resolveControl(id);
  if ('error' in r) throw new Error(r.error);
  return r.control;
}

/** A finding id stable across runs: the same control, check and resource give the same id. */
export function findingId(control: string, check: string, type: string, key: string): string {
  return `EP-${sha256(`${control}\u0000${check}\u0000${type}\u0000${key.toLowerCase()}`).slice(0, 16)}`;
}
