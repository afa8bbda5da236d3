import { CATALOGUE, versionedId, type ControlArea } from '../../policies/catalogue.js';
import { tenantDomains } from '../checks/sender-authentication.js';
import { InputError } from '../input/synth-output.js';
import { MANIFEST_VERSION, type Manifest } from '../manifest/schema.js';
import type { LiveState, Section } from '../model/live.js';
import { readDns, type DomainDns } from '../read/dns.js';
import { readTenant, typesToRead } from '../read/live.js';
import { DEFAULT_PRIVILEGED_ROLES } from '../../stacks/lib/roles.js';
import { linksAttachmentsDesiredState } from '../../stacks/lib/threat-links.js';
import type { ReadContext } from '../resources/types.js';

type Obj = Record<string, unknown>;

/** The control areas `posture import` writes code for, and so reads. */
export const IMPORTED_AREAS: readonly ControlArea[] = ['ownership', 'sender-authentication', 'inbound', 'inbound-paths', 'forwarding', 'threat', 'exposure', 'consent', 'conditional-access', 'authentication', 'mail-apps'];

/**
 * Resource types the imported areas' controls read that nothing import writes comes from: inbox
 * rules are one read per mailbox (60,000 at 60,000 mailboxes) and the posture declares none of
 * them, so they are left to the plan, which judges every rule; analyzed emails are evidence of what
 * happened to mail, which the plan shows. A control that reads one is left
 * out of the read manifest; what else it reads, another control of its area reads too.
 */
export const NOT_READ_FOR_IMPORT: ReadonlySet<string> = new Set(['inboxRule', 'analyzedEmail']);

/** The controls of the imported areas import reads for. */
export const importedControls = () => {
  const areas = new Set<string>(IMPORTED_AREAS);
  return CATALOGUE.filter((c) => areas.has(c.area) && !c.resources.read.some((k) => NOT_READ_FOR_IMPORT.has(k)));
};

/** What import read: the live state of the imported areas, and the DNS of every domain the organisation publishes. */
export interface ImportRead {
  readonly live: LiveState;
  /** The tenant's mail domains whose DNS the organisation publishes (Microsoft-managed ones left out), sorted. */
  readonly domains: readonly string[];
  readonly dns: ReadonlyMap<string, DomainDns>;
}

/** A read that failed or came back incomplete: import writes nothing then. */
export class ImportReadError extends InputError {
  constructor(readonly failures: readonly string[]) {
    super(`the tenant could not be read completely, so nothing was written. Not read:\n${failures.map((f) => `  - ${f}`).join('\n')}`);
  }
}

/** A placeholder owner for the read manifest only; it never reaches generated code. */
const READ_OWNER = { name: 'posture import', team: 'posture import', contact: 'import@posture-import.invalid' };

/**
 * The manifest import reads with: every control of the imported areas declared, so `readTenant`
 * reads exactly the resource types the catalogue governs there, and empty desired sections, so no
 * read is narrowed to what a posture names. `domains` are the domains whose DNS is read.
 */
export function readManifest(domains: readonly string[] = []): Manifest {
  return {
    manifestVersion: MANIFEST_VERSION,
    kind: 'EmailSecurityPosture',
    stack: 'import',
    organization: { name: 'import', primaryDomain: 'posture-import.invalid' },
    breakGlass: { users: ['break-glass@posture-import.invalid'], groups: [] },
    exceptionPolicy: { maxDays: 180 },
    controls: importedControls().map((c) => ({ id: versionedId(c), mode: 'report' as const, owner: READ_OWNER, declaredBy: 'import' })),
    exceptions: [],
    desired: {
      senderAuthentication: {
        domains: domains.map((name) => ({
          name,
          sending: true,
          dmarc: { policy: 'reject' as const, subdomainPolicy: 'reject' as const, pct: 100, rua: ['mailto:import@posture-import.invalid'], ruf: [], adkim: 'r' as const, aspf: 'r' as const },
          spf: { all: '-all' as const },
          dkim: { enabled: true },
        })),
      },
      inbound: { antiPhish: { honorDmarcPolicy: true, dmarcRejectAction: 'Reject', dmarcQuarantineAction: 'Quarantine' } },
      forwarding: { autoForwardingMode: 'Off', allowedRemoteDomains: [] },
      // Declared so the role holders the populations need are read.
      threatProtection: {
        populations: { privilegedRoles: [...DEFAULT_PRIVILEGED_ROLES], highValueGroups: [] },
        impersonation: { protectedUsers: [], protectedDomains: [], action: 'Quarantine' },
        antiSpam: { highConfidencePhishAction: 'Quarantine', phishSpamAction: 'Quarantine', zeroHourAutoPurge: true },
        ...linksAttachmentsDesiredState(),
      },
      consent: {
        userConsent: 'disabled',
        allowUsersToRegisterApps: false,
        adminConsentWorkflow: { reviewers: [], notifyReviewers: true, remindersEnabled: true, requestDurationInDays: 30 },
        highRiskScopes: [],
      },
      conditionalAccess: { privilegedRoles: [], exclusions: { users: [], groups: [] }, policies: [] },
    },
  };
}

/** Each section the read manifest needs that was not read, named with its endpoint and error. */
export function unreadSections(m: Manifest, live: LiveState): string[] {
  const out: string[] = [];
  for (const t of typesToRead(m)) {
    const spec = t.read!;
    if (spec.section === 'dns') continue;
    const section = (live as Record<string, Section<unknown> | undefined>)[spec.section];
    if (section === undefined) {
      // A conditional read that its condition skipped is not a failure.
      if (spec.when && !spec.when(live, m)) continue;
      out.push(`${t.title}: not read`);
    } else if (!section.ok) {
      out.push(`${t.title} (${section.endpoint}): ${section.error}${section.permission ? ` (needs ${section.permission})` : ''}`);
    }
  }
  return out;
}

/** The MX lookups that failed: a section read as a whole can hold domains whose query failed, which are not "no MX". */
export function mxFailures(live: LiveState): string[] {
  if (!live.mxRecords?.ok) return [];
  return live.mxRecords.value.filter((r) => r.error !== undefined).map((r) => `DNS MX ${r.domain}: ${r.error}`);
}

/** The DNS failures of one domain: a lookup that failed is not "no record". */
export function dnsFailures(dns: DomainDns | undefined, domain: string): string[] {
  if (!dns) return [`DNS of ${domain}: not read`];
  const out: string[] = [];
  if (dns.dmarc.dnsError) out.push(`DNS TXT _dmarc.${domain}: ${dns.dmarc.dnsError.code}`);
  if (dns.spf.status === 'error') out.push(`DNS TXT ${domain}: the SPF lookup failed`);
  return out;
}

/** The organisation's mail domains: verified and accepted, without those whose DNS Microsoft publishes. */
export function organisationDomains(live: LiveState): string[] {
  const verified = live.domains?.ok ? (live.domains.value as Obj[]) : [];
  const accepted = live.acceptedDomains?.ok ? (live.acceptedDomains.value as Obj[]) : [];
  return [...tenantDomains(verified, accepted)].filter(([, d]) => !d.microsoftManaged).map(([name]) => name).sort();
}

/**
 * Reads what the imported areas govern through the reconciler's own reads, then the DNS of every
 * domain found. Any failed section or DNS lookup throws {@link ImportReadError}, naming each.
 */
export async function readForImport(ctx: ReadContext): Promise<ImportRead> {
  const first = readManifest();
  const live = await readTenant(first, ctx);
  const failures = [...unreadSections(first, live), ...mxFailures(live)];
  if (failures.length) throw new ImportReadError(failures);
  const domains = organisationDomains(live);
  const dns = await readDns(readManifest(domains), ctx.resolver);
  const dnsFailed = domains.flatMap((d) => dnsFailures(dns.get(d), d));
  if (dnsFailed.length) throw new ImportReadError(dnsFailed);
  return { live, domains, dns };
}
