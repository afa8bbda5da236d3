import { MAIL_API_APP_IDS } from '../../policies/catalogue.js';
import { sendsToManager } from '../checks/recipients.js';
import type { TxtResolver } from '../dns/lookup.js';
import type { Manifest } from '../manifest/schema.js';
import { ExchangeError, type ExchangeTransport } from '../transport/exchange.js';
import { GraphError, type GraphTransport } from '../transport/graph.js';
import { nextLinkFormProblem } from '../transport/middleware.js';
import { readDns, type DomainDns } from './dns.js';

type Obj = Record<string, unknown>;

/**
 * One part of the live tenant as read, or why it could not be read. A failed section is never
 * treated as empty: checks that need it report `not-evaluated`, and the run is incomplete.
 */
export type Section<T> =
  | { readonly ok: true; readonly value: T; readonly endpoint: string; readonly readAt: string }
  | {
      readonly ok: false;
      readonly endpoint: string;
      readonly readAt: string;
      readonly error: string;
      readonly reason: 'permission-missing' | 'licence-missing' | 'read-failed';
      readonly permission?: string;
      /** For `licence-missing`: the plan the tenant lacks. */
      readonly licence?: string;
    };

export interface MailboxRef {
  readonly id: string;
  readonly upn: string;
}

/** Application permissions to the mail APIs: their service principals (with app roles) and the assignments granted for them. */
export interface AppPermissions {
  readonly resources: readonly Obj[];
  readonly assignments: readonly Obj[];
}

export interface InboxRules {
  readonly mailboxes: number;
  readonly rules: ReadonlyArray<{ readonly mailbox: MailboxRef; readonly rule: Obj }>;
}

/** The live tenant, section by section. A section is absent when no declared control needs it. */
export interface LiveState {
  users?: Section<Obj[]>;
  groups?: Section<Obj[]>;
  domains?: Section<Obj[]>;
  caPolicies?: Section<Obj[]>;
  authorizationPolicy?: Section<Obj>;
  adminConsentRequestPolicy?: Section<Obj>;
  grants?: Section<Obj[]>;
  servicePrincipals?: Section<Obj[]>;
  outboundSpam?: Section<Obj[]>;
  contentFilter?: Section<Obj[]>;
  remoteDomains?: Section<Obj[]>;
  transportRules?: Section<Obj[]>;
  mailboxes?: Section<Obj[]>;
  antiPhish?: Section<Obj[]>;
  dkim?: Section<Obj[]>;
  acceptedDomains?: Section<Obj[]>;
  mailContacts?: Section<Obj[]>;
  mailUsers?: Section<Obj[]>;
  /** Get-User, read only when a transport rule sends mail to the sender's manager. */
  exchangeUsers?: Section<Obj[]>;
  appPermissions?: Section<AppPermissions>;
  inboxRules?: Section<InboxRules>;
  dns?: Map<string, DomainDns>;
}

export interface ReadContext {
  readonly graph: GraphTransport;
  readonly exchange: ExchangeTransport;
  readonly resolver: TxtResolver & { resolveCname(name: string): Promise<string[]> };
  /** Called as the per-mailbox scan goes (done, total). */
  readonly progress?: (done: number, total: number) => void;
  /** $batch requests in flight at once for the mailbox scan. @default 12 */
  readonly batchConcurrency?: number;
}

/** The permission a Graph path needs, named in `not-evaluated` findings. */
const GRAPH_PERMISSION: Array<[RegExp, string]> = [
  [/conditionalAccess|authorizationPolicy|adminConsentRequestPolicy/i, 'Policy.Read.All'],
  [/permissionGrantPolicies/i, 'Policy.Read.PermissionGrant'],
  [/oauth2PermissionGrants/i, 'DelegatedPermissionGrant.Read.All'],
  [/servicePrincipals/i, 'Application.Read.All'],
  [/messageRules/i, 'MailboxSettings.Read'],
  [/^\/?users/i, 'User.Read.All'],
  [/^\/?groups/i, 'Group.Read.All'],
  [/^\/?domains/i, 'Domain.Read.All'],
];

const now = () => new Date().toISOString();

/** How Graph says the tenant lacks the plan a feature needs (Entra ID P1 for conditional access, P2 for Identity Protection). */
const LICENCE_MISSING = /^Authentication_RequestFromNonPremiumTenantOrB2CTenant$|premium licen[cs]e|SKU required/i;
const LICENCE_OF: ReadonlyArray<readonly [RegExp, string]> = [
  [/^\/identityProtection\//, 'Microsoft Entra ID P2'],
  [/^\/identity\/conditionalAccess\//, 'Microsoft Entra ID P1'],
];

function failed(endpoint: string, err: unknown): Section<never> {
  const readAt = now();
  if (err instanceof GraphError && err.status === 403 && (LICENCE_MISSING.test(err.code) || LICENCE_MISSING.test(err.message))) {
    const licence = LICENCE_OF.find(([re]) => re.test(endpoint))?.[1] ?? 'a premium licence';
    return { ok: false, endpoint, readAt, reason: 'licence-missing', error: `the tenant has no ${licence} (${err.message})`, licence };
  }
  if (err instanceof GraphError && err.status === 403) {
    const permission = GRAPH_PERMISSION.find(([re]) => re.test(endpoint))?.[1];
    return { ok: false, endpoint, readAt, reason: 'permission-missing', error: err.message, ...(permission ? { permission } : {}) };
  }
  if (err instanceof ExchangeError && err.status === 403) {
    return { ok: false, endpoint, readAt, reason: 'permission-missing', error: err.message, permission: 'Exchange.ManageAsApp with the Global Reader role' };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { ok: false, endpoint, readAt, reason: 'read-failed', error: message };
}

async function graphList(ctx: ReadContext, path: string): Promise<Section<Obj[]>> {
  try {
    return { ok: true, value: await ctx.graph.list<Obj>(path), endpoint: path, readAt: now() };
  } catch (err) {
    return failed(path, err);
  }
}

async function graphGet(ctx: ReadContext, path: string): Promise<Section<Obj>> {
  try {
    return { ok: true, value: await ctx.graph.call<Obj>('GET', path), endpoint: path, readAt: now() };
  } catch (err) {
    return failed(path, err);
  }
}

async function cmdlet(ctx: ReadContext, name: string, parameters: Obj = {}): Promise<Section<Obj[]>> {
  const endpoint = `Exchange ${name}`;
  try {
    return { ok: true, value: await ctx.exchange.invoke<Obj>(name, parameters), endpoint, readAt: now() };
  } catch (err) {
    return failed(endpoint, err);
  }
}

/** Which sections the declared areas need. */
export function sectionsFor(m: Manifest): Set<keyof LiveState> {
  const s = new Set<keyof LiveState>(['users', 'groups']);
  const d = m.desired;
  if (d.senderAuthentication) ['domains', 'dkim', 'acceptedDomains', 'dns'].forEach((k) => s.add(k as keyof LiveState));
  if (d.inbound) ['antiPhish', 'transportRules', 'contentFilter'].forEach((k) => s.add(k as keyof LiveState));
  if (d.forwarding) ['outboundSpam', 'remoteDomains', 'mailboxes', 'transportRules', 'acceptedDomains', 'mailContacts', 'mailUsers', 'inboxRules'].forEach((k) => s.add(k as keyof LiveState));
  if (d.conditionalAccess) s.add('caPolicies');
  if (d.consent) ['authorizationPolicy', 'adminConsentRequestPolicy', 'grants', 'servicePrincipals', 'appPermissions'].forEach((k) => s.add(k as keyof LiveState));
  return s;
}

/**
 * Reads every section the posture needs, each collection once, with `$select` where the API has it.
 * Sections are read concurrently; the paced endpoints pace themselves in the transport.
 */
export async function readTenant(m: Manifest, ctx: ReadContext): Promise<LiveState> {
  const need = sectionsFor(m);
  const live: LiveState = {};
  const jobs: Array<Promise<void>> = [];
  const add = <K extends keyof LiveState>(key: K, read: () => Promise<LiveState[K]>) => {
    if (need.has(key)) jobs.push(read().then((v) => void (live[key] = v)));
  };
  add('users', () => graphList(ctx, '/users?$select=id,userPrincipalName,displayName,accountEnabled,mail&$top=999'));
  add('groups', () => graphList(ctx, '/groups?$select=id,displayName,mail,securityEnabled,mailEnabled&$top=999'));
  add('domains', () => graphList(ctx, '/domains'));
  add('caPolicies', () => graphList(ctx, '/identity/conditionalAccess/policies'));
  add('authorizationPolicy', () => graphGet(ctx, '/policies/authorizationPolicy'));
  add('adminConsentRequestPolicy', () => graphGet(ctx, '/policies/adminConsentRequestPolicy'));
  add('grants', () => graphList(ctx, '/oauth2PermissionGrants?$top=999'));
  add('servicePrincipals', () => graphList(ctx, '/servicePrincipals?$select=id,appId,displayName,publisherName,verifiedPublisher,appOwnerOrganizationId,servicePrincipalType&$top=999'));
  add('appPermissions', () => readAppPermissions(ctx));
  add('outboundSpam', () => cmdlet(ctx, 'Get-HostedOutboundSpamFilterPolicy'));
  add('contentFilter', () => cmdlet(ctx, 'Get-HostedContentFilterPolicy'));
  add('remoteDomains', () => cmdlet(ctx, 'Get-RemoteDomain'));
  add('transportRules', async () => {
    const rules = await cmdlet(ctx, 'Get-TransportRule');
    // A rule that sends mail to the sender's manager reaches whoever the managers are: read them then.
    if (m.desired.forwarding && rules.ok && rules.value.some((r) => String(r['State']).toLowerCase() === 'enabled' && sendsToManager(r))) {
      live.exchangeUsers = await cmdlet(ctx, 'Get-User', { ResultSize: 'Unlimited' });
    }
    return rules;
  });
  add('mailContacts', () => cmdlet(ctx, 'Get-MailContact', { ResultSize: 'Unlimited' }));
  add('mailUsers', () => cmdlet(ctx, 'Get-MailUser', { ResultSize: 'Unlimited' }));
  add('antiPhish', () => cmdlet(ctx, 'Get-AntiPhishPolicy'));
  add('dkim', () => cmdlet(ctx, 'Get-DkimSigningConfig'));
  add('acceptedDomains', () => cmdlet(ctx, 'Get-AcceptedDomain'));
  if (need.has('dns')) jobs.push(readDns(m, ctx.resolver).then((v) => void (live.dns = v)));

  // Mailboxes feed the inbox-rule scan, so they are read first on their own.
  let mailboxes: Section<Obj[]> | undefined;
  if (need.has('mailboxes')) {
    mailboxes = await cmdlet(ctx, 'Get-Mailbox', { ResultSize: 'Unlimited' });
    live.mailboxes = mailboxes;
  }
  if (need.has('inboxRules')) {
    jobs.push(
      (async () => {
        if (!mailboxes?.ok) {
          live.inboxRules = { ok: false, endpoint: 'inbox rules of every mailbox', readAt: now(), reason: 'read-failed', error: 'the mailbox list could not be read' };
          return;
        }
        live.inboxRules = await readInboxRules(ctx, mailboxes.value);
      })(),
    );
  }
  await Promise.all(jobs);
  return live;
}

/**
 * The application permissions granted for the mail APIs (Microsoft Graph, Office 365 Exchange
 * Online): each API's service principal with its app roles, and every app role assignment for it.
 */
async function readAppPermissions(ctx: ReadContext): Promise<Section<AppPermissions>> {
  const endpoint = '/servicePrincipals/{id}/appRoleAssignedTo';
  try {
    const resources: Obj[] = [];
    const assignments: Obj[] = [];
    for (const appId of MAIL_API_APP_IDS) {
      const found = await ctx.graph.list<Obj>(`/servicePrincipals?$filter=${encodeURIComponent(`appId eq '${appId}'`)}&$select=id,appId,displayName,appRoles`);
      for (const sp of found) {
        resources.push(sp);
        assignments.push(...(await ctx.graph.list<Obj>(`/servicePrincipals/${encodeURIComponent(String(sp['id']))}/appRoleAssignedTo?$top=999`)));
      }
    }
    return { ok: true, value: { resources, assignments }, endpoint, readAt: now() };
  } catch (err) {
    return failed(endpoint, err);
  }
}

/**
 * The rules of one mailbox from a `$batch` item answered 200: a `value` array of rule objects, and
 * maybe an `@odata.nextLink` to the rest. Anything else is a malformed answer, never "no rules".
 */
function rulesPage(body: unknown): { value: Obj[]; next?: string } | { error: string } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { error: `the answer is ${body === null ? 'null' : Array.isArray(body) ? 'an array' : typeof body}, not a collection of rules` };
  const b = body as Obj;
  if (!Array.isArray(b['value'])) return { error: 'the answer has no value array' };
  if (!b['value'].every((r) => r !== null && typeof r === 'object' && !Array.isArray(r))) return { error: 'the value array holds something that is not a rule' };
  const next = b['@odata.nextLink'];
  if (next !== undefined && typeof next !== 'string') return { error: 'the answer has an @odata.nextLink that is not a URL' };
  // Followed through the Graph transport, which resolves a path against its own root: only an
  // absolute link is a link (`//other.example/…` is another host, not a path on Graph).
  const problem = next === undefined ? undefined : nextLinkFormProblem(next);
  if (problem) return { error: problem };
  return { value: b['value'] as Obj[], ...(next !== undefined ? { next } : {}) };
}

/**
 * Reads the inbox rules of every mailbox through Graph `$batch`, 20 mailboxes per batch, a bounded
 * number of batches in flight. A mailbox whose answer carries an `@odata.nextLink` has the rest read
 * through the Graph transport (which follows links on the Graph endpoint only). Any mailbox whose
 * rules could not be read, or whose answer is malformed, makes the section fail: a partial scan is
 * never reported as a clean one.
 */
export async function readInboxRules(ctx: ReadContext, mailboxes: readonly Obj[]): Promise<Section<InboxRules>> {
  const endpoint = '/users/{id}/mailFolders/inbox/messageRules ($batch)';
  const refs: MailboxRef[] = mailboxes
    .filter((m) => typeof m['ExternalDirectoryObjectId'] === 'string' && m['ExternalDirectoryObjectId'])
    .map((m) => ({ id: String(m['ExternalDirectoryObjectId']), upn: String(m['UserPrincipalName'] ?? m['PrimarySmtpAddress'] ?? '') }));
  const rules: Array<{ mailbox: MailboxRef; rule: Obj }> = [];
  const failures: string[] = [];
  let permissionDenied = false;
  let done = 0;
  const chunks: MailboxRef[][] = [];
  for (let i = 0; i < refs.length; i += 20) chunks.push(refs.slice(i, i + 20));
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const chunk = chunks[next++]!;
      const more: Array<{ mailbox: MailboxRef; link: string }> = [];
      try {
        const replies = await ctx.graph.batch(chunk.map((m, i) => ({ id: String(i), method: 'GET', url: `/users/${m.id}/mailFolders/inbox/messageRules` })));
        chunk.forEach((m, i) => {
          const r = replies.get(String(i));
          if (r && r.status === 200) {
            const page = rulesPage(r.body);
            if ('error' in page) {
              failures.push(`${m.upn || m.id}: malformed answer: ${page.error}`);
              return;
            }
            for (const rule of page.value) rules.push({ mailbox: m, rule });
            if (page.next !== undefined) more.push({ mailbox: m, link: page.next });
          } else if (r && r.status === 404 && (r.body as { error?: { code?: string } })?.error?.code === 'MailboxNotEnabledForRESTAPI') {
            // An inactive or on-premises mailbox has no cloud inbox rules to read.
          } else {
            if (r?.status === 403) permissionDenied = true;
            failures.push(`${m.upn || m.id}: HTTP ${r?.status ?? 0} ${(r?.body as { error?: { code?: string } })?.error?.code ?? ''}`.trim());
          }
        });
      } catch (err) {
        if (err instanceof GraphError && err.status === 403) permissionDenied = true;
        for (const m of chunk) failures.push(`${m.upn || m.id}: ${(err as Error).message}`);
      }
      for (const { mailbox, link } of more) {
        try {
          const rest = await ctx.graph.list<unknown>(link);
          const page = rulesPage({ value: rest });
          if ('error' in page) failures.push(`${mailbox.upn || mailbox.id}: malformed answer: ${page.error}`);
          else for (const rule of page.value) rules.push({ mailbox, rule });
        } catch (err) {
          if (err instanceof GraphError && err.status === 403) permissionDenied = true;
          failures.push(`${mailbox.upn || mailbox.id}: ${(err as Error).message}`);
        }
      }
      done += chunk.length;
      ctx.progress?.(done, refs.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(ctx.batchConcurrency ?? 12, Math.max(1, chunks.length)) }, worker));
  if (failures.length) {
    const error = `inbox rules of ${failures.length} of ${refs.length} mailboxes could not be read (first: ${failures[0]})`;
    return permissionDenied
      ? { ok: false, endpoint, readAt: now(), reason: 'permission-missing', permission: 'MailboxSettings.Read', error }
      : { ok: false, endpoint, readAt: now(), reason: 'read-failed', error };
  }
  return { ok: true, value: { mailboxes: refs.length, rules }, endpoint, readAt: now() };
}
