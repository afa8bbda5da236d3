/**
 * From what import read to the props of the project's constructs: pure. Each value is the tenant's
 * where the catalogue accepts it; where the tenant is below the catalogue's minimum the catalogue's
 * minimum is declared, with a note that the plan will show the gap. Notes are our own words; tenant
 * text in them goes through {@link quoted}.
 */
import { DEFAULT_PRIVILEGED_ROLES } from '../../stacks/lib/roles.js';
import { domainName, upn } from '../manifest/formats.js';
import type { Owner } from '../manifest/schema.js';
import type { LiveState } from '../model/live.js';
import type { DomainDns } from '../read/dns.js';
import { reviewerTarget } from '../resources/admin-consent-request-policy.js';
import { USER_CONSENT_POLICIES } from '../resources/authorization-policy.js';
import { noted, quoted } from './code.js';
import type { ImportRead } from './read.js';

type Obj = Record<string, unknown>;

export interface ImportOptions {
  /** The stack id the generated class is instantiated with. */
  readonly stack: string;
  /** The owner of every control; absent: a placeholder synth refuses. */
  readonly owner?: Owner;
  /** Break-glass accounts confirmed on the command line; absent: the proposal is written as a comment only. */
  readonly breakGlass?: readonly string[];
  /** The organisation's name (not read from the tenant); absent: the primary domain, with a note. */
  readonly organization?: string;
}

/** One construct of the generated stack. */
export interface ImportedArea {
  readonly construct: 'SenderAuthentication' | 'InboundEnforcement' | 'ForwardingLockdown' | 'ConsentGovernance' | 'RiskBasedAccess';
  readonly id: string;
  /** Props besides `owner`, which every area gets. */
  readonly props: Obj;
  readonly notes: readonly string[];
}

export interface ImportedPolicy {
  readonly id: string;
  readonly props: Obj;
  readonly notes: readonly string[];
}

export interface ImportedPosture {
  readonly stack: string;
  readonly organization: { readonly name: string; readonly primaryDomain: string };
  readonly organizationNotes: readonly string[];
  readonly owner?: Owner;
  readonly breakGlass: { readonly users: readonly string[]; readonly proposed: readonly string[]; readonly notes: readonly string[] };
  readonly areas: readonly ImportedArea[];
  /** Conditional access policies added to RiskBasedAccess with `addPolicy`. */
  readonly policies: readonly ImportedPolicy[];
  /** Conditional access policies not imported, each with why: listed in a comment. */
  readonly notImported: readonly string[];
  /** Warnings for the person running import (stderr), our words with tenant text quoted. */
  readonly warnings: readonly string[];
}

const rows = (s: { ok: boolean; value?: unknown } | undefined): Obj[] => (s?.ok && Array.isArray(s.value) ? (s.value as Obj[]) : []);
const lower = (v: unknown) => String(v ?? '').toLowerCase();
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
const STRENGTH = { none: 0, quarantine: 1, reject: 2 } as const;
const GAP = 'the plan will show the gap';

/** Looks users and groups up by object id, as the tenant's directory holds them. */
class Names {
  private readonly users = new Map<string, string>();
  private readonly groups = new Map<string, string>();
  constructor(live: LiveState) {
    for (const u of rows(live.users)) if (u['userPrincipalName']) this.users.set(lower(u['id']), lower(u['userPrincipalName']));
    for (const g of rows(live.groups)) if (g['displayName']) this.groups.set(lower(g['id']), String(g['displayName']));
  }
  user = (id: string) => this.users.get(id.toLowerCase());
  group = (id: string) => this.groups.get(id.toLowerCase());
}

export function derivePosture(read: ImportRead, o: ImportOptions): ImportedPosture {
  const { live } = read;
  const names = new Names(live);
  const warnings: string[] = [];

  const verified = rows(live.domains);
  const primary = lower(verified.find((d) => d['isDefault'] === true)?.['id']) || read.domains[0] || lower(verified[0]?.['id']);
  const organizationNotes = o.organization ? [] : ['The organisation\'s name is not read from the tenant: the primary domain stands in for it; change it to the name people use.'];

  const ca = conditionalAccess(live, names, o, warnings);
  const areas: ImportedArea[] = [
    senderAuthentication(read, live, primary),
    inboundEnforcement(live),
    forwarding(live),
    consent(live, names),
    ca.area,
  ];
  return {
    stack: o.stack,
    organization: { name: o.organization ?? primary, primaryDomain: primary },
    organizationNotes,
    ...(o.owner ? { owner: o.owner } : {}),
    breakGlass: ca.breakGlass,
    areas,
    policies: ca.policies,
    notImported: ca.notImported,
    warnings,
  };
}

// ---------------------------------------------------------------- sender authentication

function senderAuthentication(read: ImportRead, live: LiveState, primary: string): ImportedArea {
  const dkim = new Map(rows(live.dkim).map((c) => [lower(c['Domain'] ?? c['Identity']), c]));
  // The primary domain first, then the others by name.
  const names = [...read.domains].sort((a, b) => Number(b === primary) - Number(a === primary) || a.localeCompare(b));
  const domains = names.map((name) => domainProps(name, read.dns.get(name)!, dkim.get(name)));
  // One list of report addresses shared by every domain that names any is declared once, for the
  // area; a domain that names none gets it too (said in a note), rather than a value synth refuses.
  const named = domains.filter((d) => (d['rua'] as string[]).length > 0);
  const lists = new Set(named.map((d) => JSON.stringify(d['rua'])));
  const reportAddresses = lists.size === 1 ? (named[0]!['rua'] as string[]) : undefined;
  if (reportAddresses) {
    for (const d of domains) {
      const none = (d['rua'] as string[]).length === 0;
      delete d['rua'];
      if (none) noted(d, ['The domain names no address for aggregate reports: the addresses the other domains use are declared for it.']);
    }
  }
  return {
    construct: 'SenderAuthentication',
    id: 'SenderAuthentication',
    props: { ...(reportAddresses ? { reportAddresses } : {}), domains },
    notes: domains.length ? [] : ['The tenant has no domain whose DNS the organisation publishes; declare at least one (synth refuses none).'],
  };
}

function domainProps(name: string, dns: DomainDns, dkimConfig: Obj | undefined): Obj {
  const notes: string[] = [];
  const propNotes: Record<string, string[]> = {};
  const out: Obj = { name };
  const spfRecord = dns.spf.record?.trim();
  const parked = /^v=spf1\s+-all$/i.test(spfRecord ?? '');
  if (parked) out['sending'] = false;

  const rec = dns.dmarc.source === 'domain' ? dns.dmarc.record : undefined;
  if (!rec) {
    notes.push(
      dns.dmarc.recordText || dns.dmarc.recordTexts
        ? `The domain's DMARC record is not usable as published; the catalogue minimum (p=reject) is declared and ${GAP}.`
        : dns.dmarc.source !== 'none'
          ? `The domain publishes no DMARC record of its own (one is inherited from ${quoted(dns.dmarc.recordDomain ?? '')}); p=reject is declared and ${GAP}.`
          : `The domain publishes no DMARC record; the catalogue minimum (p=reject) is declared and ${GAP}.`,
    );
    out['rua'] = [];
    propNotes['rua'] = ['TODO: the mailto: address that receives aggregate reports (synth refuses none).'];
  } else {
    let policy = rec.p;
    if (rec.policyFallback || policy === 'none') {
      notes.push(`Published at p=none (monitoring only), below the catalogue minimum: p=reject is declared and ${GAP}.`);
      policy = 'reject';
    }
    if (policy === 'quarantine') {
      out['policy'] = 'quarantine';
      propNotes['policy'] = ['Published at p=quarantine: declaring it keeps it; raise it to reject when the domain\'s mail aligns.'];
    }
    // Unpublished, sp follows p: the declared one.
    const sp = rec.sp ?? policy;
    if (sp !== policy) {
      if (STRENGTH[sp] < STRENGTH[policy] && STRENGTH[sp] < STRENGTH.quarantine) notes.push(`The subdomain policy is published as sp=${sp}, below the catalogue minimum; sp=${policy} is declared and ${GAP}.`);
      else out['subdomainPolicy'] = sp;
    }
    const effectiveSp = (out['subdomainPolicy'] as keyof typeof STRENGTH | undefined) ?? policy;
    if (rec.np !== undefined && rec.np !== effectiveSp) {
      if (STRENGTH[rec.np] < STRENGTH[effectiveSp] && STRENGTH[rec.np] < STRENGTH.quarantine) notes.push(`Non-existent subdomains are published as np=${rec.np}, below the catalogue minimum; np=${effectiveSp} is declared and ${GAP}.`);
      else out['nonExistentSubdomainPolicy'] = rec.np;
    }
    if (rec.pct < 100) notes.push(`Published with pct=${rec.pct}, which exempts part of the failing mail; pct=100 is declared and ${GAP}.`);
    if (rec.t === 'y') notes.push(`Published in testing mode (t=y); enforcement is declared and ${GAP}.`);
    const rua = rec.rua.filter((u) => u.scheme === 'mailto').map((u) => u.uri);
    out['rua'] = rua;
    if (rua.length === 0) propNotes['rua'] = ['TODO: the domain publishes no mailto: address for aggregate reports; name one (synth refuses none).'];
    const ruf = rec.ruf.filter((u) => u.scheme === 'mailto').map((u) => u.uri);
    if (ruf.length) out['ruf'] = ruf;
    if (rec.adkim === 's' || rec.aspf === 's') out['alignment'] = { ...(rec.adkim === 's' ? { dkim: 'strict' } : {}), ...(rec.aspf === 's' ? { spf: 'strict' } : {}) };
  }

  const all = dns.spf.all;
  if (dns.spf.status === 'missing') notes.push(`The domain publishes no SPF record; "-all" is declared and ${GAP}.`);
  else if (dns.spf.status === 'invalid') notes.push(`The domain's SPF record is not valid as published; "-all" is declared and ${GAP}.`);
  else if (all === '~' && !parked) out['spfAll'] = '~all';
  else if (all !== '-') notes.push(`The SPF record does not end in a fail ("-all"); "-all" is declared and ${GAP}.`);
  const declaredAll = (out['spfAll'] as string | undefined) ?? '-all';
  if (spfRecord && dns.spf.status !== 'invalid' && spfRecord.toLowerCase().endsWith(` ${declaredAll}`) && spfRecord.length <= 450) {
    out['spfRecord'] = spfRecord;
  }

  if (!parked && dkimConfig?.['Enabled'] !== true) notes.push(`Exchange Online does not DKIM-sign for the domain; signing is declared and ${GAP}.`);
  return noted(out, notes, propNotes);
}

// ---------------------------------------------------------------- inbound

function inboundEnforcement(live: LiveState): ImportedArea {
  const policy = rows(live.antiPhish).find((p) => p['IsDefault'] === true);
  const notes: string[] = [];
  const props: Obj = {};
  if (!policy) notes.push(`No default anti-phishing policy was found; the catalogue's actions are declared and ${GAP}.`);
  else {
    if (policy['HonorDmarcPolicy'] !== true) notes.push(`The default anti-phishing policy does not honour senders' DMARC policies; honouring them is declared and ${GAP}.`);
    const reject = String(policy['DmarcRejectAction'] ?? '');
    if (reject === 'Quarantine') props['dmarcRejectAction'] = 'Quarantine';
    else if (reject !== 'Reject') notes.push(`Mail failing DMARC under p=reject is handled as ${quoted(reject)}; Reject is declared and ${GAP}.`);
    const quarantine = String(policy['DmarcQuarantineAction'] ?? '');
    if (quarantine === 'MoveToJmf') props['dmarcQuarantineAction'] = 'MoveToJmf';
    else if (quarantine !== 'Quarantine') notes.push(`Mail failing DMARC under p=quarantine is handled as ${quoted(quarantine)}; Quarantine is declared and ${GAP}.`);
  }
  notes.push('Transport rules and allow lists that bypass filtering (MAIL.INBOUND.2, .3) are not imported: keep one only with an approved exception.');
  return { construct: 'InboundEnforcement', id: 'InboundEnforcement', props, notes };
}

// ---------------------------------------------------------------- forwarding

function forwarding(live: LiveState): ImportedArea {
  const notes: string[] = [];
  const allowed: string[] = [];
  for (const r of rows(live.remoteDomains)) {
    if (r['AutoForwardEnabled'] !== true) continue;
    const name = lower(r['DomainName']);
    if (name === '*') notes.push(`The default remote domain ("*") allows automatic forwarding to every domain; that is not declared and ${GAP}.`);
    else if (domainName.safeParse(name).success) allowed.push(name);
    else notes.push(`The remote domain ${quoted(name)} allows automatic forwarding but is no single domain; it is not declared and ${GAP}.`);
  }
  for (const p of rows(live.outboundSpam)) {
    if (String(p['AutoForwardingMode'] ?? '') !== 'Off') notes.push(`The outbound spam policy ${quoted(String(p['Name'] ?? p['Identity'] ?? ''))} allows automatic forwarding (${quoted(String(p['AutoForwardingMode'] ?? ''))}); Off is declared and ${GAP}.`);
  }
  notes.push('Mailboxes and inbox rules that forward out (MAIL.FWD.3, .4) need an approved exception each; the plan lists them.');
  const props: Obj = {};
  if (allowed.length) props['allowedRemoteDomains'] = noted([...new Set(allowed)].sort(), ['Partner domains whose remote-domain entry allows automatic forwarding in the tenant: confirm each is still needed.']);
  return { construct: 'ForwardingLockdown', id: 'ForwardingLockdown', props, notes };
}

// ---------------------------------------------------------------- consent

function consent(live: LiveState, names: Names): ImportedArea {
  const notes: string[] = [];
  const props: Obj = {};
  const authz = live.authorizationPolicy?.ok ? (live.authorizationPolicy.value as Obj) : {};
  const assigned = strings(authz['permissionGrantPolicyIdsAssignedToDefaultUserRole']);
  const self = assigned.filter((a) => /^ManagePermissionGrantsForSelf\./i.test(a)).map((a) => a.toLowerCase()).sort();
  const low = USER_CONSENT_POLICIES.lowRiskVerifiedPublishers.map((a) => a.toLowerCase());
  if (self.length && JSON.stringify(self) === JSON.stringify(low)) props['userConsent'] = 'lowRiskVerifiedPublishers';
  else if (self.length) notes.push(`Users may consent apps by themselves beyond low-risk permissions of verified publishers; no user consent is declared and ${GAP}.`);
  if ((authz['defaultUserRolePermissions'] as Obj | undefined)?.['allowedToCreateApps'] === true) notes.push(`Any user can register applications; admin-only registration is declared and ${GAP}.`);

  const acrp = live.adminConsentRequestPolicy?.ok ? (live.adminConsentRequestPolicy.value as Obj) : {};
  const reviewers: Obj[] = [];
  for (const r of (acrp['reviewers'] as Obj[] | undefined) ?? []) {
    const t = reviewerTarget(String(r['query'] ?? ''));
    const name = t?.kind === 'users' ? names.user(t.id) : t ? names.group(t.id) : undefined;
    if (t && name) reviewers.push(t.kind === 'users' ? { user: name } : { group: name });
    else notes.push(`A reviewer of the admin consent workflow (${quoted(String(r['query'] ?? ''))}) is no user or group of the directory; it is not declared and ${GAP}.`);
  }
  const workflow: Obj = { reviewers: reviewers.length ? reviewers : noted([], ['TODO: name who reviews admin consent requests: { user: "UPN" } or { group: "display name" } (synth refuses none).']) };
  if (acrp['isEnabled'] !== true) notes.push(`The admin consent workflow is off; it is declared on and ${GAP}.`);
  if (acrp['notifyReviewers'] === false) workflow['notifyReviewers'] = false;
  if (acrp['remindersEnabled'] === false) workflow['remindersEnabled'] = false;
  const days = acrp['requestDurationInDays'];
  if (typeof days === 'number' && Number.isInteger(days) && days >= 1 && days <= 30) {
    if (days !== 30) workflow['requestDurationInDays'] = days;
  } else if (days !== undefined && days !== null) notes.push(`Requests expire after ${quoted(String(days))} days, outside 1 to 30; 30 is declared and ${GAP}.`);
  props['adminConsentWorkflow'] = workflow;
  return { construct: 'ConsentGovernance', id: 'ConsentGovernance', props, notes };
}

// ---------------------------------------------------------------- conditional access

type Key = 'user-risk' | 'sign-in-risk' | 'privileged-user-risk' | 'legacy-authentication';
const KEYS: readonly Key[] = ['user-risk', 'sign-in-risk', 'privileged-user-risk', 'legacy-authentication'];
const RISK_LEVELS = ['low', 'medium', 'high'];
const GRANTS = ['block', 'mfa', 'passwordChange', 'compliantDevice', 'domainJoinedDevice', 'approvedApplication', 'compliantApplication'];
const SPECIAL_USERS = ['All', 'None', 'GuestsOrExternalUsers'];

const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');

interface Shape {
  readonly p: Obj;
  readonly users: Obj;
  readonly includeUsers: string[];
  readonly includeRoles: string[];
  readonly userRisk: string[];
  readonly signInRisk: string[];
  readonly clientAppTypes: string[];
  readonly grants: string[];
  readonly operator: string;
  readonly strength?: string;
  readonly frequency?: Obj;
  /** Why the policy cannot be declared through the constructs; empty when it can. */
  readonly unsupported: string[];
}

/** What a live policy holds, and what of it the constructs cannot declare. */
function shape(p: Obj): Shape {
  const c = (p['conditions'] as Obj | undefined) ?? {};
  const users = (c['users'] as Obj | undefined) ?? {};
  const apps = (c['applications'] as Obj | undefined) ?? {};
  const grant = (p['grantControls'] as Obj | null | undefined) ?? null;
  const session = (p['sessionControls'] as Obj | null | undefined) ?? null;
  const unsupported: string[] = [];
  for (const k of ['platforms', 'locations', 'devices', 'clientApplications', 'authenticationFlows', 'insiderRiskLevels']) if (c[k] !== null && c[k] !== undefined) unsupported.push(`a ${k} condition`);
  if (strings(c['servicePrincipalRiskLevels']).length) unsupported.push('a service principal risk condition');
  if (strings(apps['includeUserActions']).length || strings(apps['includeAuthenticationContextClassReferences']).length || (apps['applicationFilter'] ?? null) !== null) unsupported.push('user actions, authentication contexts or an application filter');
  if ((users['includeGuestsOrExternalUsers'] ?? null) !== null || (users['excludeGuestsOrExternalUsers'] ?? null) !== null) unsupported.push('guest or external user types');
  const userRisk = strings(c['userRiskLevels']);
  const signInRisk = strings(c['signInRiskLevels']);
  if ([...userRisk, ...signInRisk].some((l) => !RISK_LEVELS.includes(l))) unsupported.push('a risk level the constructs do not declare');
  const grants = strings(grant?.['builtInControls']);
  if (grants.some((g) => !GRANTS.includes(g))) unsupported.push('a grant control the constructs do not declare');
  if (strings(grant?.['customAuthenticationFactors']).length || strings(grant?.['termsOfUse']).length) unsupported.push('custom authentication factors or terms of use');
  const strengthId = (grant?.['authenticationStrength'] as Obj | null | undefined)?.['id'];
  let frequency: Obj | undefined;
  for (const [k, v] of Object.entries(session ?? {})) {
    if (v === null || v === undefined || v === false || k === 'disableResilienceDefaults') continue;
    if (k !== 'signInFrequency') unsupported.push(`the session control ${k}`);
    else if ((v as Obj)['isEnabled'] === true) frequency = v as Obj;
  }
  if (frequency && frequency['authenticationType'] !== 'primaryAndSecondaryAuthentication') unsupported.push('a sign-in frequency for secondary authentication only');
  if (session && session['disableResilienceDefaults'] === true) unsupported.push('resilience defaults turned off');
  return {
    p, users, unsupported,
    includeUsers: strings(users['includeUsers']),
    includeRoles: strings(users['includeRoles']),
    userRisk, signInRisk,
    clientAppTypes: strings(c['clientAppTypes']),
    grants,
    operator: String(grant?.['operator'] ?? 'OR'),
    ...(typeof strengthId === 'string' ? { strength: strengthId } : {}),
    ...(frequency ? { frequency } : {}),
  };
}

const allApps = (s: Shape) => {
  const apps = (((s.p['conditions'] as Obj | undefined)?.['applications']) as Obj | undefined) ?? {};
  return same(strings(apps['includeApplications']), ['All']) && strings(apps['excludeApplications']).length === 0;
};
const everyTime = (s: Shape) => s.frequency?.['frequencyInterval'] === 'everyTime';
const noOtherUsers = (s: Shape) => strings(s.users['includeGroups']).length === 0 && strings(s.users['excludeRoles']).length === 0;

/** Which of RiskBasedAccess's four policies a live policy is, with its props; undefined: none. */
function riskPolicy(s: Shape): { key: Key; suffix: (levels: string[]) => string; props: Obj } | undefined {
  if (s.unsupported.length || !allApps(s) || !noOtherUsers(s) || s.strength) return undefined;
  const allUsers = same(s.includeUsers, ['All']) && s.includeRoles.length === 0;
  const allClients = same(s.clientAppTypes, ['all']);
  if (allUsers && allClients && s.userRisk.length && !s.signInRisk.length) {
    if (same(s.grants, ['block']) && !s.frequency) return { key: 'user-risk', suffix: (l) => `User risk ${l.join('+')}: block`, props: { userRisk: { levels: s.userRisk, response: 'block' } } };
    if (same(s.grants, ['mfa', 'passwordChange']) && s.operator === 'AND' && everyTime(s)) return { key: 'user-risk', suffix: (l) => `User risk ${l.join('+')}: MFA and password change`, props: { userRisk: { levels: s.userRisk, response: 'mfaAndPasswordChange' } } };
  }
  if (allUsers && allClients && s.signInRisk.length && !s.userRisk.length) {
    if (same(s.grants, ['block']) && !s.frequency) return { key: 'sign-in-risk', suffix: (l) => `Sign-in risk ${l.join('+')}: block`, props: { signInRisk: { levels: s.signInRisk, response: 'block' } } };
    if (same(s.grants, ['mfa']) && everyTime(s)) return { key: 'sign-in-risk', suffix: (l) => `Sign-in risk ${l.join('+')}: MFA every time`, props: { signInRisk: { levels: s.signInRisk, response: 'mfa' } } };
  }
  if (s.includeUsers.length === 0 && s.includeRoles.length && allClients && s.userRisk.length && !s.signInRisk.length && same(s.grants, ['block']) && !s.frequency) {
    const roles = s.includeRoles.map((r) => r.toLowerCase());
    return {
      key: 'privileged-user-risk',
      suffix: (l) => `Privileged roles, user risk ${l.join('+')}: block`,
      props: { privileged: { ...(same(roles, DEFAULT_PRIVILEGED_ROLES) ? {} : { roles }), userRiskLevels: s.userRisk } },
    };
  }
  if (allUsers && same(s.clientAppTypes, ['exchangeActiveSync', 'other']) && !s.userRisk.length && !s.signInRisk.length && same(s.grants, ['block']) && !s.frequency) {
    return { key: 'legacy-authentication', suffix: () => 'Block legacy authentication', props: {} };
  }
  return undefined;
}

const levelsOf = (key: Key, s: Shape) => (key === 'sign-in-risk' ? s.signInRisk : key === 'legacy-authentication' ? [] : s.userRisk);

function conditionalAccess(live: LiveState, names: Names, o: ImportOptions, warnings: string[]) {
  const policies = rows(live.caPolicies).slice().sort((a, b) => String(a['displayName']).localeCompare(String(b['displayName'])) || String(a['id']).localeCompare(String(b['id'])));
  const shapes = policies.map(shape);

  // Break-glass: the users every enabled policy excludes.
  const enabled = shapes.filter((s) => s.p['state'] === 'enabled');
  const excludedBy = (s: Shape) => new Set(strings(s.users['excludeUsers']).map((id) => id.toLowerCase()));
  let shared: Set<string> | undefined;
  for (const s of enabled) shared = shared ? new Set([...shared].filter((id) => excludedBy(s).has(id))) : excludedBy(s);
  const proposed = [...(shared ?? [])].map((id) => names.user(id)).filter((u): u is string => Boolean(u)).sort();
  const confirmed = (o.breakGlass ?? []).map((u) => u.toLowerCase());
  for (const u of confirmed) if (!proposed.includes(u)) warnings.push(`break-glass account ${quoted(u)} is not excluded by every enabled conditional access policy; the plan will show each policy that catches it`);
  const breakGlassNotes = confirmed.length
    ? []
    : [
        'TODO: confirm the break-glass accounts (run posture import again with --break-glass, or list them here). Synth refuses a posture without one.',
        proposed.length
          ? `Every enabled conditional access policy excludes: ${proposed.map(quoted).join(', ')}.`
          : 'No account is excluded by every enabled conditional access policy.',
      ];
  const breakGlass = new Set(confirmed.length ? confirmed : proposed);

  // The four policies RiskBasedAccess declares, matched by shape and by the names it gives them.
  const matched = new Map<Key, { s: Shape; props: Obj; prefix: string }>();
  const notImported: string[] = [];
  const rest: Shape[] = [];
  for (const s of shapes) {
    const r = s.p['state'] === 'disabled' ? undefined : riskPolicy(s);
    const name = String(s.p['displayName'] ?? '');
    const suffix = r ? ` - ${r.suffix(levelsOf(r.key, s))}` : '';
    if (r && !matched.has(r.key) && name.endsWith(suffix) && name.length > suffix.length) matched.set(r.key, { s, props: r.props, prefix: name.slice(0, -suffix.length) });
    else rest.push(s);
  }
  const prefixes = new Set([...matched.values()].map((m) => m.prefix));
  const prefix = prefixes.size === 1 ? [...prefixes][0]! : 'EP';
  for (const [key, m] of [...matched]) {
    if (m.prefix !== prefix) {
      matched.delete(key);
      rest.push(m.s);
    }
  }

  const props: Obj = {};
  const notes: string[] = [];
  const propNotes: Record<string, string[]> = {};
  if (prefix !== 'EP') props['namePrefix'] = prefix;
  for (const m of matched.values()) Object.assign(props, m.props);
  const staged = KEYS.filter((k) => matched.get(k)?.s.p['state'] === 'enabledForReportingButNotEnforced');
  if (staged.length) {
    props['staged'] = staged;
    propNotes['staged'] = ['Report-only in the tenant: drop a key when its sign-in impact has been reviewed.'];
  }
  for (const k of KEYS) if (!matched.has(k)) notes.push(`No policy of the tenant is the ${k} policy as RiskBasedAccess declares it; the posture declares it and the plan will show it missing.`);

  // Exclusions beyond break-glass shared by the four policies: declared once; others per policy.
  const extras = (s: Shape) => strings(s.users['excludeUsers']).map((id) => names.user(id) ?? id).filter((u) => !breakGlass.has(u));
  const extraGroups = (s: Shape) => strings(s.users['excludeGroups']).map((id) => names.group(id) ?? id);
  const matchedShapes = [...matched.values()].map((m) => m.s);
  const users = matchedShapes.length ? matchedShapes.map(extras).reduce((a, b) => a.filter((x) => b.includes(x))) : [];
  const groups = matchedShapes.length ? matchedShapes.map(extraGroups).reduce((a, b) => a.filter((x) => b.includes(x))) : [];
  const unresolved = [...users, ...groups].filter((x) => !upn.safeParse(x).success && /^[0-9a-f-]{36}$/i.test(x));
  if (unresolved.length) notes.push(`Exclusions that are no user or group of the directory are not declared: ${unresolved.map(quoted).join(', ')}.`);
  const goodUsers = users.filter((u) => upn.safeParse(u).success);
  const goodGroups = groups.filter((g) => !unresolved.includes(g));
  if (goodUsers.length || goodGroups.length) {
    props['exclusions'] = noted({ ...(goodUsers.length ? { users: goodUsers } : {}), ...(goodGroups.length ? { groups: goodGroups } : {}) }, ['Excluded by the tenant\'s risk policies besides the break-glass accounts: prefer an exception with an expiry.']);
  }
  for (const m of matched.values()) {
    const more = extras(m.s).filter((u) => !goodUsers.includes(u)).length + extraGroups(m.s).filter((g) => !goodGroups.includes(g)).length;
    if (more) notes.push(`The policy ${quoted(String(m.s.p['displayName']))} excludes more than the others; those exclusions are not declared and ${GAP}.`);
  }

  // The rest: through addPolicy where the constructs can say all of it, otherwise listed.
  const added: ImportedPolicy[] = [];
  const keys = new Set<string>(KEYS);
  const ids = new Set<string>(['UserRisk', 'SignInRisk', 'PrivilegedUserRisk', 'LegacyAuthentication']);
  for (const s of rest) {
    const name = String(s.p['displayName'] ?? '');
    const why = policyProps(s, names, breakGlass);
    if (typeof why === 'string') {
      notImported.push(`${quoted(name)}: ${why}`);
      continue;
    }
    let key = name.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60).replace(/-+$/, '') || 'policy';
    for (let n = 2; keys.has(key); n++) key = `${key.replace(/-\d+$/, '')}-${n}`;
    keys.add(key);
    let id = key.split('-').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
    if (!/^[A-Za-z]/.test(id)) id = `Policy${id}`;
    for (let n = 2; ids.has(id); n++) id = `${id.replace(/\d+$/, '')}${n}`;
    ids.add(id);
    added.push({ id, props: { key, ...why }, notes: [] });
  }

  return {
    area: { construct: 'RiskBasedAccess' as const, id: 'RiskBasedAccess', props: noted(props, [], propNotes), notes },
    breakGlass: { users: confirmed, proposed, notes: breakGlassNotes },
    policies: added,
    notImported,
  };
}

/** The catalogue control a policy of the tenant implements, from what it targets. */
function controlOf(s: Shape): string | undefined {
  if (s.includeRoles.length) return 'ID.CA.3';
  if (s.userRisk.length) return 'ID.CA.1';
  if (s.signInRisk.length) return 'ID.CA.2';
  if (same(s.clientAppTypes, ['exchangeActiveSync', 'other'])) return 'ID.CA.4';
  return undefined;
}

/** The props of `addPolicy` for a live policy, or why it is not imported. */
function policyProps(s: Shape, names: Names, breakGlass: ReadonlySet<string>): Obj | string {
  if (s.unsupported.length) return `it has ${s.unsupported.join(', ')}, which the constructs do not declare`;
  const state = String(s.p['state'] ?? '');
  if (!['enabled', 'disabled', 'enabledForReportingButNotEnforced'].includes(state)) return 'its state is not one the constructs declare';
  const control = controlOf(s);
  if (!control) return 'it targets no risk, role or legacy client the conditional access controls govern';
  const userList = (key: string): string[] | string => {
    const out: string[] = [];
    for (const id of strings(s.users[key])) {
      if (SPECIAL_USERS.includes(id)) out.push(id);
      else {
        const u = names.user(id);
        if (!u) return `it names a user that is not in the directory (${key})`;
        out.push(u);
      }
    }
    return out;
  };
  const groupList = (key: string): string[] | string => {
    const out: string[] = [];
    for (const id of strings(s.users[key])) {
      const g = names.group(id);
      if (!g) return `it names a group that is not in the directory (${key})`;
      out.push(g);
    }
    return out;
  };
  const include = userList('includeUsers');
  const exclude = userList('excludeUsers');
  const includeGroups = groupList('includeGroups');
  const excludeGroups = groupList('excludeGroups');
  for (const v of [include, exclude, includeGroups, excludeGroups]) if (typeof v === 'string') return v;
  const excluded = exclude as string[];
  if (state !== 'disabled' && [...breakGlass].some((b) => !excluded.includes(b))) return 'it does not exclude every break-glass account (declaring it would fail synth; the plan shows it)';
  const apps = (((s.p['conditions'] as Obj | undefined)?.['applications']) as Obj | undefined) ?? {};
  const includeApps = strings(apps['includeApplications']);
  const excludeApps = strings(apps['excludeApplications']);
  const users: Obj = { include };
  if (excluded.length) users['exclude'] = excluded;
  if ((includeGroups as string[]).length) users['includeGroups'] = includeGroups;
  if ((excludeGroups as string[]).length) users['excludeGroups'] = excludeGroups;
  if (s.includeRoles.length) users['includeRoles'] = s.includeRoles.map((r) => r.toLowerCase());
  const excludeRoles = strings(s.users['excludeRoles']);
  if (excludeRoles.length) users['excludeRoles'] = excludeRoles.map((r) => r.toLowerCase());
  const out: Obj = { control, displayName: String(s.p['displayName'] ?? '') };
  if (state !== 'enabled') out['state'] = state;
  out['users'] = users;
  if (!same(includeApps, ['All']) || excludeApps.length) out['applications'] = { include: includeApps, ...(excludeApps.length ? { exclude: excludeApps } : {}) };
  if (!same(s.clientAppTypes, ['all'])) out['clientAppTypes'] = s.clientAppTypes;
  if (s.userRisk.length) out['userRiskLevels'] = s.userRisk;
  if (s.signInRisk.length) out['signInRiskLevels'] = s.signInRisk;
  if (s.grants.length) out['grant'] = { ...(s.operator === 'AND' ? { operator: 'AND' } : {}), controls: s.grants };
  if (s.strength) out['authenticationStrength'] = s.strength.toLowerCase();
  if (s.frequency) {
    if (s.frequency['frequencyInterval'] === 'everyTime') out['signInFrequency'] = 'everyTime';
    else if (typeof s.frequency['value'] === 'number' && ['hours', 'days'].includes(String(s.frequency['type']))) out['signInFrequency'] = { value: s.frequency['value'], type: s.frequency['type'] };
    else return 'its sign-in frequency is not one the constructs declare';
  }
  return out;
}
