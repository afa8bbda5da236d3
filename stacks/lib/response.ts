import { Construct } from 'constructs';
import { z } from 'zod';
import { resolveControl } from '../../policies/catalogue.js';
import { guid, upn } from '../../reconciler/manifest/formats.js';
import {
  ACTIONS,
  CONFIDENCES,
  DEFAULT_BREAKER_WINDOW_HOURS,
  TIERS,
  type Authority,
  type Confidence,
  type ResponseAction,
  type ResponsePolicy,
  type SignalRule,
  type Tier,
} from '../../reconciler/manifest/response.js';
import type { Owner, SourceLocation } from '../../reconciler/manifest/schema.js';
import { EmailSecurityPosture, checkOwner } from './posture.js';
import { validateWith, type Problems } from './problems.js';
import { list, named, oneOf, ownerProps, props, text, texts, whole } from './prop-schemas.js';
import { DEFAULT_PRIVILEGED_ROLES } from './roles.js';
import { captureDeclaration } from './source.js';

export type { Confidence, ResponseAction, Tier } from '../../reconciler/manifest/response.js';

/** Default of `lookbackHours`: a first run sees a whole weekend. */
export const DEFAULT_LOOKBACK_HOURS = 72;
/** Default of `windowHours`: signals about one identity within a day are one incident. */
export const DEFAULT_WINDOW_HOURS = 24;
/** Default of `watchlist.days`. */
export const DEFAULT_WATCHLIST_DAYS = 14;
/** Default of `circuitBreaker`: the runs of a day act automatically on at most 5 identities and at most 1% of the directory. */
export const DEFAULT_CIRCUIT_BREAKER = { maxIdentities: 5, maxShare: 0.01, windowHours: DEFAULT_BREAKER_WINDOW_HOURS } as const;
/** Longest `circuitBreaker.windowHours` accepted: a week. */
export const MAX_BREAKER_WINDOW_HOURS = 168;
/** Largest `circuitBreaker.maxShare` accepted: a breaker that lets one run act on more than half the directory protects nothing. */
export const MAX_CIRCUIT_BREAKER_SHARE = 0.5;

/** A Defender XDR alert (`/security/alerts_v2`). Every listed field must match; a rule that lists none matches every alert. */
export interface DefenderAlertRule {
  /** A Defender XDR alert. */
  readonly source: 'defenderAlert';
  /** alerts_v2 `serviceSource` values, e.g. `microsoftDefenderForOffice365`. @default any */
  readonly serviceSources?: readonly string[];
  /** alerts_v2 `category` values, e.g. `InitialAccess`, `Exfiltration`. @default any */
  readonly categories?: readonly string[];
  /** alerts_v2 `severity` values that qualify. @default any */
  readonly severities?: readonly ('informational' | 'low' | 'medium' | 'high')[];
  /** Evidence `@odata.type` suffixes the alert must carry one of, e.g. `mailboxConfigurationEvidence`. @default any */
  readonly evidenceTypes?: readonly string[];
  /** The confidence a matching alert gives. */
  readonly confidence: Confidence;
}

/** An Entra ID Protection risk detection (`/identityProtection/riskDetections`). A rule that lists no field matches every detection. */
export interface RiskDetectionRule {
  /** An Entra ID Protection risk detection. */
  readonly source: 'riskDetection';
  /** `riskEventType` values, e.g. `suspiciousInboxForwarding`, `anomalousToken`. @default any */
  readonly riskEventTypes?: readonly string[];
  /** `riskLevel` values that qualify. @default any */
  readonly riskLevels?: readonly ('low' | 'medium' | 'high')[];
  /** The confidence a matching detection gives. */
  readonly confidence: Confidence;
}

/** An Entra ID Protection risky user (`/identityProtection/riskyUsers`). */
export interface RiskyUserRule {
  /** An Entra ID Protection risky user. */
  readonly source: 'riskyUser';
  /** `riskLevel` values that qualify. Required. */
  readonly riskLevels: readonly ('low' | 'medium' | 'high')[];
  /** The confidence a matching risky user gives. */
  readonly confidence: Confidence;
}

/** A finding of this posture's own checks that indicates compromise (an external inbox rule, a risky consent). */
export interface FindingRule {
  /** A finding of this posture's checks. */
  readonly source: 'finding';
  /** Catalogue control ids, e.g. `MAIL.FWD.4` (a version, `MAIL.FWD.4v1`, is checked and dropped). Required. */
  readonly controls: readonly string[];
  /** The confidence a finding of one of these controls gives. */
  readonly confidence: Confidence;
}

/** A signal from another tool, read from a signal file. */
export interface ExternalRule {
  /** A signal file written by another tool. */
  readonly source: 'external';
  /** The `source` names a signal file gives, e.g. `mail-gateway`. Required. */
  readonly sourceNames: readonly string[];
  /** The signal `type`s that qualify. @default any */
  readonly types?: readonly string[];
  /** The lowest confidence the tool itself must state; the rule's `confidence` is what counts. @default any */
  readonly minReportedConfidence?: Confidence;
  /** The confidence a matching signal gives. */
  readonly confidence: Confidence;
}

/** One rule of `signals`. */
export type SignalRuleProps = DefenderAlertRule | RiskDetectionRule | RiskyUserRule | FindingRule | ExternalRule;

/** What one tier may do at one confidence. An action in none of the three lists is not taken. */
export interface AuthorityProps {
  /** Actions respond takes on its own. @default none */
  readonly automatic?: readonly ResponseAction[];
  /** Actions respond plans and a person approves before they run. @default none */
  readonly approval?: readonly ResponseAction[];
  /** Actions respond must never take here, whatever else is declared. @default none */
  readonly never?: readonly ResponseAction[];
}

/** Authority by confidence; a confidence left out keeps the default cell. */
export type AuthorityByConfidence = { readonly [C in Confidence]?: AuthorityProps };

export interface IncidentResponseProps {
  /** Who owns every incident: the plan and the trail name them. Required. */
  readonly owner: Owner;
  /**
   * Owners of the platforms the actions act on (identity, mail, applications), by action.
   * @default the incident owner, for every action not named
   */
  readonly actionOwners?: { readonly [A in ResponseAction]?: Owner };
  /** How far back the first run reads, in hours (1 to 720); later runs read from the cursor kept with the trail. @default 72 */
  readonly lookbackHours?: number;
  /** Signals about one identity within this many hours are one incident (1 to 720). @default 24 */
  readonly windowHours?: number;
  /**
   * The authoritative signals, in order: the first rule that matches a signal gives its confidence; a
   * signal no rule matches is not acted on. At least one. Required.
   */
  readonly signals: readonly SignalRuleProps[];
  /** How identities are tiered. Break-glass accounts are outside every tier: respond never acts on them. */
  readonly tiers?: {
    /** Directory role template ids whose active members are privileged. @default DEFAULT_PRIVILEGED_ROLES */
    readonly privilegedRoles?: readonly string[];
    /** Display names of groups whose members are high-value (executives, finance). @default none */
    readonly highValueGroups?: readonly string[];
    /** Service accounts and other non-human users. @default none */
    readonly serviceAccounts?: {
      /** userPrincipalNames. @default none */
      readonly users?: readonly string[];
      /** Display names of groups of service accounts. @default none */
      readonly groups?: readonly string[];
    };
  };
  /**
   * The authority matrix: for each tier and confidence, which actions run automatically, after
   * approval, or never, keyed by tier (privileged, serviceAccount, highValue, sharedMailbox, standard)
   * then confidence (high, medium, low). A cell declared here replaces the default cell whole (a list
   * it leaves out is empty); a cell left out keeps its default.
   * @default defaultMatrix(whether a watchlist is declared): see `defaultMatrix`
   */
  readonly matrix?: { readonly [T in Tier]?: AuthorityByConfidence };
  /**
   * The watchlist: a group that a conditional access policy targets (e.g. sign-in frequency every
   * time), and how long a user stays in it. The `watchlist` action needs it. @default none
   */
  readonly watchlist?: {
    /** Display name of the group. Required. */
    readonly group: string;
    /** Days a user stays on the watchlist, 1 to 90. @default 14 */
    readonly days?: number;
  };
  /**
   * When the runs of the last `windowHours` (this one included) would act automatically on more
   * identities than `maxIdentities`, or on more than `maxShare` of the directory's users, this run
   * acts on none and asks for approval instead. The window is rolling: a wave spread over many
   * scheduled runs trips it as one run would.
   * @default { maxIdentities: 5, maxShare: 0.01, windowHours: 24 }
   */
  readonly circuitBreaker?: {
    /** Whole number, at least 1. @default 5 */
    readonly maxIdentities?: number;
    /** Share of the directory's users, above 0 and at most 0.5. @default 0.01 */
    readonly maxShare?: number;
    /** Hours the breaker looks back over, 1 to 168. @default 24 */
    readonly windowHours?: number;
  };
}

type Cells = Record<Tier, Record<Confidence, Authority>>;

const cell = (automatic: ResponseAction[], approval: ResponseAction[], never: ResponseAction[]): Authority => ({ automatic, approval, never });

/**
 * The default authority matrix. Conservative: at high confidence, privileged, high-value and standard
 * users have their sessions revoked and are confirmed compromised automatically (which makes risk-based
 * conditional access force a password change); everything else that changes an account or a mailbox
 * waits for approval. Service accounts and shared mailboxes are never acted on automatically beyond a
 * notice, are never put on the watchlist (its sign-in policy would break them), never asked to
 * re-register MFA and never disabled below high confidence. Below high confidence nobody is disabled,
 * and low confidence only watchlists and notifies. The `watchlist` action appears only when a
 * watchlist is declared.
 */
export function defaultMatrix(watchlist: boolean): Cells {
  const w: ResponseAction[] = watchlist ? ['watchlist'] : [];
  const accountChanges: ResponseAction[] = ['requirePasswordChange', 'requireMfaReregistration', 'removeMailRules', 'removeDelegates', 'revokeConsents'];
  // A phishing chain's message and invites are taken away at once when sure, by a person otherwise.
  const chain: ResponseAction[] = ['purgeMessage', 'removeInvites'];
  const person = (): Record<Confidence, Authority> => ({
    high: cell(['revokeSessions', 'confirmCompromised', 'notify', ...chain], [...accountChanges, 'disableAccount'], []),
    medium: cell(['revokeSessions', ...w, 'notify'], ['confirmCompromised', ...accountChanges, ...chain], ['disableAccount']),
    low: cell([...w, 'notify'], ['revokeSessions', ...chain], ['disableAccount']),
  });
  const nonHuman: ResponseAction[] = ['watchlist', 'requireMfaReregistration'];
  return {
    privileged: person(),
    serviceAccount: {
      high: cell(['notify', ...chain], ['revokeSessions', 'confirmCompromised', 'requirePasswordChange', 'removeMailRules', 'removeDelegates', 'revokeConsents', 'disableAccount'], nonHuman),
      medium: cell(['notify'], ['revokeSessions', 'removeMailRules', 'revokeConsents', ...chain], [...nonHuman, 'disableAccount']),
      low: cell(['notify'], [...chain], [...nonHuman, 'disableAccount']),
    },
    highValue: {
      ...person(),
      // A high-value mailbox is watched, not acted on, below high confidence.
      medium: cell([...w, 'notify'], ['revokeSessions', 'confirmCompromised', ...accountChanges, ...chain], ['disableAccount']),
    },
    sharedMailbox: {
      high: cell(['notify', ...chain], ['revokeSessions', 'removeMailRules', 'removeDelegates', 'revokeConsents', 'disableAccount'], nonHuman),
      medium: cell(['notify'], ['removeMailRules', 'removeDelegates', ...chain], [...nonHuman, 'disableAccount']),
      low: cell(['notify'], [...chain], [...nonHuman, 'disableAccount']),
    },
    standard: person(),
  };
}

/** The match fields of each signal source, and which of them a rule of that source must name. */
const SIGNAL_FIELDS = {
  defenderAlert: { required: [], optional: ['serviceSources', 'categories', 'severities', 'evidenceTypes'] },
  riskDetection: { required: [], optional: ['riskEventTypes', 'riskLevels'] },
  riskyUser: { required: ['riskLevels'], optional: [] },
  finding: { required: ['controls'], optional: [] },
  external: { required: ['sourceNames'], optional: ['types', 'minReportedConfidence'] },
} as const satisfies Record<SignalRuleProps['source'], { required: readonly string[]; optional: readonly string[] }>;

type SignalSource = keyof typeof SIGNAL_FIELDS;
/** Every match field of `source`. */
function fieldsOf(source: SignalSource): readonly string[] {
  return [...SIGNAL_FIELDS[source].required, ...SIGNAL_FIELDS[source].optional];
}

/**
 * The incident response policy of a posture, as code: which signals are authoritative and at what
 * confidence, how identities are tiered, and what `posture respond` may do to each tier at each
 * confidence (automatically, after approval, or never), with a watchlist and a circuit breaker.
 * It contributes `desired.response` to the manifest; a posture holds at most one.
 */
export class IncidentResponse extends Construct {
  readonly posture: EmailSecurityPosture;
  readonly props: IncidentResponseProps;
  /** Where the posture's code declares this construct, when known. */
  readonly source: SourceLocation | undefined;

  constructor(scope: EmailSecurityPosture, id: string, props: IncidentResponseProps) {
    super(scope, id);
    this.source = captureDeclaration();
    this.posture = EmailSecurityPosture.of(scope);
    this.props = props;
    this.posture.registerResponse(this);
    validateWith(this, (p) => {
      if (!p.props(incidentResponseProps, props)) return;
      this.check(p);
    });
  }

  /** The authority matrix in force: the declared cells over the defaults. */
  matrix(): Cells {
    const defaults = defaultMatrix(this.props.watchlist !== undefined);
    const declared = this.props.matrix ?? {};
    const out = {} as Cells;
    for (const tier of TIERS) {
      out[tier] = {} as Record<Confidence, Authority>;
      for (const confidence of CONFIDENCES) {
        const d = declared[tier]?.[confidence];
        out[tier][confidence] = d ? cell([...(d.automatic ?? [])], [...(d.approval ?? [])], [...(d.never ?? [])]) : defaults[tier][confidence];
      }
    }
    return out;
  }

  /** `desired.response` of the manifest. Valid only once validation has passed. */
  responsePolicy(): ResponsePolicy {
    const p = this.props;
    const owner = { ...p.owner };
    return {
      owner,
      actionOwners: Object.fromEntries(ACTIONS.map((a) => [a, { ...(p.actionOwners?.[a] ?? owner) }])),
      lookbackHours: p.lookbackHours ?? DEFAULT_LOOKBACK_HOURS,
      windowHours: p.windowHours ?? DEFAULT_WINDOW_HOURS,
      signals: p.signals.map(toSignalRule),
      tiers: {
        privilegedRoles: [...(p.tiers?.privilegedRoles ?? DEFAULT_PRIVILEGED_ROLES)].map((r) => r.toLowerCase()),
        highValueGroups: [...(p.tiers?.highValueGroups ?? [])].map((g) => g.trim()),
        serviceAccounts: {
          users: (p.tiers?.serviceAccounts?.users ?? []).map((u) => u.trim().toLowerCase()),
          groups: (p.tiers?.serviceAccounts?.groups ?? []).map((g) => g.trim()),
        },
      },
      matrix: this.matrix(),
      ...(p.watchlist ? { watchlist: { group: p.watchlist.group.trim(), days: p.watchlist.days ?? DEFAULT_WATCHLIST_DAYS } } : {}),
      circuitBreaker: {
        maxIdentities: p.circuitBreaker?.maxIdentities ?? DEFAULT_CIRCUIT_BREAKER.maxIdentities,
        maxShare: p.circuitBreaker?.maxShare ?? DEFAULT_CIRCUIT_BREAKER.maxShare,
        windowHours: p.circuitBreaker?.windowHours ?? DEFAULT_CIRCUIT_BREAKER.windowHours,
      },
    };
  }

  private check(p: Problems): void {
    const props = this.props;
    const first = this.posture.responses()[0];
    if (first && first !== this) p.add('(posture)', `a posture holds one IncidentResponse; ${first.node.path} is already declared`);

    checkOwner(p, 'owner', props.owner);
    for (const action of ACTIONS) {
      const o = props.actionOwners?.[action];
      if (o !== undefined) checkOwner(p, `actionOwners.${action}`, o);
    }
    hours(p, 'lookbackHours', props.lookbackHours);
    hours(p, 'windowHours', props.windowHours);
    this.checkSignals(p);
    this.checkTiers(p);
    this.checkMatrix(p);
    this.checkWatchlist(p);
    this.checkCircuitBreaker(p);
  }

  private checkSignals(p: Problems): void {
    const signals = this.props.signals;
    if (!signals?.length) {
      p.add('signals', 'declare at least one authoritative signal rule: without one, respond acts on nothing');
      return;
    }
    const catchAll = new Map<SignalSource, number>();
    signals.forEach((rule, i) => {
      const at = `signals[${i}]`;
      if (!p.required(`${at}.source`, rule.source)) return;
      // An unknown source is already reported by the props' schema.
      if (!Object.hasOwn(SIGNAL_FIELDS, rule.source)) return;
      const source = rule.source;
      const fields = fieldsOf(source);
      const given = rule as unknown as Record<string, unknown>;
      for (const key of Object.keys(given)) {
        if (key === 'source' || key === 'confidence' || given[key] === undefined) continue;
        if (!fields.includes(key)) {
          const owners = (Object.keys(SIGNAL_FIELDS) as SignalSource[]).filter((s) => fieldsOf(s).includes(key));
          p.add(`${at}.${key}`, `does not apply to a ${source} rule (it belongs to ${owners.join(', ')}); a ${source} rule matches on ${fields.length ? fields.join(', ') : 'nothing else'}`);
        }
      }
      for (const key of SIGNAL_FIELDS[source].required) {
        if (given[key] === undefined) p.add(`${at}.${key}`, `is required for ${source === 'external' ? 'an' : 'a'} ${source} rule`);
      }
      for (const key of fields) {
        const value = given[key];
        if (!Array.isArray(value)) continue;
        if (value.length === 0) p.add(`${at}.${key}`, 'name at least one value, or leave it out to match any');
        value.forEach((v: unknown, j) => {
          if (typeof v === 'string' && v.trim() === '') p.add(`${at}.${key}[${j}]`, 'must not be empty');
        });
      }
      p.required(`${at}.confidence`, rule.confidence);
      if (rule.source === 'finding') {
        (rule.controls ?? []).forEach((ref, j) => {
          if (typeof ref !== 'string' || ref.trim() === '') return;
          const r = resolveControl(ref);
          if ('error' in r) p.add(`${at}.controls[${j}]`, r.error);
        });
      }
      const earlier = catchAll.get(source);
      if (earlier !== undefined) {
        p.add(at, `is never reached: signals[${earlier}] already matches every ${source} signal (rules apply in order; put the catch-all last)`);
      } else if (fieldsOf(source).length > 0 && SIGNAL_FIELDS[source].required.length === 0 && fieldsOf(source).every((k) => given[k] === undefined)) {
        catchAll.set(source, i);
      }
    });
  }

  private checkTiers(p: Problems): void {
    const tiers = this.props.tiers;
    const roles = tiers?.privilegedRoles;
    if (roles !== undefined) {
      if (roles.length === 0) p.add('tiers.privilegedRoles', 'name at least one role, or leave privilegedRoles out for DEFAULT_PRIVILEGED_ROLES');
      roles.forEach((r, i) => p.format(`tiers.privilegedRoles[${i}]`, guid, r));
    }
    const breakGlassUsers = new Set(this.posture.breakGlassUsers());
    const breakGlassGroups = new Set(this.posture.breakGlassGroups().map(lower));
    (tiers?.highValueGroups ?? []).forEach((g, i) => {
      const at = `tiers.highValueGroups[${i}]`;
      if (!p.required(at, g)) return;
      if (breakGlassGroups.has(lower(g))) p.add(at, `"${g}" is a break-glass group: break-glass accounts are outside every tier, respond never acts on them`);
    });
    (tiers?.serviceAccounts?.users ?? []).forEach((u, i) => {
      const at = `tiers.serviceAccounts.users[${i}]`;
      if (!p.required(at, u) || !p.format(at, upn, u.trim().toLowerCase())) return;
      if (breakGlassUsers.has(lower(u))) p.add(at, `${u} is a break-glass account: break-glass accounts are outside every tier, respond never acts on them`);
    });
    (tiers?.serviceAccounts?.groups ?? []).forEach((g, i) => {
      const at = `tiers.serviceAccounts.groups[${i}]`;
      if (!p.required(at, g)) return;
      if (breakGlassGroups.has(lower(g))) p.add(at, `"${g}" is a break-glass group: break-glass accounts are outside every tier, respond never acts on them`);
    });
  }

  private checkMatrix(p: Problems): void {
    const declared = this.props.matrix ?? {};
    const watchlist = this.props.watchlist !== undefined;
    for (const tier of TIERS) {
      for (const confidence of CONFIDENCES) {
        const d = declared[tier]?.[confidence];
        if (!d) continue;
        const at = `matrix.${tier}.${confidence}`;
        const placed = new Map<ResponseAction, string>();
        for (const list of ['automatic', 'approval', 'never'] as const) {
          (d[list] ?? []).forEach((action, i) => {
            const other = placed.get(action);
            if (other === list) p.add(`${at}.${list}[${i}]`, `${action} is listed twice`);
            else if (other) p.add(`${at}.${list}[${i}]`, `${action} is already in ${other}: an action goes in at most one of automatic, approval and never`);
            else placed.set(action, list);
            if (action === 'watchlist' && list !== 'never' && !watchlist) {
              p.add(`${at}.${list}[${i}]`, 'the watchlist action needs a watchlist: declare watchlist { group, days }, or remove the action');
            }
          });
        }
      }
    }
  }

  private checkWatchlist(p: Problems): void {
    const w = this.props.watchlist;
    if (w === undefined) return;
    if (p.required('watchlist.group', w.group)) {
      const group = lower(w.group);
      if (this.posture.breakGlassGroups().some((g) => lower(g) === group)) {
        p.add('watchlist.group', `"${w.group}" is a break-glass group: respond would add suspected accounts to it`);
      }
      const tiers = this.props.tiers;
      if ((tiers?.highValueGroups ?? []).some((g) => lower(g) === group) || (tiers?.serviceAccounts?.groups ?? []).some((g) => lower(g) === group)) {
        p.add('watchlist.group', `"${w.group}" is also a tier group: adding a user to the watchlist would change the user's tier`);
      }
    }
    if (w.days !== undefined && (!Number.isInteger(w.days) || w.days < 1 || w.days > 90)) {
      p.add('watchlist.days', `must be a whole number of days from 1 to 90, not ${w.days}`);
    }
  }

  private checkCircuitBreaker(p: Problems): void {
    const c = this.props.circuitBreaker;
    if (c?.maxIdentities !== undefined && (!Number.isInteger(c.maxIdentities) || c.maxIdentities < 1)) {
      p.add('circuitBreaker.maxIdentities', `must be a whole number of at least 1, not ${c.maxIdentities}`);
    }
    if (c?.maxShare !== undefined && (!Number.isFinite(c.maxShare) || c.maxShare <= 0 || c.maxShare > MAX_CIRCUIT_BREAKER_SHARE)) {
      p.add('circuitBreaker.maxShare', `must be a share above 0 and at most ${MAX_CIRCUIT_BREAKER_SHARE} (e.g. 0.01 for 1% of the directory), not ${c.maxShare}`);
    }
    if (c?.windowHours !== undefined && (!Number.isInteger(c.windowHours) || c.windowHours < 1 || c.windowHours > MAX_BREAKER_WINDOW_HOURS)) {
      p.add('circuitBreaker.windowHours', `must be a whole number of hours from 1 to ${MAX_BREAKER_WINDOW_HOURS}, not ${c.windowHours}`);
    }
  }
}

function lower(s: string): string {
  return s.trim().toLowerCase();
}

function hours(p: Problems, at: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1 || value > 720)) {
    p.add(at, `must be a whole number of hours from 1 to 720 (30 days), not ${value}`);
  }
}

/** A rule in manifest form: only the fields of its source, values trimmed, control ids unversioned. */
function toSignalRule(rule: SignalRuleProps): SignalRule {
  const given = rule as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = { source: rule.source };
  for (const key of fieldsOf(rule.source)) {
    const value = given[key];
    if (value !== undefined) out[key] = Array.isArray(value) ? value.map((v: string) => v.trim()) : value;
  }
  if (rule.source === 'finding') {
    out['controls'] = rule.controls.map((ref) => {
      const r = resolveControl(ref.trim());
      return 'control' in r ? r.control.id : ref.trim();
    });
  }
  out['confidence'] = rule.confidence;
  return out as SignalRule;
}

const confidence = oneOf<Confidence>({ high: true, medium: true, low: true });
const action = oneOf<ResponseAction>({
  revokeSessions: true,
  confirmCompromised: true,
  requirePasswordChange: true,
  requireMfaReregistration: true,
  disableAccount: true,
  removeMailRules: true,
  removeDelegates: true,
  revokeConsents: true,
  watchlist: true,
  notify: true,
  purgeMessage: true,
  removeInvites: true,
});
const level = oneOf<'low' | 'medium' | 'high'>({ low: true, medium: true, high: true });
const authority = props<AuthorityProps>({ automatic: list(action), approval: list(action), never: list(action) }).optional();
const byConfidence = props<AuthorityByConfidence>({ high: authority, medium: authority, low: authority }).optional();

/** Every field of every rule source; which fields go with which source is checked by the construct, with a message that says so. */
const signalRule = z.strictObject({
  source: oneOf<SignalSource>({ defenderAlert: true, riskDetection: true, riskyUser: true, finding: true, external: true }).optional(),
  serviceSources: texts,
  categories: texts,
  severities: list(oneOf<NonNullable<DefenderAlertRule['severities']>[number]>({ informational: true, low: true, medium: true, high: true })),
  evidenceTypes: texts,
  riskEventTypes: texts,
  riskLevels: list(level),
  controls: texts,
  sourceNames: texts,
  types: texts,
  minReportedConfidence: confidence.optional(),
  confidence: confidence.optional(),
});

type Tiers = NonNullable<IncidentResponseProps['tiers']>;

export const incidentResponseProps = named('IncidentResponse', props<IncidentResponseProps>({
  owner: ownerProps.optional(),
  actionOwners: props<NonNullable<IncidentResponseProps['actionOwners']>>({
    revokeSessions: ownerProps.optional(),
    confirmCompromised: ownerProps.optional(),
    requirePasswordChange: ownerProps.optional(),
    requireMfaReregistration: ownerProps.optional(),
    disableAccount: ownerProps.optional(),
    removeMailRules: ownerProps.optional(),
    removeDelegates: ownerProps.optional(),
    revokeConsents: ownerProps.optional(),
    watchlist: ownerProps.optional(),
    notify: ownerProps.optional(),
    purgeMessage: ownerProps.optional(),
    removeInvites: ownerProps.optional(),
  }).optional(),
  lookbackHours: whole,
  windowHours: whole,
  signals: list(signalRule),
  tiers: props<Tiers>({
    privilegedRoles: texts,
    highValueGroups: texts,
    serviceAccounts: props<NonNullable<Tiers['serviceAccounts']>>({ users: texts, groups: texts }).optional(),
  }).optional(),
  matrix: props<NonNullable<IncidentResponseProps['matrix']>>({
    privileged: byConfidence,
    serviceAccount: byConfidence,
    highValue: byConfidence,
    sharedMailbox: byConfidence,
    standard: byConfidence,
  }).optional(),
  watchlist: props<NonNullable<IncidentResponseProps['watchlist']>>({ group: text, days: whole }).optional(),
  circuitBreaker: props<NonNullable<IncidentResponseProps['circuitBreaker']>>({ maxIdentities: whole, maxShare: z.number().optional(), windowHours: whole }).optional(),
}));
