import type { Evaluation } from '../evaluate/context.js';
import type { Manifest, Owner } from '../manifest/schema.js';
import type { FailedInboundMail, FailedMessage } from '../model/live.js';
import { FAILURE_KINDS, weaker, type Bypass, type FailureKind, type InboundPath, type MappedPath, type Outcome, type PathMap, type PathObservation } from '../model/paths.js';
import { inboundPaths } from './inbound-paths.js';

type Obj = Record<string, unknown>;
type Desired = NonNullable<Manifest['desired']['inboundPaths']>;

const KIND_TEXT: Readonly<Record<FailureKind, string>> = {
  'dmarc-reject': 'DMARC fail under p=reject',
  'dmarc-quarantine': 'DMARC fail under p=quarantine',
  'spf-hardfail': 'SPF hard fail',
  'compauth-fail': 'composite authentication fail',
};
const OUTCOME_TEXT: Readonly<Record<Outcome, string>> = { reject: 'rejected', quarantine: 'quarantined', junk: 'delivered to Junk', inbox: 'delivered to the inbox' };
/** How many messages a MAIL.PATH.2 finding lists; the rest are counted. */
export const MESSAGES_SHOWN = 20;

const ownerText = (o: Owner | undefined) => (o ? `${o.name} (${o.team}, ${o.contact})` : 'nobody');
export const pathText = (p: Pick<InboundPath, 'entry' | 'domain' | 'hosts' | 'connector' | 'unpublished'>): string =>
  p.entry === 'eop' ? `${p.domain} direct to Exchange Online Protection${p.unpublished ? ` (${p.hosts.join(', ')}, which no MX names)` : ''}`
  : p.entry === 'gateway' ? `${p.domain} through the gateway ${p.hosts.join(', ')}${p.connector ? ` (connector "${p.connector}")` : ' (no connector for it)'}`
  : `the partner connector "${p.connector ?? ''}"`;

/** The declared entries that speak for a path: its own key first, then its domain. */
function declaredFor(d: Desired, p: InboundPath) {
  const exact = d.paths.find((x) => x.match === p.key.toLowerCase());
  const domain = d.paths.find((x) => x.match === p.domain);
  return { exact, domain };
}

/**
 * MAIL.PATH.1 and MAIL.PATH.2: the path map of every accepted domain with its owners, what falls
 * short of the posture's requirement, and what the evidence period shows. Returns the map for the
 * plan and the report (undefined when the posture declares no inbound paths or the map's reads failed).
 */
export function checkInboundPaths(ev: Evaluation): PathMap | undefined {
  const d = ev.manifest.desired.inboundPaths;
  if (!d) return undefined;
  const got = ev.need<[Obj[], unknown, Obj[], Obj[], Obj[], Obj[], Obj[], Obj[]]>('MAIL.PATH.1', [
    'acceptedDomain', 'mxRecord', 'inboundConnector', 'transportRule', 'hostedConnectionFilterPolicy', 'spoofItem', 'antiPhishPolicy', 'hostedContentFilterPolicy',
  ]);
  if (!got || !ev.live.mxRecords?.ok) return undefined;
  const [acceptedDomains, , connectors, transportRules, connectionFilter, spoofItems, antiPhish, contentFilter] = got;
  const mxSection = ev.live.mxRecords;
  // A domain whose MX query failed has an unknown entry: the map is incomplete, never "no path".
  const failedMx = mxSection.value.filter((r) => r.error !== undefined);
  for (const r of failedMx) ev.unread({ ok: false, endpoint: `DNS MX ${r.domain}`, readAt: mxSection.readAt, reason: 'read-failed', error: r.error! }, `the MX records of ${r.domain}`);
  const mx = Object.fromEntries(mxSection.value.filter((r) => r.records).map((r) => [r.domain, r.records!]));
  const defaultPolicy = antiPhish.find((p) => p['IsDefault'] === true && p['Enabled'] !== false) ?? antiPhish.find((p) => p['Enabled'] !== false);
  const paths = inboundPaths({
    acceptedDomains: acceptedDomains.filter((a) => !failedMx.some((f) => f.domain === String(a['DomainName'] ?? a['Name'] ?? '').toLowerCase())),
    mx, connectors, transportRules, connectionFilter, spoofItems, contentFilter, antiPhish: defaultPolicy,
  });
  const objective = ev.entry('MAIL.PATH.1')?.owner;
  if (!objective) return undefined;

  const mapped: MappedPath[] = paths.map((p) => {
    const { exact, domain } = declaredFor(d, p);
    const routing = exact?.routingOwner ?? domain?.routingOwner ?? d.routingOwner ?? undefined;
    const policy = exact?.policyOwner ?? domain?.policyOwner ?? d.policyOwner ?? undefined;
    const required = { ...d.require, ...(domain?.require ?? {}), ...(exact?.require ?? {}) } as Record<FailureKind, Outcome>;
    const short = FAILURE_KINDS.filter((k) => weaker(p.dispositions[k].outcome, required[k]));
    const exception = ev.manifest.exceptions.find((e) => /^MAIL\.PATH\.[12](v\d+)?$/.test(e.control) && e.scope.type === 'path' && e.scope.value.toLowerCase() === p.key.toLowerCase());
    return {
      ...p,
      bypasses: p.bypasses.map((b) => {
        const e = bypassException(ev, b);
        return e ? { ...b, excepted: { id: e.id, expires: e.expires, inForce: e.expires >= ev.today } } : b;
      }),
      owners: { ...(routing ? { routing } : {}), ...(policy ? { policy } : {}), objective },
      required,
      short,
      ...(exception
        ? { exception: { id: exception.id, approvedBy: exception.approvedBy, expires: exception.expires, inForce: exception.expires >= ev.today, ...(exception.compensatingControl ? { compensatingControl: exception.compensatingControl } : {}) } }
        : {}),
    };
  });

  const readAt = mxSection.readAt;
  for (const p of mapped) {
    const resource = { type: p.entry === 'partner' ? 'inboundConnector' : 'mxRecord', id: null, name: p.key };
    const scopes = [{ type: 'path' as const, value: p.key }];
    const live = { path: p.key, entry: p.entry, hosts: p.hosts, connector: p.connector ?? null, enhancedFiltering: p.enhancedFiltering, bypasses: p.bypasses, dispositions: p.dispositions };
    const owners = `Routing owner: ${ownerText(p.owners.routing)}; policy owner: ${ownerText(p.owners.policy)}; objective owner: ${ownerText(p.owners.objective)}.`;
    if (p.short.length) {
      const what = p.short.map((k) => `${KIND_TEXT[k]} is ${OUTCOME_TEXT[p.dispositions[k].outcome]} (at least ${p.required[k]} required)`).join('; ');
      ev.add({
        control: 'MAIL.PATH.1', check: 'path-disposition', resource, key: `path/${p.key}`, status: 'violation', action: 'none',
        summary: `Mail that fails authentication on ${pathText(p)} gets through: ${what}. ${owners}`,
        evidence: { endpoint: 'inbound path map', readAt, live: { ...live, required: p.required } },
        remediation: remediationOf(p),
        scopes,
      });
    }
    const unowned = [...(p.owners.routing ? [] : ['routing']), ...(p.owners.policy ? [] : ['policy'])];
    if (unowned.length) {
      ev.add({
        control: 'MAIL.PATH.1', check: 'path-owners', resource, key: `owners/${p.key}`, status: 'missing', action: 'none',
        summary: `Nobody owns the ${unowned.join(' or the ')} decision of ${pathText(p)}. ${owners}`,
        evidence: { endpoint: 'inbound path map', readAt, live },
        remediation: `Name the ${unowned.join(' and ')} owner${unowned.length > 1 ? 's' : ''} of "${p.key}" in the posture (InboundPaths paths, or routingOwner/policyOwner for every path).`,
        scopes,
      });
    }
  }
  for (const x of d.paths) {
    if (mapped.some((p) => p.key.toLowerCase() === x.match || p.domain === x.match)) continue;
    // A domain whose MX could not be read is incomplete, not gone.
    if (failedMx.some((f) => x.match === f.domain || x.match.startsWith(`${f.domain}/`))) continue;
    ev.add({
      control: 'MAIL.PATH.1', check: 'path-declared', resource: { type: 'mxRecord', id: null, name: x.match }, key: `declared/${x.match}`, status: 'missing', action: 'none',
      summary: `The posture declares owners for the inbound path "${x.match}", which the tenant does not have: the MX, the gateway or the connector changed, or the declaration is stale.`,
      evidence: { endpoint: 'inbound path map', readAt, live: { declared: x.match, declaredBy: x.declaredBy, paths: mapped.map((p) => p.key) } },
      remediation: `Declare the path as the map shows it now (${mapped.map((p) => p.key).join(', ') || 'no path'}), or find out why "${x.match}" went away.`,
      scopes: [{ type: 'path', value: x.match }],
    });
  }

  const observed = observe(ev, d, mapped);
  return { paths: mapped.map((p) => (observed?.byPath.has(p.key) ? { ...p, observed: observed.byPath.get(p.key)! } : p)), ...(observed ? { evidence: observed.summary } : {}) };
}

/** The exception that allows a bypass: an SCL -1 rule or allowed sender under MAIL.INBOUND.2, an allow-listed range under MAIL.INBOUND.3. */
function bypassException(ev: Evaluation, b: Bypass) {
  const control = b.kind === 'ip-allow-list' ? 'MAIL.INBOUND.3' : b.kind === 'spoof-allow' ? undefined : 'MAIL.INBOUND.2';
  if (!control) return undefined;
  const type = b.kind === 'ip-allow-list' ? 'policy' : 'rule';
  return ev.manifest.exceptions.find((e) => e.control.replace(/v\d+$/, '') === control && e.scope.type === type && e.scope.value.toLowerCase() === b.name.toLowerCase());
}

/** What the owners can do about a path that falls short, by why it does. */
function remediationOf(p: MappedPath): string {
  const steps: string[] = [];
  if (p.entry === 'gateway' && p.enhancedFiltering !== 'on') {
    steps.push(
      p.connector
        ? `turn on enhanced filtering for connectors on "${p.connector}" for every recipient (Set-InboundConnector -Identity "${p.connector}" -EFSkipLastIP $true -EFUsers $null -EFTestMode $false), or point the MX of ${p.domain} to Exchange Online Protection`
        : `create the inbound connector for the gateway ${p.hosts.join(', ')} with enhanced filtering, or point the MX of ${p.domain} to Exchange Online Protection`,
    );
  }
  for (const b of p.bypasses.filter((x) => x.scope === 'all')) steps.push(`remove what lets every message of the path skip filtering: ${b.detail}`);
  if (!steps.length) steps.push('make the anti-phishing policy honour DMARC and act on failed composite authentication (MAIL.INBOUND.1, MAIL.THREAT)');
  return `${steps.join('; ')}. A path that must stay as it is takes an exception scoped to path "${p.key}" with its compensating control.`;
}

/** The failure kind of a failing message: a DMARC failure by the sender domain's policy. */
export function kindOf(m: FailedMessage): FailureKind {
  if (/^\s*fail/i.test(m.authentication.dmarc)) {
    // A policy that could not be looked up is judged as the strictest: it never lowers the requirement.
    if (m.senderPolicy === 'reject' || m.senderPolicy === 'unknown') return 'dmarc-reject';
    if (m.senderPolicy === 'quarantine') return 'dmarc-quarantine';
  }
  if (/^\s*fail/i.test(m.authentication.spf)) return 'spf-hardfail';
  return 'compauth-fail';
}

/** What the service did with a copy when it delivered it. */
export function outcomeOf(m: FailedMessage): Outcome {
  const at = m.delivered.location.toLowerCase();
  const action = m.delivered.action.toLowerCase();
  // Defender says `blocked` both of a quarantined copy and of a refused one: the location tells them apart.
  if (at === 'quarantine') return 'quarantine';
  if (at === 'failed' || at === 'dropped' || action === 'blocked') return 'reject';
  if (at === 'junkfolder' || action === 'deliveredtojunk') return 'junk';
  return 'inbox';
}

/** The path a copy came in on: its connector's path, else its recipient domain's direct one. */
export function pathOf(paths: readonly InboundPath[], m: FailedMessage): InboundPath | undefined {
  const domain = m.recipient.split('@')[1] ?? '';
  const connector = m.connector.trim().toLowerCase();
  if (connector) {
    return paths.find((p) => p.entry === 'partner' && p.connector?.toLowerCase() === connector) ?? paths.find((p) => p.entry === 'gateway' && p.domain === domain && p.connector?.toLowerCase() === connector);
  }
  return paths.find((p) => p.entry === 'eop' && p.domain === domain);
}

interface Delivered {
  readonly m: FailedMessage;
  readonly kind: FailureKind;
  readonly outcome: Outcome;
}

/** MAIL.PATH.2: failing mail of the evidence period by path and outcome; delivered despite failure is a finding per path. */
function observe(ev: Evaluation, d: Desired, paths: readonly MappedPath[]): { byPath: Map<string, PathObservation>; summary: NonNullable<PathMap['evidence']> } | undefined {
  if (d.evidenceDays === 0) return undefined;
  const got = ev.need<[unknown, unknown, unknown, FailedInboundMail]>('MAIL.PATH.2', ['acceptedDomain', 'mxRecord', 'inboundConnector', 'analyzedEmail']);
  if (!got || !ev.live.failedInboundMail?.ok) return undefined;
  const mail = got[3];
  if (mail.unresolved?.length) {
    const shown = mail.unresolved.slice(0, 10).join(', ') + (mail.unresolved.length > 10 ? ` and ${mail.unresolved.length - 10} more` : '');
    ev.unread(
      { ok: false, endpoint: 'DNS TXT _dmarc of sender domains', readAt: ev.live.failedInboundMail!.readAt, reason: 'read-failed', error: `the DMARC policy of ${mail.unresolved.length} sender domain${mail.unresolved.length === 1 ? '' : 's'} of failing mail could not be looked up (${shown}); their DMARC failures are judged as p=reject` },
      'the DMARC policies of the sender domains of failing mail',
    );
  }
  const byPath = new Map<string, { obs: { failed: number; byOutcome: Record<Outcome, number>; deliveredDespiteFailure: number }; delivered: Delivered[] }>();
  let unattributed = 0;
  // Copies no path of the map accounts for (a connector the map does not have: deleted, disabled or
  // renamed since), by connector or recipient domain: judged on the posture's own requirement.
  const unmapped = new Map<string, { connector: string; domain: string; delivered: Delivered[] }>();
  for (const m of mail.messages) {
    const p = pathOf(paths, m);
    if (!p) {
      unattributed++;
      const kind = kindOf(m);
      const outcome = outcomeOf(m);
      if (!weaker(outcome, d.require[kind])) continue;
      const domain = m.recipient.split('@')[1] ?? '';
      const key = m.connector.trim() ? `unmapped:connector ${m.connector.trim().toLowerCase()}` : `unmapped:${domain}`;
      const slot = unmapped.get(key) ?? { connector: m.connector.trim(), domain, delivered: [] };
      slot.delivered.push({ m, kind, outcome });
      unmapped.set(key, slot);
      continue;
    }
    const mp = paths.find((x) => x.key === p.key)!;
    const slot = byPath.get(p.key) ?? { obs: { failed: 0, byOutcome: { reject: 0, quarantine: 0, junk: 0, inbox: 0 }, deliveredDespiteFailure: 0 }, delivered: [] };
    byPath.set(p.key, slot);
    const kind = kindOf(m);
    const outcome = outcomeOf(m);
    slot.obs.failed++;
    slot.obs.byOutcome[outcome]++;
    if (weaker(outcome, mp.required[kind])) {
      slot.obs.deliveredDespiteFailure++;
      slot.delivered.push({ m, kind, outcome });
    }
  }
  const readAt = ev.live.failedInboundMail.readAt;
  const period = `between ${mail.from.slice(0, 10)} and ${mail.to.slice(0, 10)}`;
  const finding = (key: string, resource: { type: string; name: string }, where: string, owners: string, delivered: readonly Delivered[], fix: string) => {
    const n = delivered.length;
    const kinds = [...new Set(delivered.map((x) => x.kind))].map((k) => KIND_TEXT[k]);
    // Composite authentication "none": Exchange Online Protection did not judge the message (behind a
    // gateway without enhanced filtering it saw the gateway), so legitimate mail looks the same.
    const unjudged = delivered.filter((x) => /^\s*none/i.test(x.m.authentication.compauth)).length;
    ev.add({
      control: 'MAIL.PATH.2', check: 'delivered-despite-failure', resource: { ...resource, id: null }, key: `delivered/${key}`,
      status: 'violation', action: 'none',
      summary:
        `${n} message${n === 1 ? '' : 's'} that failed authentication (${kinds.join(', ')}) ${n === 1 ? 'was' : 'were'} delivered ${where} ${period}, where the posture requires them rejected or quarantined.` +
        (unjudged ? ` Exchange Online Protection did not judge ${unjudged === n ? (n === 1 ? 'it' : 'any of them') : `${unjudged} of them`} (composite authentication none: it saw the server that relayed ${unjudged === 1 ? 'it' : 'them'}, not the sender), so legitimate mail may be among them.` : '') +
        ` ${owners}`,
      evidence: {
        endpoint: '/security/collaboration/analyzedEmails', readAt,
        live: {
          path: key, period: { from: mail.from, to: mail.to }, deliveredDespiteFailure: n, ...(unjudged ? { notJudged: unjudged } : {}),
          messages: delivered.slice(0, MESSAGES_SHOWN).map(({ m, kind, outcome }) => ({
            networkMessageId: m.networkMessageId, internetMessageId: m.internetMessageId, receivedAt: m.receivedAt, sender: m.sender, senderIp: m.senderIp,
            recipient: m.recipient, subject: m.subject, connector: m.connector || null, authentication: m.authentication, failure: kind, delivered: outcome,
            latestLocation: m.latestLocation, overrideSources: m.overrideSources,
          })),
          ...(n > MESSAGES_SHOWN ? { notListed: n - MESSAGES_SHOWN } : {}),
        },
      },
      remediation: `${fix} Then check the messages listed and remove those that are spoofs from the mailboxes (posture respond --message, or Defender's remediation).`,
      scopes: [{ type: 'path', value: key }],
    });
  };
  for (const p of paths) {
    const slot = byPath.get(p.key);
    if (!slot?.delivered.length) continue;
    finding(p.key, { type: p.entry === 'partner' ? 'inboundConnector' : 'mxRecord', name: p.key }, `on ${pathText(p)}`,
      `Routing owner: ${ownerText(p.owners.routing)}; policy owner: ${ownerText(p.owners.policy)}; objective owner: ${ownerText(p.owners.objective)}.`,
      slot.delivered, `Fix the path (MAIL.PATH.1: ${remediationOf(p)})`);
  }
  const objective = paths[0]?.owners.objective ?? ev.entry('MAIL.PATH.2')?.owner;
  for (const [key, u] of unmapped) {
    finding(key, { type: u.connector ? 'inboundConnector' : 'mxRecord', name: key },
      u.connector ? `through the connector "${u.connector}", which no path of the map has (deleted, disabled or renamed since, or not an inbound connector of this tenant),` : `to ${u.domain} on no path of the map,`,
      `Routing owner: nobody (the path is not mapped); objective owner: ${ownerText(objective)}.`,
      u.delivered, u.connector ? `Find out how mail reached the tenant through "${u.connector}" and map the path (or close it).` : `Find out how mail for ${u.domain} reached the tenant and map the path (or close it).`);
  }
  return {
    byPath: new Map([...byPath].map(([k, v]) => [k, v.obs])),
    summary: { from: mail.from, to: mail.to, failed: mail.messages.length, unattributed },
  };
}
