/**
 * From what import read to the props of the project's constructs: pure. Each value is the tenant's
 * where the catalogue accepts it; where the tenant is below the catalogue's minimum the catalogue's
 * minimum is declared, with a note that the plan will show the gap. Notes are our own words; tenant
 * text in them goes through {@link quoted}.
 */
import { DEFAULT_MAX_SECRET_AGE_DAYS, MAIL_APP_PERMISSIONS, MICROSOFT_TENANT_IDS } from '../../policies/catalogue.js';
import { WEAK_METHODS } from '../../policies/catalogue/authentication.js';
import { DEFAULT_PRIVILEGED_ROLES } from '../../stacks/lib/roles.js';
import { COMMON_ATTACHMENT_TYPES, threatProtectionDesiredState, type ThreatDesiredProps } from '../../stacks/lib/threat-links.js';
import { membershipOf, recipientOfMailbox, resolver, type ProtectionKind } from '../checks/effective-policy.js';
import { isMailAppPermission, mailRoles } from '../checks/mail-app-permissions.js';
import { domainName, upn } from '../manifest/formats.js';
import type { Manifest, Owner } from '../manifest/schema.js';
import type { GroupMemberships, LiveState } from '../model/live.js';
import type { DomainDns } from '../read/dns.js';
import { reviewerTarget } from '../resources/admin-consent-request-policy.js';
import { methodConfigurations } from '../resources/authentication-methods-policy.js';
import { USER_CONSENT_POLICIES } from '../resources/authorization-policy.js';
import { inboundPaths } from '../checks/inbound-paths.js';
import { DEFAULT_PATH_REQUIREMENT, FAILURE_KINDS, weaker, type FailureKind } from '../model/paths.js';
import type { ExceptionScopeType } from '../../policies/types.js';
import { CATALOGUE } from '../../policies/catalogue.js';
import { internalDomains } from '../checks/forwarding.js';
import { Recipients } from '../checks/recipients.js';
import { literal, noted, quoted, Raw } from './code.js';
import { readManifest, type ImportRead } from './read.js';
import { evaluate } from '../evaluate/index.js';

type Obj = Record<string, unknown>;

export interface ImportOptions {
  /** The stack id the generated class is instantiated with. */
  readonly stack: string;
  /** The owner of every control; absent: a placeholder synth refuses. */
  readonly owner?: Owner;
  /** The owner of the mail areas (sender authentication, inbound, forwarding, threat protection, exposure); absent: `owner`. */
  readonly mailOwner?: Owner;
  /** The owner of the identity areas (consent, conditional access, authentication strength, mail applications); absent: `owner`. */
  readonly identityOwner?: Owner;
  /** Break-glass accounts confirmed on the command line; absent: the proposal is written as a comment only. */
  readonly breakGlass?: readonly string[];
  /** Groups of emergency-access accounts confirmed on the command line (display names); absent: those every enabled policy excludes are proposed in a comment. */
  readonly breakGlassGroups?: readonly string[];
  /** The organisation's name (not read from the tenant); absent: the primary domain, with a note. */
  readonly organization?: string;
  /**
   * Find the gaps the catalogue's own checks judge (filtering bypasses, threat-protection settings,
   * SMTP AUTH) as of this day, YYYY-MM-DD, besides those the import's reading
   * names: what `--accept-gaps` declares as exceptions. @default only the gaps the reading names
   */
  readonly judgeGapsOn?: string;
}

/** One construct of the generated stack. */
export interface ImportedArea {
  readonly construct:
    | 'SenderAuthentication' | 'InboundEnforcement' | 'ForwardingLockdown' | 'ThreatProtection' | 'ExternalExposure'
    | 'ConsentGovernance' | 'RiskBasedAccess' | 'AuthenticationStrength' | 'MailApplications' | 'InboundPaths' | 'IncidentResponse';
  readonly id: string;
  /** Whose area it is: the mail owner's or the identity owner's (each `owner` when not given). */
  readonly group: OwnerGroup;
  /** Props besides `owner`, which every area gets. */
  readonly props: Obj;
  readonly notes: readonly string[];
}

/** Whose areas: the mail owner's, the identity owner's, or (incident response) the owner of every control's. */
export type OwnerGroup = 'mail' | 'identity' | 'all';

/** The variable of the generated stack holding the owner of a group's areas. */
export const ownerVariable = (o: { readonly mailOwner?: Owner; readonly identityOwner?: Owner }, group: OwnerGroup): string =>
  group === 'mail' ? (o.mailOwner ? 'mailOwner' : 'owner') : group === 'identity' && o.identityOwner ? 'identityOwner' : 'owner';

/**
 * Where the tenant is below what the stack declares, as the plan will show it: the control, and the
 * scope an exception to it names. With `acceptGaps` each becomes an exception of the stack, which a
 * person approves (synth refuses the placeholder approver) and which expires.
 */
export interface Gap {
  readonly control: string;
  readonly scope: { readonly type: ExceptionScopeType; readonly value: string; readonly destinations?: readonly string[] };
  /** What the tenant has, in our words (tenant text quoted). */
  readonly reason: string;
}

/** More gaps of one control than this are not excepted one by one: the plan lists them. */
export const MAX_GAPS_PER_CONTROL = 50;

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
  readonly mailOwner?: Owner;
  readonly identityOwner?: Owner;
  readonly breakGlass: {
    readonly users: readonly string[];
    readonly proposed: readonly string[];
    /** Confirmed groups of emergency-access accounts, as the directory names them. */
    readonly groups: readonly string[];
    readonly proposedGroups: readonly string[];
    readonly notes: readonly string[];
  };
  readonly areas: readonly ImportedArea[];
  /** Conditional access policies added to RiskBasedAccess with `addPolicy`. */
  readonly policies: readonly ImportedPolicy[];
  /** Conditional access policies not imported, each with why: listed in a comment. */
  readonly notImported: readonly string[];
  /** Warnings for the person running import (stderr), our words with tenant text quoted. */
  readonly warnings: readonly string[];
  /** What synth refuses until a person fills it in, besides the owner and the break-glass accounts (each a TODO comment of the file). */
  readonly todo: readonly string[];
  /** Where the tenant is below the stack, one per control and scope, in the order found. */
  readonly gaps: readonly Gap[];
  /** Gaps not given as exceptions, by control: too many to except one by one, or the control accepts none. */
  readonly gapsNotExcepted: readonly string[];
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
  hasUser = (upn: string) => [...this.users.values()].includes(upn.toLowerCase());
  group = (id: string) => this.groups.get(id.toLowerCase());
  /** The directory's display names of the groups named `name` (any case): more than one, and the name does not say which group. */
  groupsNamed = (name: string) => [...this.groups.values()].filter((g) => g.toLowerCase() === name.trim().toLowerCase());
}

export function derivePosture(read: ImportRead, o: ImportOptions): ImportedPosture {
  const { live } = read;
  const names = new Names(live);
  const warnings: string[] = [];
  const gaps: Gap[] = [];

  const verified = rows(live.domains);
  const primary = lower(verified.find((d) => d['isDefault'] === true)?.['id']) || read.domains[0] || lower(verified[0]?.['id']);
  const organizationNotes = o.organization ? [] : ['The organisation\'s name is not read from the tenant: the primary domain stands in for it; change it to the name people use.'];

  const ca = conditionalAccess(live, names, o, warnings);
  const apps = mailApplications(live, ownerVariable(o, 'identity'), gaps);
  const areas: ImportedArea[] = [
    senderAuthentication(read, live, primary, gaps),
    inboundEnforcement(live, gaps),
    forwarding(live, gaps),
    threatProtection(live, names),
    externalExposure(live, gaps),
    consent(live, names),
    ca.area,
    authenticationStrength(live),
    ...(apps ? [apps] : []),
    inboundPathsArea(live, ownerVariable(o, 'mail'), gaps),
    incidentResponse(live, names),
  ];
  if (o.judgeGapsOn) gaps.push(...judgedGaps(read, o.judgeGapsOn, areas.find((a) => a.construct === 'ThreatProtection')?.props ?? {}));
  const accepted = acceptable(gaps);
  return {
    stack: o.stack,
    organization: { name: o.organization ?? primary, primaryDomain: primary },
    organizationNotes,
    ...(o.owner ? { owner: o.owner } : {}),
    ...(o.mailOwner ? { mailOwner: o.mailOwner } : {}),
    ...(o.identityOwner ? { identityOwner: o.identityOwner } : {}),
    breakGlass: ca.breakGlass,
    areas,
    policies: ca.policies,
    notImported: ca.notImported,
    warnings,
    todo: ((apps?.props['apps'] ?? []) as Obj[]).some((a) => (a['scope'] as { mailboxes?: unknown[] }).mailboxes?.length === 0) ? ['the mailboxes each mail application may reach'] : [],
    gaps: accepted.gaps,
    gapsNotExcepted: accepted.notExcepted,
  };
}

/**
 * Controls whose gaps the catalogue's checks judge from the catalogue alone, whatever the stack
 * declares: the bypasses of filtering, the settings of the threat policies the catalogue fixes and
 * SMTP AUTH. Their findings against the catalogue minimum are the gaps, each scoped to its policy
 * or rule.
 */
export const JUDGED_GAP_CONTROLS: readonly string[] = ['MAIL.INBOUND.2', 'MAIL.SMTP.1', 'MAIL.THREAT.1', 'MAIL.THREAT.2', 'MAIL.THREAT.3', 'MAIL.THREAT.4', 'MAIL.THREAT.5'];

/**
 * The gaps of {@link JUDGED_GAP_CONTROLS}: the findings of the stack being written against what was
 * read (the read manifest with the threat protection the stack declares: what it relaxes is no
 * gap), each by the first scope its control accepts.
 */
function judgedGaps(read: ImportRead, today: string, threat: Obj): Gap[] {
  const manifest = readManifest(read.domains);
  const judged: Manifest = {
    ...manifest,
    controls: manifest.controls.filter((c) => JUDGED_GAP_CONTROLS.includes(c.id.replace(/v\d+$/, ''))),
    desired: { ...manifest.desired, threatProtection: threatProtectionDesiredState(threat as ThreatDesiredProps) },
  };
  const { findings, scopes } = evaluate(judged, { ...read.live, dns: new Map(read.dns) }, today);
  const out: Gap[] = [];
  for (const f of findings) {
    if (!['violation', 'drift', 'missing'].includes(f.status)) continue;
    const control = CATALOGUE.find((c) => c.id === f.control.id);
    const scope = (scopes.get(f.id) ?? []).find((x) => control?.exceptionScopes.includes(x.type) && x.value);
    // Domains as the formats take them (synth refuses an upper-case domain as malformed, not as unapproved).
    if (scope) out.push({ control: f.control.id, scope: { type: scope.type, value: scope.type === 'domain' ? scope.value.toLowerCase() : scope.value }, reason: ourWords(f.summary) });
  }
  return out;
}

/** A finding's summary as the reason of an exception: its first clause, on one line, shortened. */
const ourWords = (summary: string) => {
  // A threat finding speaks of a population first ("privileged (3 users): …"): the policy is what the exception names.
  const line = summary.replace(/\s+/g, ' ').trim().split(/; |\. /)[0]!.replace(/\.$/, '').replace(/^[^:"]{1,80} \(\d+ users?\): /, '');
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
};

/** One gap per control and scope (reasons joined), and only what an exception can cover: a control that accepts the scope, not too many of one control. */
function acceptable(found: readonly Gap[]): { gaps: Gap[]; notExcepted: string[] } {
  const byKey = new Map<string, Gap>();
  for (const g of found) {
    const key = `${g.control}\u0000${g.scope.type}\u0000${g.scope.value.toLowerCase()}`;
    const had = byKey.get(key);
    byKey.set(key, had ? { ...had, reason: had.reason.includes(g.reason) || had.reason.length > 240 ? had.reason : `${had.reason}; ${g.reason}`, ...(had.scope.destinations || g.scope.destinations ? { scope: { ...had.scope, destinations: [...new Set([...(had.scope.destinations ?? []), ...(g.scope.destinations ?? [])])] } } : {}) } : g);
  }
  const notExcepted: string[] = [];
  const count = new Map<string, number>();
  for (const g of byKey.values()) count.set(g.control, (count.get(g.control) ?? 0) + 1);
  const gaps = [...byKey.values()].filter((g) => {
    const control = CATALOGUE.find((c) => c.id === g.control);
    if (!control?.exceptionScopes.includes(g.scope.type)) return false;
    return (count.get(g.control) ?? 0) <= MAX_GAPS_PER_CONTROL;
  });
  for (const [control, n] of count) if (n > MAX_GAPS_PER_CONTROL) notExcepted.push(`${control}: ${n} gaps, too many to except one by one; the plan lists them`);
  return { gaps, notExcepted };
}

// ---------------------------------------------------------------- sender authentication

function senderAuthentication(read: ImportRead, live: LiveState, primary: string, gaps: Gap[]): ImportedArea {
  const dkim = new Map(rows(live.dkim).map((c) => [lower(c['Domain'] ?? c['Identity']), c]));
  // The primary domain first, then the others by name.
  const names = [...read.domains].sort((a, b) => Number(b === primary) - Number(a === primary) || a.localeCompare(b));
  const domains = names.map((name) => domainProps(name, read.dns.get(name)!, dkim.get(name), gaps));
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
    group: 'mail',
    props: { ...(reportAddresses ? { reportAddresses } : {}), domains },
    notes: domains.length ? [] : ['The tenant has no domain whose DNS the organisation publishes; declare at least one (synth refuses none).'],
  };
}

function domainProps(name: string, dns: DomainDns, dkimConfig: Obj | undefined, gaps: Gap[]): Obj {
  const notes: string[] = [];
  const gap = (control: string, reason: string) => gaps.push({ control, scope: { type: 'domain', value: name }, reason });
  const propNotes: Record<string, string[]> = {};
  const out: Obj = { name };
  const spfRecord = dns.spf.record?.trim();
  const parked = /^v=spf1\s+-all$/i.test(spfRecord ?? '');
  if (parked) out['sending'] = false;

  const rec = dns.dmarc.source === 'domain' ? dns.dmarc.record : undefined;
  // A record inherited from the organisational domain applies, as the check judges it: its policy is the gap, not its absence.
  const inherited = dns.dmarc.source !== 'domain' && dns.dmarc.source !== 'none' && dns.dmarc.record !== undefined;
  if (!rec) {
    const e = dns.dmarcEvaluation;
    if (e.status === 'missing' || e.status === 'invalid') gap('MAIL.DMARC.1', e.status === 'invalid' ? 'its DMARC record is not usable as published' : 'it publishes no DMARC record');
    else if (inherited && (e.status !== 'enforced' || e.policy !== 'reject' || (e.subdomainPolicy ?? e.policy) !== 'reject')) {
      gap('MAIL.DMARC.2', `the DMARC record it inherits from ${quoted(dns.dmarc.recordDomain ?? '')} is weaker than p=reject for all failing mail`);
    }
    notes.push(
      inherited
        ? `The domain publishes no DMARC record of its own (one is inherited from ${quoted(dns.dmarc.recordDomain ?? '')}); p=reject is declared and ${GAP}.`
        : dns.dmarc.recordText || dns.dmarc.recordTexts
          ? `The domain's DMARC record is not usable as published; the catalogue minimum (p=reject) is declared and ${GAP}.`
          : `The domain publishes no DMARC record; the catalogue minimum (p=reject) is declared and ${GAP}.`,
    );
    out['rua'] = [];
    propNotes['rua'] = ['TODO: the mailto: address that receives aggregate reports (synth refuses none).'];
  } else {
    let policy = rec.p;
    if (rec.policyFallback || policy === 'none') {
      notes.push(`Published at p=none (monitoring only), below the catalogue minimum: p=reject is declared and ${GAP}.`);
      gap('MAIL.DMARC.2', 'DMARC is published at p=none');
      policy = 'reject';
    }
    if (policy === 'quarantine') {
      out['policy'] = 'quarantine';
      propNotes['policy'] = ['Published at p=quarantine: declaring it keeps it; raise it to reject when the domain\'s mail aligns.'];
    }
    // Unpublished, sp follows p: the declared one.
    const sp = rec.sp ?? policy;
    if (sp !== policy) {
      if (STRENGTH[sp] < STRENGTH[policy] && STRENGTH[sp] < STRENGTH.quarantine) {
        notes.push(`The subdomain policy is published as sp=${sp}, below the catalogue minimum; sp=${policy} is declared and ${GAP}.`);
        gap('MAIL.DMARC.2', `the subdomain policy is sp=${sp}`);
      }
      else out['subdomainPolicy'] = sp;
    }
    const effectiveSp = (out['subdomainPolicy'] as keyof typeof STRENGTH | undefined) ?? policy;
    if (rec.np !== undefined && rec.np !== effectiveSp) {
      if (STRENGTH[rec.np] < STRENGTH[effectiveSp] && STRENGTH[rec.np] < STRENGTH.quarantine) {
        notes.push(`Non-existent subdomains are published as np=${rec.np}, below the catalogue minimum; np=${effectiveSp} is declared and ${GAP}.`);
        gap('MAIL.DMARC.2', `non-existent subdomains are np=${rec.np}`);
      }
      else out['nonExistentSubdomainPolicy'] = rec.np;
    }
    if (rec.pct < 100) {
      notes.push(`Published with pct=${rec.pct}, which exempts part of the failing mail; pct=100 is declared and ${GAP}.`);
      gap('MAIL.DMARC.2', `DMARC applies to pct=${rec.pct} of failing mail`);
    }
    if (rec.t === 'y') {
      notes.push(`Published in testing mode (t=y); enforcement is declared and ${GAP}.`);
      gap('MAIL.DMARC.2', 'DMARC is in testing mode (t=y)');
    }
    const rua = rec.rua.filter((u) => u.scheme === 'mailto').map((u) => u.uri);
    out['rua'] = rua;
    if (rua.length === 0) propNotes['rua'] = ['TODO: the domain publishes no mailto: address for aggregate reports; name one (synth refuses none).'];
    const ruf = rec.ruf.filter((u) => u.scheme === 'mailto').map((u) => u.uri);
    if (ruf.length) out['ruf'] = ruf;
    if (rec.adkim === 's' || rec.aspf === 's') out['alignment'] = { ...(rec.adkim === 's' ? { dkim: 'strict' } : {}), ...(rec.aspf === 's' ? { spf: 'strict' } : {}) };
  }

  const all = dns.spf.all;
  if (dns.spf.status === 'missing') {
    notes.push(`The domain publishes no SPF record; "-all" is declared and ${GAP}.`);
    gap('MAIL.SPF.1', 'it publishes no SPF record');
  } else if (dns.spf.status === 'invalid') {
    notes.push(`The domain's SPF record is not valid as published; "-all" is declared and ${GAP}.`);
    gap('MAIL.SPF.1', 'its SPF record is not valid');
  } else if (all === '~' && !parked) out['spfAll'] = '~all';
  else if (all !== '-') {
    notes.push(`The SPF record does not end in a fail ("-all"); "-all" is declared and ${GAP}.`);
    gap('MAIL.SPF.1', 'its SPF record does not end in -all');
  }
  const declaredAll = (out['spfAll'] as string | undefined) ?? '-all';
  if (spfRecord && dns.spf.status !== 'invalid' && spfRecord.toLowerCase().endsWith(` ${declaredAll}`) && spfRecord.length <= 450) {
    out['spfRecord'] = spfRecord;
  }

  if (!parked && dkimConfig?.['Enabled'] !== true) {
    notes.push(`Exchange Online does not DKIM-sign for the domain; signing is declared and ${GAP}.`);
    gap('MAIL.DKIM.1', 'Exchange Online does not DKIM-sign for it');
  }
  return noted(out, notes, propNotes);
}

// ---------------------------------------------------------------- inbound

function inboundEnforcement(live: LiveState, gaps: Gap[]): ImportedArea {
  const policy = rows(live.antiPhish).find((p) => p['IsDefault'] === true);
  const notes: string[] = [];
  const props: Obj = {};
  const gap = (reason: string) => policy && gaps.push({ control: 'MAIL.INBOUND.1', scope: { type: 'policy', value: String(policy['Identity'] ?? policy['Name']) }, reason });
  if (!policy) notes.push(`No default anti-phishing policy was found; the catalogue's actions are declared and ${GAP}.`);
  else {
    if (policy['HonorDmarcPolicy'] !== true) {
      notes.push(`The default anti-phishing policy does not honour senders' DMARC policies; honouring them is declared and ${GAP}.`);
      gap("the default anti-phishing policy does not honour senders' DMARC policies");
    }
    const reject = String(policy['DmarcRejectAction'] ?? '');
    if (reject === 'Quarantine') props['dmarcRejectAction'] = 'Quarantine';
    else if (reject !== 'Reject') {
      notes.push(`Mail failing DMARC under p=reject is handled as ${quoted(reject)}; Reject is declared and ${GAP}.`);
      gap(`mail failing DMARC under p=reject is handled as ${quoted(reject)}`);
    }
    const quarantine = String(policy['DmarcQuarantineAction'] ?? '');
    if (quarantine === 'MoveToJmf') props['dmarcQuarantineAction'] = 'MoveToJmf';
    else if (quarantine !== 'Quarantine') {
      notes.push(`Mail failing DMARC under p=quarantine is handled as ${quoted(quarantine)}; Quarantine is declared and ${GAP}.`);
      gap(`mail failing DMARC under p=quarantine is handled as ${quoted(quarantine)}`);
    }
  }
  notes.push('Transport rules and allow lists that bypass filtering (MAIL.INBOUND.2, .3) are not imported: keep one only with an approved exception.');
  // The connection filter's allow list entry by entry (an exception to the policy as a whole would let any later entry in too).
  for (const p of rows(live.connectionFilter)) {
    const name = String(p['Identity'] ?? p['Name']);
    for (const entry of strings(p['IPAllowList'])) gaps.push({ control: 'MAIL.INBOUND.3', scope: { type: 'policy', value: `${name}/${entry}` }, reason: `the connection filter allow-lists ${entry}: its mail skips spam filtering` });
    if (p['EnableSafeList'] === true) gaps.push({ control: 'MAIL.INBOUND.3', scope: { type: 'policy', value: `${name}/EnableSafeList` }, reason: "the connection filter's safe list is on: mail from the sources Microsoft lists skips spam filtering" });
  }
  return { construct: 'InboundEnforcement', id: 'InboundEnforcement', group: 'mail', props, notes };
}

// ---------------------------------------------------------------- forwarding

function forwarding(live: LiveState, gaps: Gap[]): ImportedArea {
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
    if (String(p['AutoForwardingMode'] ?? '') !== 'Off') {
      notes.push(`The outbound spam policy ${quoted(String(p['Name'] ?? p['Identity'] ?? ''))} allows automatic forwarding (${quoted(String(p['AutoForwardingMode'] ?? ''))}); Off is declared and ${GAP}.`);
      gaps.push({ control: 'MAIL.FWD.1', scope: { type: 'policy', value: String(p['Identity'] ?? p['Name']) }, reason: `the outbound spam policy allows automatic forwarding (${quoted(String(p['AutoForwardingMode'] ?? ''))})` });
    }
  }
  // Mailboxes that forward out, resolved as the plan resolves them; each excepted only to where it forwards now.
  const to = new Recipients(internalDomains(rows(live.acceptedDomains)), { mailboxes: rows(live.mailboxes), mailUsers: rows(live.mailUsers), mailContacts: rows(live.mailContacts), groups: rows(live.groups) });
  for (const m of rows(live.mailboxes)) {
    const targets = [m['ForwardingSmtpAddress'], m['ForwardingAddress']].filter((x): x is string => typeof x === 'string' && x.length > 0);
    if (!targets.length) continue;
    const { external } = to.classify(targets);
    const upn = lower(m['UserPrincipalName'] ?? m['PrimarySmtpAddress']);
    if (external.length && /^[^@\s]+@[^@\s]+$/.test(upn)) {
      gaps.push({ control: 'MAIL.FWD.3', scope: { type: 'user', value: upn, destinations: external.map((d) => d.address) }, reason: `the mailbox forwards all mail to ${external.map((d) => quoted(d.address)).join(', ')}` });
    }
  }
  notes.push('Mailboxes and inbox rules that forward out (MAIL.FWD.3, .4) need an approved exception each; the plan lists them.');
  const props: Obj = {};
  if (allowed.length) props['allowedRemoteDomains'] = noted([...new Set(allowed)].sort(), ['Partner domains whose remote-domain entry allows automatic forwarding in the tenant: confirm each is still needed.']);
  return { construct: 'ForwardingLockdown', id: 'ForwardingLockdown', group: 'mail', props, notes };
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
  return { construct: 'ConsentGovernance', id: 'ConsentGovernance', group: 'identity', props, notes };
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
  const breakGlassNotes: string[] = confirmed.length
    ? []
    : [
        'TODO: confirm the break-glass accounts (run posture import again with --break-glass, or list them here). Synth refuses a posture without one.',
        proposed.length
          ? `Every enabled conditional access policy excludes: ${proposed.map(quoted).join(', ')}.`
          : 'No account is excluded by every enabled conditional access policy.',
      ];
  const breakGlass = new Set(confirmed.length ? confirmed : proposed);

  // Break-glass groups: the groups every enabled policy excludes, declared when confirmed.
  const excludedGroupsBy = (s: Shape) => new Set(strings(s.users['excludeGroups']).map((id) => id.toLowerCase()));
  let sharedGroups: Set<string> | undefined;
  for (const s of enabled) sharedGroups = sharedGroups ? new Set([...sharedGroups].filter((id) => excludedGroupsBy(s).has(id))) : excludedGroupsBy(s);
  // A group is named by its display name, which another group may share: such a name is never proposed or declared.
  const sharedNames = [...(sharedGroups ?? [])].map((id) => names.group(id)).filter((g): g is string => Boolean(g));
  const proposedGroups = sharedNames.filter((g) => names.groupsNamed(g).length === 1).sort();
  const confirmedGroups: string[] = [];
  for (const g of o.breakGlassGroups ?? []) {
    const found = names.groupsNamed(g);
    if (found.length === 0) warnings.push(`break-glass group ${quoted(g)} is no group of the directory; it is not declared`);
    else if (found.length > 1) warnings.push(`break-glass group ${quoted(g)} is the name of ${found.length} groups of the directory, so it does not say which; it is not declared`);
    // Declared, it would be excluded from every policy the posture declares: only a group every enabled policy already excludes is.
    else if (!proposedGroups.includes(found[0]!)) warnings.push(`break-glass group ${quoted(found[0]!)} is not excluded by every enabled conditional access policy; it is not declared (declaring it would exclude its members from every policy)`);
    else if (!confirmedGroups.includes(found[0]!)) confirmedGroups.push(found[0]!);
  }
  const unconfirmedGroups = proposedGroups.filter((g) => !confirmedGroups.includes(g));
  if (unconfirmedGroups.length) {
    breakGlassNotes.push(`Every enabled conditional access policy also excludes the group${unconfirmedGroups.length > 1 ? 's' : ''} ${unconfirmedGroups.map(quoted).join(', ')}: if ${unconfirmedGroups.length > 1 ? 'they hold' : 'it holds'} emergency-access accounts, confirm with --break-glass-group (or list ${unconfirmedGroups.length > 1 ? 'them' : 'it'} in groups); until then ${unconfirmedGroups.length > 1 ? 'they are' : 'it is'} declared as ${unconfirmedGroups.length > 1 ? 'exclusions' : 'an exclusion'}.`);
  }
  const breakGlassGroupSet = new Set(confirmedGroups.map((g) => g.toLowerCase()));

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
  const extraGroups = (s: Shape) => strings(s.users['excludeGroups']).map((id) => names.group(id) ?? id).filter((g) => !breakGlassGroupSet.has(g.toLowerCase()));
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
    const why = policyProps(s, names, breakGlass, breakGlassGroupSet);
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
    area: { construct: 'RiskBasedAccess' as const, id: 'RiskBasedAccess', group: 'identity' as const, props: noted(props, [], propNotes), notes },
    breakGlass: { users: confirmed, proposed, groups: confirmedGroups, proposedGroups, notes: breakGlassNotes },
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
function policyProps(s: Shape, names: Names, breakGlass: ReadonlySet<string>, breakGlassGroups: ReadonlySet<string>): Obj | string {
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
  const excludedGroups = new Set((excludeGroups as string[]).map((g) => g.toLowerCase()));
  if (state !== 'disabled' && [...breakGlassGroups].some((g) => !excludedGroups.has(g))) return 'it does not exclude every break-glass group (declaring it would fail synth; the plan shows it)';
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

// ---------------------------------------------------------------- mail applications

const DAY_MS = 86_400_000;

/** A time read from the tenant as milliseconds, or NaN. */
const when = (v: unknown) => (typeof v === 'string' ? Date.parse(v) : NaN);

/**
 * The apps that hold a mail application permission, declared as MailApplications declares them:
 * the permissions they hold, their owner in Entra ID, the mailboxes an application access policy
 * restricts them to, and the kinds of credential they sign in with (never a key, secret or thumbprint).
 */
function mailApplications(live: LiveState, ownerVar: string, gaps: Gap[]): ImportedArea | undefined {
  const perms = live.appPermissions?.ok ? live.appPermissions.value : undefined;
  if (!perms) return undefined;
  const roles = mailRoles(perms.resources);
  const sps = new Map(rows(live.servicePrincipals).map((s) => [lower(s['id']), s]));
  const held = new Map<string, { graph: Set<string>; exchange: Set<string> }>();
  for (const a of perms.assignments) {
    if (String(a['principalType']) !== 'ServicePrincipal') continue;
    const role = roles.get(lower(a['appRoleId']));
    if (!isMailAppPermission(role)) continue;
    const sp = sps.get(lower(a['principalId']));
    if (!sp || MICROSOFT_TENANT_IDS.includes(lower(sp['appOwnerOrganizationId']))) continue;
    const id = lower(a['principalId']);
    const h = held.get(id) ?? { graph: new Set<string>(), exchange: new Set<string>() };
    h[role.api].add(MAIL_APP_PERMISSIONS[role.api].find((p) => p.toLowerCase() === role.value.toLowerCase()) ?? role.value);
    held.set(id, h);
  }
  if (!held.size) return undefined;
  const owners = live.mailAppOwners?.ok ? live.mailAppOwners.value : {};
  const policies = rows(live.applicationAccessPolicies);
  const registrations = rows(live.applications);
  const readAt = when(live.applications?.ok ? live.applications.readAt : undefined);
  const users = rows(live.users);
  const groups = rows(live.groups);
  const notes: string[] = [];
  const apps: Obj[] = [];
  const entries = [...held.entries()].map(([id, h]) => ({ id, h, sp: sps.get(id)! })).sort((a, b) => String(a.sp['displayName']).localeCompare(String(b.sp['displayName'])) || lower(a.sp['appId']).localeCompare(lower(b.sp['appId'])));
  for (const { id, h, sp } of entries) {
    const appId = lower(sp['appId']);
    const displayName = String(sp['displayName'] ?? '').trim() || appId;
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(appId)) {
      notes.push(`The app ${quoted(displayName)} holds mail application permissions but has no application id the constructs accept; it is not declared and ${GAP}.`);
      continue;
    }
    const appNotes: string[] = [];
    const propNotes: Record<string, string[]> = {};
    const app: Obj = { appId, displayName };

    // The owner: the app's first owner in Entra ID that is a user with a mail address.
    const person = (owners[id] ?? []).map((o) => ({ name: String(o['displayName'] ?? '').trim(), contact: lower(o['userPrincipalName'] ?? o['mail']) })).find((o) => o.name && upn.safeParse(o.contact).success && !/\.invalid$/.test(o.contact));
    if (person) {
      app['owner'] = { name: person.name, team: new Raw(`${ownerVar}.team`), contact: person.contact };
      propNotes['owner'] = ["The app's owner in Entra ID; the team is not read from the tenant, so the area owner's team stands in."];
    } else {
      app['owner'] = new Raw(ownerVar);
      propNotes['owner'] = ['TODO: the app has no owner in Entra ID that is a person with a mail address; the area owner stands in: name who answers for the app.'];
    }

    const permissions: Obj = {};
    if (h.graph.size) permissions['graph'] = [...h.graph].sort();
    if (h.exchange.size) permissions['exchange'] = [...h.exchange].sort();
    app['permissions'] = permissions;

    // The scope: the application access policies that restrict the app, resolved to a group's or the mailboxes' addresses.
    const restricting = policies.filter((p) => lower(p['AppId']) === appId && lower(p['AccessRight']) === 'restrictaccess');
    const matches = (p: Obj, o: Obj, keys: readonly string[]) => keys.some((k) => typeof o[k] === 'string' && o[k] && [lower(p['ScopeName']), lower(p['ScopeIdentity'])].includes(lower(o[k])));
    const resolved = restricting.map((p) => {
      const g = groups.find((x) => typeof x['mail'] === 'string' && x['mail'] && matches(p, x, ['displayName', 'mailNickname', 'mail']));
      if (g) return { group: lower(g['mail']) };
      const u = users.find((x) => matches(p, x, ['displayName', 'mail', 'userPrincipalName']));
      return u ? { mailbox: lower(u['userPrincipalName']) } : { unresolved: String(p['ScopeName'] ?? p['ScopeIdentity'] ?? '') };
    });
    const groupScopes = resolved.filter((r) => 'group' in r);
    const mailboxScopes = resolved.filter((r) => 'mailbox' in r);
    if (resolved.length === 1 && groupScopes.length === 1) app['scope'] = { group: groupScopes[0]!.group };
    else if (resolved.length && mailboxScopes.length === resolved.length) app['scope'] = { mailboxes: [...new Set(mailboxScopes.map((r) => r.mailbox!))].sort() };
    else {
      app['scope'] = { mailboxes: [] };
      propNotes['scope'] = [
        restricting.length
          ? `TODO: the application access policies restricting the app (${resolved.map((r) => quoted(r.group ?? r.mailbox ?? r.unresolved ?? '')).join(', ')}) are not one group or only mailboxes of the directory; name the group or mailboxes it needs (synth refuses none).`
          : 'TODO: no application access policy restricts the app, so it reaches every mailbox; name the group or mailboxes it needs (synth refuses none), then restrict it as the plan says.',
      ];
      if (!restricting.length) gaps.push({ control: 'MAIL.APPS.2', scope: { type: 'app', value: appId }, reason: 'no application access policy restricts the app, so it reaches every mailbox' });
    }

    // The kinds of credential the registration holds that still sign in; never the credentials themselves.
    const reg = registrations.find((r) => lower(r['appId']) === appId);
    if (!reg) {
      appNotes.push(`The app has no application registration in this tenant, so its credentials are its publisher's; MAIL.APPS.3 needs an exception for it and ${GAP}.`);
      gaps.push({ control: 'MAIL.APPS.3', scope: { type: 'app', value: appId }, reason: "the app has no application registration in this tenant, so its credentials are its publisher's" });
    }
    else {
      const active = (v: unknown) => ((Array.isArray(v) ? v : []) as Obj[]).filter((c) => !(when(c['endDateTime']) <= readAt));
      const secrets = active(reg['passwordCredentials']);
      const certificates = active(reg['keyCredentials']).filter((c) => lower(c['usage']) !== 'sign');
      const kinds = [...(certificates.length ? ['certificate'] : []), ...(secrets.length ? ['secret'] : [])];
      if (kinds.length) app['credentials'] = kinds;
      else propNotes['appId'] = ['The registration holds no certificate or client secret that signs in: the default credentials (certificate, federated) are declared.'];
      if (secrets.length) {
        propNotes['credentials'] = ['The app signs in with a client secret: prefer a certificate or a federated credential, then drop "secret".'];
        const long = secrets.some((c) => {
          const start = when(c['startDateTime']);
          const end = when(c['endDateTime']);
          return !Number.isFinite(end) || (end - start) / DAY_MS > DEFAULT_MAX_SECRET_AGE_DAYS || (readAt - start) / DAY_MS > DEFAULT_MAX_SECRET_AGE_DAYS;
        });
        if (long) {
          appNotes.push(`A client secret of the app lives or has lived longer than the catalogue's ${DEFAULT_MAX_SECRET_AGE_DAYS} days; the default is declared and ${GAP}.`);
          gaps.push({ control: 'MAIL.APPS.3', scope: { type: 'app', value: appId }, reason: `a client secret of the app lives or has lived longer than ${DEFAULT_MAX_SECRET_AGE_DAYS} days` });
        }
      }
    }
    apps.push(noted(app, appNotes, propNotes));
  }
  if (!apps.length) return undefined;
  return { construct: 'MailApplications', id: 'MailApplications', group: 'identity', props: { apps }, notes: ['The apps that hold a mail application permission; any other app holding one is a finding of MAIL.APPS.1.', ...notes] };
}

// ---------------------------------------------------------------- external exposure

/** A sharing policy entry, `domain:Action1, Action2`. */
const sharingEntry = (entry: string) => {
  const i = entry.indexOf(':');
  return { domain: (i < 0 ? entry : entry.slice(0, i)).trim(), actions: i < 0 ? [] : entry.slice(i + 1).split(',').map((a) => a.trim().toLowerCase()).filter(Boolean) };
};

function externalExposure(live: LiveState, gaps: Gap[]): ImportedArea {
  const notes: string[] = [];
  const props: Obj = {};
  const tag = rows(live.externalInOutlook)[0];
  if (tag?.['Enabled'] === true) {
    if (strings(tag['AllowList']).length) {
      notes.push(`The External tag is not shown for ${strings(tag['AllowList']).map(quoted).join(', ')}; each needs an approved exception and ${GAP}.`);
      for (const entry of strings(tag['AllowList'])) {
        const domain = entry.replace(/^\*\./, '').replace(/^.*@/, '').toLowerCase();
        if (domainName.safeParse(domain).success) gaps.push({ control: 'MAIL.EXPOSURE.1', scope: { type: 'domain', value: domain }, reason: `the External tag is not shown for ${quoted(entry)}` });
      }
    }
  } else {
    // A transport rule that marks mail from outside stands for the tag.
    const banner = rows(live.transportRules).find(
      (r) =>
        lower(r['State']) === 'enabled' && lower(r['Mode']) === 'enforce' && lower(r['FromScope']) === 'notinorganization' &&
        ((lower(r['ApplyHtmlDisclaimerLocation']) === 'prepend' && String(r['ApplyHtmlDisclaimerText'] ?? '').trim() !== '') || String(r['PrependSubject'] ?? '').trim() !== ''),
    );
    const name = String(banner?.['Name'] ?? '').trim();
    if (banner && name.length <= 64 && !/\p{Cc}/u.test(name)) {
      props['bannerRule'] = name;
      notes.push('Mail from outside is marked by a transport rule rather than by Outlook\'s External tag.');
    } else notes.push(`Outlook's External tag is off and no transport rule marks mail from outside; the tag is declared and ${GAP}.`);
  }
  let freeBusy = false;
  let more = false;
  for (const p of rows(live.sharingPolicies)) {
    if (p['Enabled'] !== true) continue;
    let shares = false;
    for (const e of strings(p['Domains']).map(sharingEntry)) {
      if (e.domain.toLowerCase() === 'anonymous') shares = true;
      if (e.domain !== '*') continue;
      if (e.actions.includes('calendarsharingfreebusysimple')) freeBusy = true;
      if (e.actions.some((a) => a !== 'calendarsharingfreebusysimple')) shares = true;
    }
    if (shares) gaps.push({ control: 'MAIL.EXPOSURE.2', scope: { type: 'policy', value: String(p['Identity'] ?? p['Name']) }, reason: 'the sharing policy shares calendar details or contacts with every domain, or publishes calendars anonymously' });
    more ||= shares;
  }
  if (freeBusy) {
    props['allowFreeBusyWithAllDomains'] = true;
    notes.push('A sharing policy of the tenant shares free/busy with every outside domain: declaring it keeps it; drop it when only named partners need it.');
  }
  if (more) notes.push(`A sharing policy shares calendar details or contacts with every domain, or publishes calendars anonymously; none of it is declared and ${GAP}.`);
  const org = rows(live.organizationConfig)[0];
  if (org?.['AuditDisabled'] === true) notes.push(`Mailbox auditing is off for the organisation; it is declared on and ${GAP}.`);
  notes.push('Every user and shared mailbox must audit the actions MAIL.EXPOSURE.3 names; the plan lists the mailboxes that do not.');
  return { construct: 'ExternalExposure', id: 'ExternalExposure', group: 'mail', props, notes };
}

// ---------------------------------------------------------------- authentication strength

function authenticationStrength(live: LiveState): ImportedArea {
  const notes: string[] = [];
  const props: Obj = {};
  const policy = live.authMethodsPolicy?.ok ? live.authMethodsPolicy.value : undefined;
  const configs = policy ? methodConfigurations(policy) : [];
  const disabled: string[] = [];
  const enabled: string[] = [];
  for (const m of WEAK_METHODS) {
    const c = configs.find((x) => lower(x['id']) === m.toLowerCase());
    if (!c) continue;
    if (lower(c['state']) === 'enabled') enabled.push(m);
    else disabled.push(m);
  }
  if (disabled.length) {
    props['disabledMethods'] = disabled.sort();
    notes.push('Methods the tenant has turned off, declared so they stay off; the privileged roles are the catalogue\'s highly privileged roles, or RiskBasedAccess\'s.');
  }
  if (enabled.includes('sms') || enabled.includes('voice')) notes.push(`SMS or voice codes are enabled in the tenant; a phishing page can relay them: declare them in disabledMethods once users have a stronger method.`);
  return { construct: 'AuthenticationStrength', id: 'AuthenticationStrength', group: 'identity', props, notes };
}

// ---------------------------------------------------------------- threat protection

const NO_MEMBERSHIPS: GroupMemberships = { groups: [], unresolved: [] };

/** The entries of a list property, trimmed, without empty ones. */
const entries = (v: unknown) => strings(v).map((x) => x.trim()).filter(Boolean);
/** What every policy holds (lower case), in the first policy's order; none when there is no policy. */
const heldByAll = (lists: readonly string[][]) => (lists.length ? lists[0]!.filter((x) => lists.every((l) => l.includes(x))) : []);

/** High-value groups: the directory's groups the tenant's enabled protection rules target by membership (and the names no group has). */
function highValueGroups(live: LiveState): { groups: Set<string>; unknown: string[] } {
  const groups = new Set<string>();
  const unknown: string[] = [];
  for (const section of [live.antiPhishRules, live.eopProtectionRules, live.atpProtectionRules, live.contentFilterRules, live.malwareFilterRules, live.safeLinksRules, live.safeAttachmentRules]) {
    for (const r of rows(section)) {
      if (lower(r['State']) !== 'enabled') continue;
      for (const g of entries(r['SentToMemberOf'])) {
        const found = rows(live.groups).find((x) => [lower(x['displayName']), lower(x['mail']), lower(x['mailNickname'])].includes(g.toLowerCase()));
        if (found && String(found['displayName'] ?? '').trim()) groups.add(String(found['displayName']).trim());
        else if (!found) unknown.push(g);
      }
    }
  }
  return { groups, unknown };
}

/**
 * ThreatProtection from every policy of each kind that applies to some mailbox (default, custom,
 * preset and built-in alike, resolved as the checks resolve them): what every one of them holds is declared
 * (protected users, partner domains, additional file types), and a setting any one of them relaxes
 * is declared relaxed, so no population's effective policy is below what is declared. The settings
 * the catalogue fixes (spoof and mailbox intelligence, anti-spam actions, zero-hour purge, Safe
 * Links' scanning) are not props: the plan judges them.
 */
function threatProtection(live: LiveState, names: Names): ImportedArea {
  const notes: string[] = [];
  const props: Obj = {};
  // The policies that apply to some mailbox, by the reconciler's own resolution; every policy when that is not known.
  const recipients = rows(live.mailboxes).map((m) => recipientOfMailbox(m)).filter((r): r is NonNullable<typeof r> => r !== undefined);
  const membership = membershipOf(live.groupMemberships?.ok ? live.groupMemberships.value : NO_MEMBERSHIPS);
  const applied = (kind: ProtectionKind, policies: Obj[], rules: Obj[], presetRules: Obj[]): Obj[] => {
    const resolve = resolver({ kind, policies, rules, presetRules }, membership);
    const used = new Set<Obj>();
    for (const r of recipients) {
      const a = resolve(r);
      if (a.status === 'unknown') return policies;
      if (a.status === 'applies' && a.policy) used.add(a.policy);
    }
    return recipients.length ? policies.filter((p) => used.has(p)) : policies;
  };
  const own = new Set(rows(live.acceptedDomains).map((a) => lower(a['DomainName'] ?? a['Name'])));

  const { groups, unknown } = highValueGroups(live);
  for (const g of unknown) notes.push(`A rule targets the members of ${quoted(g)}, which is no group of the directory; it is not declared as a population.`);
  if (groups.size) props['populations'] = noted({ highValueGroups: [...groups].sort() }, ['Groups the tenant\'s protection rules target: each is judged as a population of its own.']);

  // Impersonation: the users and partner domains every anti-phishing policy protects.
  const phish = applied('antiPhish', rows(live.antiPhish), rows(live.antiPhishRules), rows(live.atpProtectionRules));
  const users = heldByAll(phish.map((p) => (p['EnableTargetedUserProtection'] === true ? entries(p['TargetedUsersToProtect']).map((e) => lower(e.split(';').pop())) : [])))
    .filter((u) => upn.safeParse(u).success && names.hasUser(u));
  const domains = heldByAll(phish.map((p) => (p['EnableTargetedDomainsProtection'] === true ? entries(p['TargetedDomainsToProtect']).map(lower) : [])))
    .filter((d) => !own.has(d) && domainName.safeParse(d).success);
  const some = (key: string, flag: string, of: (e: string) => string) => [...new Set(phish.flatMap((p) => (p[flag] === true ? entries(p[key]).map(of) : [])))];
  const partly = [
    ...some('TargetedUsersToProtect', 'EnableTargetedUserProtection', (e) => lower(e.split(';').pop())).filter((u) => !users.includes(u)),
    ...some('TargetedDomainsToProtect', 'EnableTargetedDomainsProtection', lower).filter((d) => !domains.includes(d) && !own.has(d)),
  ];
  if (partly.length) notes.push(`Protected by some anti-phishing policies only, so not declared: ${partly.map(quoted).join(', ')}; declare those every population needs, and the plan shows the policies without them.`);
  const ACTIONS = ['TargetedUserProtectionAction', 'TargetedDomainProtectionAction', 'MailboxIntelligenceProtectionAction'];
  const impersonation: Obj = {};
  if (users.length) impersonation['protectedUsers'] = [...new Set(users)];
  if (domains.length) impersonation['partnerDomains'] = [...new Set(domains)];
  if (phish.length && phish.every((p) => ACTIONS.every((k) => String(p[k] ?? '') === 'Delete'))) impersonation['action'] = 'Delete';
  if (Object.keys(impersonation).length) props['impersonation'] = noted(impersonation, ['Protected by every anti-phishing policy that applies to a mailbox; a user or domain only some of them protect is not declared.']);
  if (!rows(live.antiPhish).length) notes.push(`The tenant has no anti-phishing policy; impersonation protection is declared and ${GAP}.`);

  // Safe Links: a setting any policy leaves off is declared relaxed.
  const links = applied('safeLinks', rows(live.safeLinks), rows(live.safeLinksRules), rows(live.atpProtectionRules));
  const relaxed: Obj = {};
  for (const [prop, key] of [['teams', 'EnableSafeLinksForTeams'], ['office', 'EnableSafeLinksForOffice'], ['internalSenders', 'EnableForInternalSenders']] as const) {
    if (links.some((p) => p[key] === false)) relaxed[prop] = false;
  }
  if (Object.keys(relaxed).length) props['links'] = noted(relaxed, ['A Safe Links policy that applies to a mailbox leaves these off: declared relaxed, so it is not drift; require them when every policy has them on.']);
  if (!rows(live.safeLinks).length) notes.push(`The tenant has no Safe Links policy (Defender for Office 365 may not be licensed); Safe Links is declared and ${GAP}.`);

  // Safe Attachments and anti-malware.
  const attachments: Obj = {};
  const sa = applied('safeAttachments', rows(live.safeAttachments), rows(live.safeAttachmentRules), rows(live.atpProtectionRules));
  if (sa.some((p) => String(p['Action'] ?? '') === 'DynamicDelivery') && sa.every((p) => ['Block', 'DynamicDelivery'].includes(String(p['Action'] ?? '')))) attachments['action'] = 'DynamicDelivery';
  const tags = [...new Set(sa.map((p) => String(p['QuarantineTag'] ?? '').trim()))];
  if (tags.length === 1 && tags[0] && tags[0] !== 'AdminOnlyAccessPolicy' && !/\p{Cc}/u.test(tags[0])) attachments['quarantineTag'] = tags[0];
  const malware = applied('antiMalware', rows(live.malwareFilter), rows(live.malwareFilterRules), rows(live.eopProtectionRules));
  const common = new Set(COMMON_ATTACHMENT_TYPES);
  const extra = heldByAll(malware.map((p) => (p['EnableFileFilter'] === false ? [] : entries(p['FileTypes']).map((t) => t.toLowerCase().replace(/^\./, ''))))).filter((t) => !common.has(t) && /^[a-z0-9]{1,16}$/.test(t));
  if (extra.length) attachments['additionalFileTypes'] = [...new Set(extra)].sort();
  if (malware.length && malware.every((p) => String(p['FileTypeAction'] ?? '') === 'Quarantine')) attachments['fileTypeAction'] = 'Quarantine';
  if (Object.keys(attachments).length) props['attachments'] = attachments;
  if (!rows(live.safeAttachments).length) notes.push(`The tenant has no Safe Attachments policy; Safe Attachments is declared and ${GAP}.`);

  notes.push(
    'Threat protection judges the effective policy of each population; what is declared here is what every policy applying to a mailbox holds.',
    'Not imported: the privileged roles (the catalogue\'s, or RiskBasedAccess\'s), because the tenant holds no such list; and the anti-spam, spoof and',
    'mailbox intelligence settings, which the catalogue fixes rather than the posture: the plan judges them.',
  );
  return { construct: 'ThreatProtection', id: 'ThreatProtection', group: 'mail', props, notes };
}

// ---------------------------------------------------------------- inbound paths

const KIND_WORDS: Readonly<Record<FailureKind, string>> = {
  'dmarc-reject': 'DMARC fail under p=reject',
  'dmarc-quarantine': 'DMARC fail under p=quarantine',
  'spf-hardfail': 'SPF hard fail',
  'compauth-fail': 'composite authentication fail',
};

/**
 * InboundPaths from the paths the tenant's MX records, connectors and bypasses make, mapped as the
 * plan maps them: the mail owner owns the routing and the policy of every path (a gateway or a
 * connector gets its own owners under `paths`); a path that delivers failing mail more gently than
 * the default requirement is named, with the gap the plan will show.
 */
function inboundPathsArea(live: LiveState, mailOwner: string, gaps: Gap[]): ImportedArea {
  const notes: string[] = [];
  const antiPhish = rows(live.antiPhish);
  const failedMx = rows(live.mxRecords).filter((r) => r['error'] !== undefined).map((r) => lower(r['domain']));
  const mx = Object.fromEntries(rows(live.mxRecords).filter((r) => Array.isArray(r['records'])).map((r) => [lower(r['domain']), r['records'] as { preference: number; exchange: string }[]]));
  const paths = inboundPaths({
    acceptedDomains: rows(live.acceptedDomains).filter((a) => !failedMx.includes(lower(a['DomainName'] ?? a['Name']))),
    mx,
    connectors: rows(live.inboundConnectors),
    transportRules: rows(live.transportRules),
    connectionFilter: rows(live.connectionFilter),
    spoofItems: rows(live.spoofItems),
    contentFilter: rows(live.contentFilter),
    antiPhish: antiPhish.find((p) => p['IsDefault'] === true && p['Enabled'] !== false) ?? antiPhish.find((p) => p['Enabled'] !== false),
  });
  if (paths.length) notes.push(`The tenant's inbound paths: ${paths.map((p) => quoted(p.key)).join(', ')}.`);
  for (const p of paths) {
    const short = FAILURE_KINDS.filter((k) => weaker(p.dispositions[k].outcome, DEFAULT_PATH_REQUIREMENT[k]));
    if (!short.length) continue;
    const what = short.map((k) => `${KIND_WORDS[k]} ends as ${p.dispositions[k].outcome}`).join(', ');
    notes.push(`On ${quoted(p.key)} ${what}, below the default requirement; ${GAP}.`);
    gaps.push({ control: 'MAIL.PATH.1', scope: { type: 'path', value: p.key }, reason: `on this path ${what}` });
  }
  notes.push('The mail owner owns the routing and the policy of every path: give a gateway or a partner connector its own owners under paths.');
  return {
    construct: 'InboundPaths',
    id: 'InboundPaths',
    group: 'mail',
    props: { routingOwner: new Raw(mailOwner), policyOwner: new Raw(mailOwner) },
    notes,
  };
}

// ---------------------------------------------------------------- incident response

/**
 * IncidentResponse is not in the tenant: what is proposed is the product's signal rules and its
 * default authority matrix, with the tiers the tenant shows (the high-value groups its protection
 * rules target) and a watchlist where a conditional access policy asks one group to sign in every
 * time. Every part is a proposal for the owner to review before `posture respond` runs.
 */
function incidentResponse(live: LiveState, names: Names): ImportedArea {
  const notes = [
    'Proposed, not read: the tenant holds no response policy. Review the signals and the authority matrix before posture respond runs;',
    'by default respond revokes sessions and confirms compromise on its own at high confidence, and waits for approval for the rest.',
  ];
  const props: Obj = {
    signals: noted(
      [
        { source: 'defenderAlert', evidenceTypes: ['mailboxConfigurationEvidence'], confidence: 'high' },
        { source: 'defenderAlert', serviceSources: ['microsoftDefenderForOffice365'], severities: ['high'], confidence: 'high' },
        { source: 'defenderAlert', serviceSources: ['microsoftDefenderForOffice365'], severities: ['medium'], confidence: 'medium' },
        { source: 'riskDetection', riskEventTypes: ['suspiciousInboxForwarding', 'mcasSuspiciousInboxManipulationRules'], confidence: 'high' },
        { source: 'riskDetection', riskEventTypes: ['anomalousToken', 'maliciousIPAddress'], confidence: 'medium' },
        { source: 'riskyUser', riskLevels: ['high'], confidence: 'high' },
        { source: 'finding', controls: ['MAIL.FWD.4'], confidence: 'low' },
        { source: 'finding', controls: ['APP.CONSENT.4'], confidence: 'low' },
      ],
      [
        'Rules apply in order: the first that matches a signal gives its confidence; a signal none matches is not acted on.',
        "The posture's own findings start at low confidence (notify only): forwarding rules and consents the tenant has now are",
        'findings too; raise them (MAIL.FWD.4 to high, APP.CONSENT.4 to medium) once those are resolved or excepted.',
      ],
    ),
  };
  const { groups } = highValueGroups(live);
  const tiers: Obj = {};
  if (groups.size) tiers['highValueGroups'] = [...groups].sort();
  props['tiers'] = noted(tiers, [
    groups.size ? 'The high-value groups are those the tenant\'s protection rules target; the privileged roles are the catalogue\'s.' : 'The privileged roles are the catalogue\'s; name high-value groups (executives, finance) here.',
    'TODO: name the service accounts (serviceAccounts: { users, groups }): respond never puts them on the watchlist nor asks them to re-register MFA.',
  ]);
  // A watchlist candidate: the one group an enabled policy asks, and only asks, to sign in with MFA every time.
  // Only proposed in a comment: respond adds users to the watchlist on its own, and a group that also grants access would hand it out.
  const candidates = rows(live.caPolicies).flatMap((p) => {
    const c = (p['conditions'] as Obj | undefined) ?? {};
    const users = (c['users'] as Obj | undefined) ?? {};
    const apps = (c['applications'] as Obj | undefined) ?? {};
    const grant = (p['grantControls'] as Obj | null | undefined) ?? null;
    const frequency = ((p['sessionControls'] as Obj | null | undefined)?.['signInFrequency']) as Obj | null | undefined;
    const groupIds = strings(users['includeGroups']);
    if (lower(p['state']) !== 'enabled' || frequency?.['isEnabled'] === false || frequency?.['frequencyInterval'] !== 'everyTime') return [];
    if (strings(users['includeUsers']).length || strings(users['includeRoles']).length || groupIds.length !== 1) return [];
    if (!same(strings(apps['includeApplications']), ['All']) || strings(grant?.['builtInControls']).includes('block') || !strings(grant?.['builtInControls']).includes('mfa')) return [];
    if (shape(p).unsupported.length || strings(c['userRiskLevels']).length || strings(c['signInRiskLevels']).length || !same(strings(c['clientAppTypes']).length ? strings(c['clientAppTypes']) : ['all'], ['all'])) return [];
    const group = rows(live.groups).find((g) => lower(g['id']) === groupIds[0]!.toLowerCase());
    const name = String(group?.['displayName'] ?? '');
    if (!group || group['securityEnabled'] === false || strings(group['groupTypes']).includes('Unified') || group['isAssignableToRole'] === true) return [];
    return name && names.groupsNamed(name).length === 1 ? [{ group: name, policy: String(p['displayName'] ?? '') }] : [];
  });
  if (candidates.length === 1) {
    const c = candidates[0]!;
    notes.push(
      `The policy ${quoted(c.policy)} asks only the members of ${quoted(c.group)} to sign in with MFA every time: if that group grants no access of its own,`,
      `declare it as the watchlist (watchlist: { group: ${literal(c.group)} }) and respond adds a user to it for 14 days.`,
    );
  } else notes.push('No watchlist: declare one (a group a conditional access policy asks to sign in every time) for respond to add users to.');
  return { construct: 'IncidentResponse', id: 'IncidentResponse', group: 'all', props, notes };
}
