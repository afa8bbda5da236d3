import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TerraformStack, type ISynthesisSession } from 'cdktf';
import { Construct } from 'constructs';
import { AzureadProvider } from '@cdktf/provider-azuread/lib/provider/index.js';
import { DataAzureadUser } from '@cdktf/provider-azuread/lib/data-azuread-user/index.js';
import { DataAzureadGroup } from '@cdktf/provider-azuread/lib/data-azuread-group/index.js';
import { controlsForArea, resolveControl, versionedId } from '../../policies/catalogue.js';
import type { ControlArea, ExceptionScopeType } from '../../policies/types.js';
import { domainName, guid, isoDate, mailDestination, upn } from '../../reconciler/manifest/formats.js';
import {
  addDays,
  DEFAULT_EXCEPTION_MAX_DAYS,
  MANIFEST_FILE,
  MANIFEST_VERSION,
  manifestSchema,
  type ControlEntry,
  type ControlMode,
  type DesiredState,
  type Manifest,
  type Owner,
  type PostureException,
  type SourceLocation,
} from '../../reconciler/manifest/schema.js';
import type { ResponsePolicy } from '../../reconciler/manifest/response.js';
import { validateWith, type Problems } from './problems.js';
import { controlMode, list, named, oneOf, ownerProps, props, text, texts, whole } from './prop-schemas.js';
import { captureDeclaration } from './source.js';
import { alertsManifest, alertsProps, checkAlerts, type AlertsProps } from './alerts.js';

/** Default and ceiling for how long an exception may run, and day arithmetic for expiries (defined with the manifest). */
export { addDays, DEFAULT_EXCEPTION_MAX_DAYS };

/** Context key that fixes "today" for validation (YYYY-MM-DD); tests use it, real runs do not. */
export const TODAY_CONTEXT_KEY = 'email-posture:today';

/** A declared, approved, time-boxed departure from a control. */
export interface ExceptionProps {
  /** Control id, with or without version: `MAIL.DMARC.2` or `MAIL.DMARC.2v1`. */
  readonly control: string;
  /**
   * What the exception covers; the control's catalogue entry lists the scope types it accepts. For a
   * forwarding control, `destinations` pins where the excepted mail may go (addresses or domains):
   * forwarding anywhere else stays a finding.
   */
  readonly scope: { readonly type: ExceptionScopeType; readonly value: string; readonly destinations?: readonly string[] };
  /** Why the control cannot be met here. */
  readonly reason: string;
  /** UPN of the person who approved the exception. Required. */
  readonly approvedBy: string;
  /** Last day the exception is valid, YYYY-MM-DD. Required; at most `exceptionPolicy.maxDays` ahead. */
  readonly expires: string;
  /** What reduces the risk meanwhile. */
  readonly compensatingControl?: string;
  /** Change or risk ticket, e.g. `CHG-1234`. */
  readonly ticket?: string;
}

export interface EmailSecurityPostureProps {
  /** The organisation whose tenant this posture describes. */
  readonly organization: {
    readonly name: string;
    /** The tenant's primary (initial or verified default) domain. */
    readonly primaryDomain: string;
    /** Entra tenant id; optional, as the reconciler is told the tenant on its command line. */
    readonly tenantId?: string;
  };
  /**
   * Emergency-access accounts. They are excluded from every conditional access policy the posture
   * declares, and synth fails for a policy that does not exclude them.
   */
  readonly breakGlass: {
    /** userPrincipalNames; at least one. */
    readonly users: readonly string[];
    /** Display names of groups that hold emergency-access accounts. */
    readonly groups?: readonly string[];
  };
  /** Who owns GOV.OWNER.1: that every other owner still exists. Required. */
  readonly ownership: { readonly owner: Owner; readonly mode?: Exclude<ControlMode, 'remediate'> };
  /** Declared exceptions. More can be added with `addException`. */
  readonly exceptions?: readonly ExceptionProps[];
  /** Limits on exceptions. */
  readonly exceptionPolicy?: {
    /** Longest an exception may run, in days from synth. @default 180 */
    readonly maxDays?: number;
  };
  /** Mode of every control whose area does not say otherwise. Remediation is opt-in. @default 'report' */
  readonly defaultMode?: ControlMode;
  /** Where the findings of controls in `alert` mode are delivered (webhooks named by environment variable). */
  readonly alerts?: AlertsProps;
}

/** What the root needs of an area construct (`PostureArea` in area.ts, which builds on this file). */
export interface RegisteredArea {
  readonly area: ControlArea;
  readonly node: { readonly id: string; readonly path: string };
  /** Where the posture's code declares the area, when known. */
  readonly source?: SourceLocation | undefined;
  controlEntries(): ControlEntry[];
  desiredState(): Partial<DesiredState>;
}

/** What the root needs of the IncidentResponse construct (response.ts, which builds on this file). */
export interface RegisteredResponse {
  readonly node: { readonly id: string; readonly path: string };
  /** Where the posture's code declares the construct, when known. */
  readonly source?: SourceLocation | undefined;
  responsePolicy(): ResponsePolicy;
}

/**
 * The root of an organisation's email-security posture. Area constructs (SenderAuthentication,
 * InboundEnforcement, ForwardingLockdown, RiskBasedAccess, ConsentGovernance, AuthenticationStrength) and the response
 * policy (IncidentResponse) are its children.
 * At synth it writes the posture manifest beside cdk.tf.json.
 */
export class EmailSecurityPosture extends Construct {
  /** The posture that `construct` belongs to. */
  static of(construct: Construct): EmailSecurityPosture {
    for (let c: Construct | undefined = construct; c; c = c.node.scope as Construct | undefined) {
      if (c instanceof EmailSecurityPosture) return c;
    }
    throw new Error(`${construct.node.path} is not inside an EmailSecurityPosture`);
  }

  readonly props: EmailSecurityPostureProps;
  readonly defaultMode: ControlMode;
  readonly maxExceptionDays: number;
  /** Where the posture's code declares this posture (file relative to the folder of cdktf.json, line), when known. */
  readonly source: SourceLocation | undefined;
  private readonly exceptionProps: ExceptionProps[];
  private readonly areas: RegisteredArea[] = [];
  private readonly responseConstructs: RegisteredResponse[] = [];
  private readonly userLookups = new Map<string, DataAzureadUser>();
  private readonly groupLookups = new Map<string, DataAzureadGroup>();

  constructor(scope: Construct, id: string, props: EmailSecurityPostureProps) {
    super(scope, id);
    this.source = captureDeclaration();
    this.props = props;
    this.defaultMode = props.defaultMode ?? 'report';
    this.maxExceptionDays = props.exceptionPolicy?.maxDays ?? DEFAULT_EXCEPTION_MAX_DAYS;
    this.exceptionProps = Array.isArray(props.exceptions) ? [...props.exceptions] : [];

    const stack = TerraformStack.of(this);
    if (!stack.node.tryFindChild('azuread')) {
      new AzureadProvider(stack, 'azuread', props.organization?.tenantId ? { tenantId: props.organization.tenantId } : {});
    }

    // The props' schema sees the exceptions added with addException too.
    const exceptions = () => (props.exceptions === undefined || Array.isArray(props.exceptions) ? this.exceptionProps : props.exceptions);
    validateWith(this, (p) => p.props(emailSecurityPostureProps, { ...props, exceptions: exceptions() }) && this.check(p));
    // The manifest is written by the stack's synthesizer, right after cdk.tf.json, so it exists
    // exactly when the Terraform output does (validation has passed by then).
    const terraformSynthesizer = stack.synthesizer;
    stack.synthesizer = {
      synthesize: (session: ISynthesisSession) => {
        terraformSynthesizer.synthesize(session);
        const dir = join(session.outdir, session.manifest.forStack(stack).workingDirectory);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify(this.toManifest(), null, 2) + '\n');
      },
    };
  }

  /** Adds a declared exception. */
  addException(exception: ExceptionProps): void {
    this.exceptionProps.push(exception);
  }

  /** Called by each area construct as it is created. */
  registerArea(area: RegisteredArea): void {
    this.areas.push(area);
  }

  /** Called by the IncidentResponse construct as it is created. */
  registerResponse(response: RegisteredResponse): void {
    this.responseConstructs.push(response);
  }

  /** The IncidentResponse constructs declared on this posture, in order (validation allows one). */
  responses(): readonly RegisteredResponse[] {
    return this.responseConstructs;
  }

  /** "Today" for expiry checks, in UTC. */
  get today(): string {
    const fixed = this.node.tryGetContext(TODAY_CONTEXT_KEY) as string | undefined;
    return fixed ?? new Date().toISOString().slice(0, 10);
  }

  /**
   * The exception, if any, that covers `control` for `scope` and is in force today. Scope values
   * compare case-insensitively (domains and UPNs are case-insensitive).
   */
  findException(control: string, scope: { type: ExceptionScopeType; value: string }): PostureException | undefined {
    return this.exceptions().find(
      (e) =>
        e.control.replace(/v[0-9]+$/, '') === control &&
        e.scope.type === scope.type &&
        e.scope.value.toLowerCase() === scope.value.toLowerCase() &&
        e.expires >= this.today,
    );
  }

  /** A Terraform lookup of a user by UPN, shared by every policy that names the user. */
  userObjectId(userPrincipalName: string): string {
    const key = userPrincipalName.toLowerCase();
    let lookup = this.userLookups.get(key);
    if (!lookup) {
      lookup = new DataAzureadUser(this, `user-${key.replace(/[^a-z0-9]+/g, '-')}`, { userPrincipalName: key });
      this.userLookups.set(key, lookup);
    }
    return lookup.objectId;
  }

  /** A Terraform lookup of a security group by display name. */
  groupObjectId(displayName: string): string {
    let lookup = this.groupLookups.get(displayName);
    if (!lookup) {
      lookup = new DataAzureadGroup(this, `group-${displayName.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${this.groupLookups.size}`, {
        displayName,
        securityEnabled: true,
      });
      this.groupLookups.set(displayName, lookup);
    }
    return lookup.objectId;
  }

  /** The declared exceptions in manifest form (control ids versioned, ids stable). */
  exceptions(): PostureException[] {
    return this.exceptionProps.flatMap((e) => {
      const resolved = typeof e.control === 'string' ? resolveControl(e.control) : undefined;
      if (!resolved || !('control' in resolved)) return [];
      const control = versionedId(resolved.control);
      const value = String(e.scope?.value ?? '');
      return [
        {
          id: `${resolved.control.id}:${e.scope?.type}:${value.toLowerCase()}`,
          control,
          scope: { type: e.scope?.type, value, ...(e.scope?.destinations !== undefined ? { destinations: e.scope.destinations.map((d) => String(d).toLowerCase()) } : {}) },
          reason: e.reason,
          approvedBy: e.approvedBy,
          expires: e.expires,
          ...(e.compensatingControl !== undefined ? { compensatingControl: e.compensatingControl } : {}),
          ...(e.ticket !== undefined ? { ticket: e.ticket } : {}),
          declaredBy: this.node.path,
        },
      ];
    });
  }

  /** Where the posture's code declares this posture, its areas and its response policy, by construct path. */
  sources(): Record<string, SourceLocation> {
    const sources: Record<string, SourceLocation> = {};
    for (const c of [this, ...this.areas, ...this.responseConstructs]) if (c.source) sources[c.node.path] = c.source;
    return sources;
  }

  /** The whole desired state as the reconciler will read it. Throws if the result breaks the schema. */
  toManifest(): Manifest {
    const controls: ControlEntry[] = [
      ...controlsForArea('ownership').map((c) => ({
        id: versionedId(c),
        mode: this.props.ownership.mode ?? 'report',
        owner: this.props.ownership.owner,
        declaredBy: this.node.path,
        ...(this.source ? { source: this.source } : {}),
      })),
      ...this.areas.flatMap((a) => a.controlEntries()),
    ];
    const desired: DesiredState = {};
    for (const area of this.areas) Object.assign(desired, area.desiredState());
    const response = this.responseConstructs[0];
    if (response) desired.response = response.responsePolicy();
    const manifest = {
      manifestVersion: MANIFEST_VERSION,
      kind: 'EmailSecurityPosture' as const,
      stack: TerraformStack.of(this).node.id,
      organization: {
        name: this.props.organization.name,
        primaryDomain: this.props.organization.primaryDomain,
        ...(this.props.organization.tenantId ? { tenantId: this.props.organization.tenantId } : {}),
      },
      breakGlass: { users: this.breakGlassUsers(), groups: [...(this.props.breakGlass.groups ?? [])] },
      exceptionPolicy: { maxDays: this.maxExceptionDays },
      controls,
      ...(Object.keys(this.sources()).length > 0 ? { sources: this.sources() } : {}),
      exceptions: this.exceptions(),
      ...(this.props.alerts ? { alerts: alertsManifest(this.props.alerts) } : {}),
      desired,
    };
    const parsed = manifestSchema.safeParse(manifest);
    if (!parsed.success) {
      const first = parsed.error.issues[0]!;
      throw new Error(`internal error: the posture manifest breaks its schema at ${first.path.join('.')}: ${first.message}`);
    }
    return parsed.data;
  }

  /** Break-glass UPNs, lower-cased. */
  breakGlassUsers(): string[] {
    const users: unknown = this.props.breakGlass?.users;
    return Array.isArray(users) ? users.map((u) => String(u).toLowerCase()) : [];
  }

  breakGlassGroups(): string[] {
    const groups: unknown = this.props.breakGlass?.groups;
    return Array.isArray(groups) ? groups.map(String) : [];
  }

  private check(p: Problems): void {
    const { organization, breakGlass, ownership } = this.props;
    if (p.required('organization', organization)) {
      p.required('organization.name', organization.name);
      if (p.required('organization.primaryDomain', organization.primaryDomain)) {
        p.format('organization.primaryDomain', domainName, organization.primaryDomain);
      }
      if (organization.tenantId !== undefined) p.format('organization.tenantId', guid, organization.tenantId);
    }
    if (!breakGlass?.users?.length) {
      p.add('breakGlass.users', 'declare at least one break-glass (emergency access) account');
    } else {
      breakGlass.users.forEach((u, i) => p.format(`breakGlass.users[${i}]`, upn, u));
    }
    checkOwner(p, 'ownership.owner', ownership?.owner);
    if (!Number.isInteger(this.maxExceptionDays) || this.maxExceptionDays < 1) {
      p.add('exceptionPolicy.maxDays', `must be a whole number of days of at least 1, not ${this.maxExceptionDays}`);
    }
    this.exceptionProps.forEach((e, i) => this.checkException(p, `exceptions[${i}]`, e));
    checkAlerts(p, 'alerts', this.props.alerts);

    const others = TerraformStack.of(this).node.findAll().filter((c) => c instanceof EmailSecurityPosture && c !== this);
    if (others.length) p.add('(stack)', `a stack holds one posture; ${others.map((c) => c.node.path).join(', ')} is another`);

    const seen = new Map<string, RegisteredArea>();
    for (const area of this.areas) {
      const other = seen.get(area.area);
      if (other) p.add(area.node.id, `area "${area.area}" is already declared by ${other.node.path}; declare each area once`);
      seen.set(area.area, area);
    }
  }

  private checkException(p: Problems, at: string, e: ExceptionProps): void {
    const resolved = p.required(`${at}.control`, e.control) ? resolveControl(e.control) : undefined;
    if (resolved && 'error' in resolved) p.add(`${at}.control`, resolved.error);
    const control = resolved && 'control' in resolved ? resolved.control : undefined;

    if (p.required(`${at}.scope`, e.scope) && p.required(`${at}.scope.value`, e.scope.value)) {
      if (control && !control.exceptionScopes.includes(e.scope.type)) {
        p.add(
          `${at}.scope.type`,
          control.exceptionScopes.length
            ? `${control.id} accepts exceptions scoped to ${control.exceptionScopes.join(', ')}, not "${e.scope.type}"`
            : `${control.id} accepts no exceptions`,
        );
      }
      if (e.scope.type === 'domain') p.format(`${at}.scope.value`, domainName, e.scope.value);
      if (e.scope.type === 'user') p.format(`${at}.scope.value`, upn, e.scope.value);
      if (e.scope.destinations !== undefined) {
        if (control && !control.exceptionDestinations) p.add(`${at}.scope.destinations`, `${control.id} has no destination to pin; leave destinations out`);
        else if (!Array.isArray(e.scope.destinations) || e.scope.destinations.length === 0) p.add(`${at}.scope.destinations`, 'name at least one address or domain, or leave destinations out');
        else e.scope.destinations.forEach((d, i) => p.format(`${at}.scope.destinations[${i}]`, mailDestination, typeof d === 'string' ? d.toLowerCase() : d));
      }
    }
    p.required(`${at}.reason`, e.reason);
    if (control?.exceptionNeedsCompensatingControl && (typeof e.compensatingControl !== 'string' || e.compensatingControl.trim() === '')) {
      p.add(`${at}.compensatingControl`, `is required: an exception to ${control.id} names what reduces the risk while the path stays as it is`);
    }
    if (p.required(`${at}.approvedBy`, e.approvedBy) && p.format(`${at}.approvedBy`, upn, e.approvedBy) && /\.invalid$/i.test(e.approvedBy)) {
      // The .invalid domain (RFC 2606) never resolves: posture import --accept-gaps writes its placeholder approver there.
      p.add(`${at}.approvedBy`, `${e.approvedBy} is a placeholder (.invalid): the person who approves the exception names themselves here, or the exception is removed`);
    }
    if (p.required(`${at}.expires`, e.expires) && p.format(`${at}.expires`, isoDate, e.expires)) {
      const limit = addDays(this.today, this.maxExceptionDays);
      if (e.expires < this.today) p.add(`${at}.expires`, `expired on ${e.expires}; renew it with a new approval or remove it`);
      else if (e.expires > limit) {
        p.add(`${at}.expires`, `${e.expires} is more than ${this.maxExceptionDays} days ahead (latest allowed: ${limit})`);
      }
    }
  }
}

/** Validates an owner object in place; shared by the root and every area. */
export function checkOwner(p: Problems, at: string, owner: Owner | undefined): void {
  if (!owner) {
    p.add(at, 'is required: every control needs an accountable owner { name, team, contact }');
    return;
  }
  p.required(`${at}.name`, owner.name);
  p.required(`${at}.team`, owner.team);
  if (p.required(`${at}.contact`, owner.contact) && p.format(`${at}.contact`, upn, owner.contact) && /\.invalid$/i.test(owner.contact)) {
    // The .invalid domain (RFC 2606) never resolves: posture import writes its placeholder owner there.
    p.add(`${at}.contact`, `${owner.contact} is a placeholder (.invalid): replace the placeholder owner written by posture import with an accountable owner`);
  }
}


const exceptionProps = props<ExceptionProps>({
  control: text,
  // The scope types a control accepts are checked per control, with that control's list.
  scope: props<ExceptionProps['scope']>({ type: text, value: text, destinations: texts }).optional(),
  reason: text,
  approvedBy: text,
  expires: text,
  compensatingControl: text,
  ticket: text,
});

export const emailSecurityPostureProps = named('EmailSecurityPosture', props<EmailSecurityPostureProps>({
  organization: props<EmailSecurityPostureProps['organization']>({ name: text, primaryDomain: text, tenantId: text }).optional(),
  breakGlass: props<EmailSecurityPostureProps['breakGlass']>({ users: texts, groups: texts }).optional(),
  ownership: props<EmailSecurityPostureProps['ownership']>({
    owner: ownerProps.optional(),
    mode: oneOf<NonNullable<EmailSecurityPostureProps['ownership']['mode']>>({ report: true, alert: true }).optional(),
  }).optional(),
  exceptions: list(exceptionProps),
  exceptionPolicy: props<NonNullable<EmailSecurityPostureProps['exceptionPolicy']>>({ maxDays: whole }).optional(),
  defaultMode: controlMode.optional(),
  alerts: alertsProps.optional(),
}));
