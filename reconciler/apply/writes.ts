import type { Directory } from '../evaluate/context.js';
import type { Finding } from '../findings/model.js';
import type { Manifest } from '../manifest/schema.js';
import type { LiveState } from '../read/live.js';
import { withoutAnnotations } from '../core/annotations.js';
import { resolvePolicy } from '../resources/conditional-access-policy.js';
import { USER_CONSENT_POLICIES } from '../checks/consent.js';
import { canonicalJson } from '../core/json.js';
import { sha256 } from '../core/hash.js';
import { terminalSafe } from '../core/text.js';

type Obj = Record<string, unknown>;

/** One write to the tenant, exactly as apply will send it. */
export type Write =
  | { readonly api: 'graph'; readonly method: 'POST' | 'PATCH' | 'PUT' | 'DELETE'; readonly path: string; readonly body?: Obj }
  | { readonly api: 'exchange'; readonly cmdlet: string; readonly parameters: Obj };

/** A change of a saved plan: what to write, and the live state it was computed against. */
export interface PlannedChange {
  readonly findingId: string;
  readonly control: string;
  readonly resource: Finding['resource'];
  readonly action: 'create' | 'update' | 'delete';
  /** SHA-256 of the live value the change was computed from; apply refuses when it has changed. */
  readonly fingerprint: string;
  readonly readAt: string;
  readonly write: Write;
  /** The live value the change was computed from (as the finding shows it). */
  readonly before: unknown;
  /** Set on the changes of a rollback plan: the apply run and evidence record the change undoes. */
  readonly rollbackOf?: { readonly runId: string; readonly seq: number };
}

/**
 * A resource as messages name it: its type and name on one line (a name anyone in the tenant can
 * set may hold a newline, which would forge a line of the message it is in).
 */
export const labelOf = (r: { readonly type: string; readonly name: string }) => `${terminalSafe(String(r.type))} "${terminalSafe(String(r.name))}"`;

/** One line for a change: sign, resource, control and the write. */
export const describeChange = (c: PlannedChange) =>
  `${c.action === 'create' ? '+' : c.action === 'delete' ? '-' : '~'} ${c.resource.type} "${c.resource.name}" (${c.control}): ${
    c.write.api === 'graph' ? `${c.write.method} ${c.write.path}` : c.write.cmdlet
  }`;

/**
 * Every Graph write apply (or a rollback) makes, as method and path; `{id}` is one path segment. A
 * plan whose write is not one of these, written exactly so, is refused: the rails judge the path
 * as it will be sent, and a path the transport or the service would normalise into another one
 * (dot segments, doubled or encoded slashes, an absolute URL, a query) is not judged, it is refused.
 */
const GRAPH_WRITES: ReadonlyArray<readonly [method: string, path: string]> = [
  ['POST', '/identity/conditionalAccess/policies'],
  ['PATCH', '/identity/conditionalAccess/policies/{id}'],
  ['DELETE', '/identity/conditionalAccess/policies/{id}'],
  ['PATCH', '/policies/authorizationPolicy'],
  ['PUT', '/policies/adminConsentRequestPolicy'],
  ['POST', '/oauth2PermissionGrants'],
  ['DELETE', '/oauth2PermissionGrants/{id}'],
  ['DELETE', '/servicePrincipals/{id}/appRoleAssignedTo/{id}'],
  ['POST', '/users/{id}/mailFolders/inbox/messageRules'],
  ['DELETE', '/users/{id}/mailFolders/inbox/messageRules/{id}'],
];

/** Every Exchange cmdlet apply (or a rollback) runs. */
const EXCHANGE_WRITES: ReadonlySet<string> = new Set([
  'Set-HostedOutboundSpamFilterPolicy', 'Set-RemoteDomain', 'Set-Mailbox', 'Set-AntiPhishPolicy',
  'New-DkimSigningConfig', 'Set-DkimSigningConfig', 'Disable-TransportRule', 'Enable-TransportRule',
]);

/** What a path segment may hold as it is (RFC 3986 pchar), besides percent-escapes. */
const PCHAR = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})+$/;

/**
 * Why an id segment is not in its normal form (RFC 3986 6.2.2), or undefined when it is: only
 * characters a segment may hold, no escape of a character that needs none (`%2e` is a dot), and
 * nothing that decodes to a dot segment.
 */
function idSegmentProblem(segment: string): string | undefined {
  if (segment === '') return 'an empty segment';
  if (!PCHAR.test(segment)) return `"${segment}" holds a character a path segment cannot hold unencoded`;
  for (const [, hex] of segment.matchAll(/%([0-9A-Fa-f]{2})/g)) {
    const ch = String.fromCharCode(parseInt(hex!, 16));
    if (/[A-Za-z0-9\-._~]/.test(ch)) return `"${segment}" encodes "${ch}", which needs no encoding`;
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    return `"${segment}" holds a percent-encoding that is not UTF-8`;
  }
  // An id may hold an encoded "/" (base64 inbox rule ids do); never one that makes a dot segment once decoded.
  if (decoded.split(/[/\\]/).some((part) => part === '.' || part === '..')) return `"${segment}" decodes to a dot segment`;
  return undefined;
}

/**
 * Why a write is not one apply makes, exactly as it would be sent, or undefined when it is. The
 * break-glass rail and every other check judge a write by its path: that path must be the one the
 * transport sends and the service routes.
 */
export function writeProblem(w: unknown): string | undefined {
  if (!w || typeof w !== 'object') return 'it is not a write';
  const write = w as Record<string, unknown>;
  if (write['api'] === 'exchange') {
    if (typeof write['cmdlet'] !== 'string' || !EXCHANGE_WRITES.has(write['cmdlet'])) return `${JSON.stringify(write['cmdlet'])} is not a cmdlet apply runs`;
    if (!write['parameters'] || typeof write['parameters'] !== 'object' || Array.isArray(write['parameters'])) return 'its parameters are not an object';
    return undefined;
  }
  if (write['api'] !== 'graph') return `the API ${JSON.stringify(write['api'])} is neither graph nor exchange`;
  const { method, path } = write;
  if (typeof path !== 'string') return 'its path is not a string';
  if (!path.startsWith('/')) return /^[a-z][a-z0-9+.-]*:/i.test(path) ? 'it is an absolute URL, not a path on the Graph endpoint' : 'it does not start with "/"';
  if (/[?#]/.test(path)) return 'it carries a query or a fragment';
  if (/[\s\\\p{Cc}]/u.test(path)) return 'it holds a backslash, a space or a control character';
  const segments = path.slice(1).split('/');
  const routes = GRAPH_WRITES.filter(([m]) => m === method);
  if (!routes.length) return `${JSON.stringify(method)} is not a method apply writes with`;
  for (const [, route] of routes) {
    const parts = route.slice(1).split('/');
    if (parts.length !== segments.length || parts.some((part, i) => part !== '{id}' && part !== segments[i])) continue;
    return parts.map((part, i) => (part === '{id}' ? idSegmentProblem(segments[i]!) : undefined)).find((p) => p !== undefined);
  }
  const dots = segments.find((seg) => seg === '.' || seg === '..' || /^(%2e|\.){1,2}$/i.test(seg));
  if (dots !== undefined) return `it holds the dot segment "${dots}"`;
  if (segments.includes('')) return 'it holds a doubled slash';
  return `${method} ${JSON.stringify(path)} is not a write apply makes`;
}

/** SHA-256 of a live value in canonical JSON, OData annotations left out: the same state always has the same fingerprint. */
export const fingerprintOf = (live: unknown) => sha256(canonicalJson(withoutAnnotations(live ?? null)));

/** Turns the remediable findings of a plan into writes. Findings apply may not touch give none. */
export function plannedChanges(findings: readonly Finding[], manifest: Manifest, live: LiveState, dir: Directory): PlannedChange[] {
  const out: PlannedChange[] = [];
  for (const f of findings) {
    if (!f.change.automatic || f.change.action === 'none') continue;
    const write = writeFor(f, manifest, live, dir);
    if (!write) continue;
    out.push({
      findingId: f.id,
      control: f.control.versionedId,
      resource: f.resource,
      action: f.change.action,
      fingerprint: fingerprintOf(f.evidence.live),
      readAt: f.evidence.readAt,
      write,
      before: f.evidence.live,
    });
  }
  return out;
}

function writeFor(f: Finding, m: Manifest, live: LiveState, dir: Directory): Write | undefined {
  const r = f.resource;
  switch (r.type) {
    case 'conditionalAccessPolicy': {
      const desired = m.desired.conditionalAccess?.policies.find((p) => p.displayName === r.name);
      if (!desired) return undefined;
      if (f.change.action === 'create') return { api: 'graph', method: 'POST', path: '/identity/conditionalAccess/policies', body: resolvePolicy(desired, dir).body };
      // Written over the live policy: declared exclusions it does not hold stay out, so the write never loosens it.
      const current = live.caPolicies?.ok ? live.caPolicies.value.find((p) => String(p['id']) === String(r.id)) : undefined;
      const body = resolvePolicy(desired, dir, { ...(current ? { live: current } : {}), breakGlass: m.breakGlass }).body;
      const changed = new Set(f.patch.map((op) => op.path.split('/')[1]!).filter(Boolean));
      const partial = Object.fromEntries(Object.entries(body).filter(([k]) => changed.has(k)));
      return { api: 'graph', method: 'PATCH', path: `/identity/conditionalAccess/policies/${encodeURIComponent(String(r.id))}`, body: partial };
    }
    case 'authorizationPolicy': {
      if (f.control.id === 'APP.CONSENT.3') return { api: 'graph', method: 'PATCH', path: '/policies/authorizationPolicy', body: { defaultUserRolePermissions: { allowedToCreateApps: false } } };
      const current = ((live.authorizationPolicy?.ok ? live.authorizationPolicy.value['permissionGrantPolicyIdsAssignedToDefaultUserRole'] : undefined) as string[] | undefined) ?? [];
      const keep = current.filter((a) => !/^ManagePermissionGrantsForSelf\./i.test(a));
      return { api: 'graph', method: 'PATCH', path: '/policies/authorizationPolicy', body: { permissionGrantPolicyIdsAssignedToDefaultUserRole: [...keep, ...USER_CONSENT_POLICIES[m.desired.consent!.userConsent]] } };
    }
    case 'adminConsentRequestPolicy': {
      const w = m.desired.consent!.adminConsentWorkflow;
      const reviewers = w.reviewers.map((ref) => {
        if (ref.startsWith('user:')) return { query: `/users/${String(dir.userByUpn(ref.slice(5))?.['id'] ?? ref)}`, queryType: 'MicrosoftGraph', queryRoot: null };
        return { query: `/groups/${String(dir.groupByName(ref.slice(6))?.['id'] ?? ref)}/transitiveMembers/microsoft.graph.user`, queryType: 'MicrosoftGraph', queryRoot: null };
      });
      return { api: 'graph', method: 'PUT', path: '/policies/adminConsentRequestPolicy', body: { isEnabled: true, notifyReviewers: w.notifyReviewers, remindersEnabled: w.remindersEnabled, requestDurationInDays: w.requestDurationInDays, reviewers } };
    }
    case 'oauth2PermissionGrant':
      return { api: 'graph', method: 'DELETE', path: `/oauth2PermissionGrants/${encodeURIComponent(String(r.id))}` };
    case 'appRoleAssignment': {
      const resourceId = (f.evidence.live as Obj | null)?.['resourceId'];
      return typeof resourceId === 'string' ? { api: 'graph', method: 'DELETE', path: `/servicePrincipals/${encodeURIComponent(resourceId)}/appRoleAssignedTo/${encodeURIComponent(String(r.id))}` } : undefined;
    }
    case 'inboxRule': {
      const userId = (f.evidence.endpoint.match(/^\/users\/([^/]+)\//) ?? [])[1];
      return userId ? { api: 'graph', method: 'DELETE', path: `/users/${userId}/mailFolders/inbox/messageRules/${encodeURIComponent(String(r.id))}` } : undefined;
    }
    case 'hostedOutboundSpamFilterPolicy':
      return { api: 'exchange', cmdlet: 'Set-HostedOutboundSpamFilterPolicy', parameters: { Identity: r.name, AutoForwardingMode: 'Off' } };
    case 'remoteDomain':
      return { api: 'exchange', cmdlet: 'Set-RemoteDomain', parameters: { Identity: String((f.evidence.live as Obj)['Identity']), AutoForwardEnabled: false } };
    case 'mailbox':
      return { api: 'exchange', cmdlet: 'Set-Mailbox', parameters: { Identity: r.name, ForwardingSmtpAddress: null, ForwardingAddress: null, DeliverToMailboxAndForward: false } };
    case 'antiPhishPolicy': {
      const a = m.desired.inbound!.antiPhish;
      return { api: 'exchange', cmdlet: 'Set-AntiPhishPolicy', parameters: { Identity: r.name, HonorDmarcPolicy: true, DmarcRejectAction: a.dmarcRejectAction, DmarcQuarantineAction: a.dmarcQuarantineAction } };
    }
    case 'dkimSigningConfig':
      return f.change.action === 'create'
        ? { api: 'exchange', cmdlet: 'New-DkimSigningConfig', parameters: { DomainName: r.name, Enabled: true } }
        : { api: 'exchange', cmdlet: 'Set-DkimSigningConfig', parameters: { Identity: r.name, Enabled: true } };
    case 'transportRule':
      return { api: 'exchange', cmdlet: 'Disable-TransportRule', parameters: { Identity: r.name, Confirm: false } };
    default:
      return undefined;
  }
}
