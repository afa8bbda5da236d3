import type { ResponsePolicy } from '../manifest/response.js';
import type { IncompleteRead } from '../model/finding.js';
import { readFailed } from '../read/failed.js';
import type { ExchangeTransport } from '../transport/exchange.js';
import type { GraphTransport } from '../transport/graph.js';
import type { Identity } from './decide.js';
import { fromDefenderAlert, fromRiskDetection, fromRiskyUser, fromSignalFile, type Signal, type SignalFile } from './signals.js';

type Obj = Record<string, unknown>;

/** What respond read: the signals since the cursor, the identities they may name, and what could not be read. */
export interface ResponseInputs {
  readonly signals: Signal[];
  readonly identities: Identity[];
  readonly userCount: number;
  /** Reads that failed: respond acts on nothing when any did. */
  readonly incomplete: IncompleteRead[];
}

const q = (s: string) => encodeURIComponent(s.replace(/'/g, "''"));

type Attempt = <T>(what: string, endpoint: string, read: () => Promise<T>) => Promise<T | undefined>;

/** Runs reads, listing each that fails (never taking it as empty). */
function attempts(): { attempt: Attempt; incomplete: IncompleteRead[] } {
  const incomplete: IncompleteRead[] = [];
  const attempt: Attempt = async (what, endpoint, read) => {
    try {
      return await read();
    } catch (err) {
      const failed = readFailed(endpoint, err);
      if (!failed.ok) incomplete.push({ what, endpoint, error: failed.reason === 'permission-missing' ? `permission missing: ${failed.error}` : failed.reason === 'licence-missing' ? `licence missing: ${failed.error}` : failed.error });
      return undefined;
    }
  };
  return { attempt, incomplete };
}

/** The directory respond tiers identities by, and what of it could not be read. */
export interface Directory {
  readonly identities: Identity[];
  readonly incomplete: IncompleteRead[];
}

/**
 * Reads the directory as respond tiers it: every user; who holds a privileged role, actively or as
 * eligible to activate it (PIM), directly or through a role-assignable group; the members of the
 * groups the tiers and break-glass name, through nested groups; and which mailboxes are shared.
 * The same read places identities when a response is planned and again when one is approved.
 */
export async function readDirectory(policy: ResponsePolicy, breakGlassGroups: readonly string[], conn: { readonly graph: GraphTransport; readonly exchange: ExchangeTransport }, run: { attempt: Attempt; incomplete: IncompleteRead[] } = attempts()): Promise<Directory> {
  const { attempt } = run;
  const groupNames = [...new Set([...policy.tiers.highValueGroups, ...policy.tiers.serviceAccounts.groups, ...breakGlassGroups])];
  const assignments = (path: string) => async () =>
    (await Promise.all(policy.tiers.privilegedRoles.map((r) => conn.graph.list<Obj>(`${path}?$filter=roleDefinitionId eq '${q(r)}'&$expand=principal`)))).flat();
  const [users, active, eligible, groups, shared] = await Promise.all([
    attempt('users', '/users', () => conn.graph.list<Obj>('/users?$select=id,userPrincipalName,displayName,mail,accountEnabled&$top=999')),
    attempt('privileged role assignments', '/roleManagement/directory/roleAssignments', assignments('/roleManagement/directory/roleAssignments')),
    attempt('privileged role eligibilities', '/roleManagement/directory/roleEligibilitySchedules', assignments('/roleManagement/directory/roleEligibilitySchedules')),
    attempt('members of the tier and break-glass groups', '/groups/{id}/transitiveMembers', async () => {
      const out = new Map<string, Set<string>>();
      for (const name of groupNames) {
        const found = await conn.graph.list<Obj>(`/groups?$filter=displayName eq '${q(name)}'&$select=id,displayName`);
        if (found.length !== 1) throw new Error(`group "${name}" ${found.length === 0 ? 'does not exist' : `is the name of ${found.length} groups`} in the tenant`);
        out.set(name, await transitiveMembers(conn.graph, String(found[0]!['id'])));
      }
      return out;
    }),
    attempt('shared mailboxes', 'Exchange Get-Mailbox', () => conn.exchange.invoke<Obj>('Get-Mailbox', { RecipientTypeDetails: 'SharedMailbox', ResultSize: 'Unlimited' })),
  ]);
  // A role held by a group (role-assignable) is held by each of its members; one held by an application is no user's.
  const principals = [...(active ?? []), ...(eligible ?? [])].filter((a) => typeof a['principalId'] === 'string' && typeof a['roleDefinitionId'] === 'string');
  const typeOf = (a: Obj) => String((a['principal'] && typeof a['principal'] === 'object' ? (a['principal'] as Obj)['@odata.type'] : '') ?? '').toLowerCase();
  // A holder of a privileged role whose type the answer does not say could be a group of many: never guess.
  const KNOWN = ['#microsoft.graph.user', '#microsoft.graph.group', '#microsoft.graph.serviceprincipal'];
  const untyped = principals.filter((a) => a['principal'] !== null && !KNOWN.includes(typeOf(a)));
  if (untyped.length) {
    run.incomplete.push({
      what: 'privileged role holders',
      endpoint: '/roleManagement/directory/roleAssignments',
      error: `${untyped.length} holder${untyped.length === 1 ? '' : 's'} of a privileged role came back without a known type (principal ${String(untyped[0]!['principalId'])}), so no one's tier can be trusted`,
    });
  }
  const groupPrincipals = [...new Set(principals.filter((a) => typeOf(a) === '#microsoft.graph.group').map((a) => String(a['principalId']).toLowerCase()))];
  const viaGroup = await attempt('members of groups holding a privileged role', '/groups/{id}/transitiveMembers', async () => {
    const out = new Map<string, Set<string>>();
    for (const g of groupPrincipals) out.set(g, await transitiveMembers(conn.graph, g));
    return out;
  });
  const rolesOf = new Map<string, Set<string>>();
  for (const a of principals) {
    const p = String(a['principalId']).toLowerCase();
    // A deleted holder (principal null) and an application hold it for no user.
    const t = typeOf(a);
    const holders = t === '#microsoft.graph.group' ? [...(viaGroup?.get(p) ?? [])] : t === '#microsoft.graph.user' ? [p] : [];
    for (const holder of holders) rolesOf.set(holder, (rolesOf.get(holder) ?? new Set()).add(String(a['roleDefinitionId'])));
  }
  const sharedIds = new Set((shared ?? []).map((m) => String(m['ExternalDirectoryObjectId'] ?? '').toLowerCase()).filter(Boolean));
  const sharedUpns = new Set((shared ?? []).map((m) => String(m['UserPrincipalName'] ?? m['PrimarySmtpAddress'] ?? '').toLowerCase()).filter(Boolean));
  const memberOf = new Map<string, string[]>();
  for (const [name, ids] of groups ?? new Map<string, Set<string>>()) for (const id of ids) memberOf.set(id, [...(memberOf.get(id) ?? []), name]);
  const identities: Identity[] = (users ?? [])
    .filter((u) => typeof u['id'] === 'string' && typeof u['userPrincipalName'] === 'string')
    .map((u) => {
      const id = String(u['id']);
      const upn = String(u['userPrincipalName']);
      const isShared = sharedIds.has(id.toLowerCase()) || sharedUpns.has(upn.toLowerCase());
      return {
        id,
        upn,
        ...(typeof u['displayName'] === 'string' ? { displayName: u['displayName'] } : {}),
        ...(typeof u['mail'] === 'string' && u['mail'] ? { mail: u['mail'] } : {}),
        roles: [...(rolesOf.get(id.toLowerCase()) ?? [])],
        groups: memberOf.get(id.toLowerCase()) ?? [],
        recipientType: isShared ? 'SharedMailbox' : 'UserMailbox',
      };
    });
  return { identities, incomplete: run.incomplete };
}

/** The object ids (lower case) of a group's members, through nested groups. */
async function transitiveMembers(graph: GraphTransport, groupId: string): Promise<Set<string>> {
  const members = await graph.list<Obj>(`/groups/${encodeURIComponent(groupId)}/transitiveMembers?$select=id`);
  return new Set(members.map((m) => String(m['id']).toLowerCase()));
}

/**
 * Reads what one respond run needs: the signals of the sources the policy's rules name since
 * `since` (Defender alerts changed since then, risk detections, risky users at risk) and the
 * directory (readDirectory). A read that fails is listed, never taken as empty.
 */
export async function readResponseInputs(
  policy: ResponsePolicy,
  breakGlassGroups: readonly string[],
  conn: { readonly graph: GraphTransport; readonly exchange: ExchangeTransport },
  since: string,
  files: readonly SignalFile[] = [],
): Promise<ResponseInputs> {
  const run = attempts();
  const { attempt } = run;
  const sources = new Set(policy.signals.map((r) => r.source));
  const [alerts, detections, risky, directory] = await Promise.all([
    // By when an alert last changed: one raised to a higher severity since is judged again.
    sources.has('defenderAlert') ? attempt('Defender alerts', '/security/alerts_v2', () => conn.graph.list<Obj>(`/security/alerts_v2?$filter=lastUpdateDateTime ge ${since}`)) : [],
    sources.has('riskDetection') ? attempt('risk detections', '/identityProtection/riskDetections', () => conn.graph.list<Obj>(`/identityProtection/riskDetections?$filter=detectedDateTime ge ${since}`)) : [],
    sources.has('riskyUser') ? attempt('risky users', '/identityProtection/riskyUsers', () => conn.graph.list<Obj>(`/identityProtection/riskyUsers?$filter=riskState eq 'atRisk'`)) : [],
    readDirectory(policy, breakGlassGroups, conn, run),
  ]);

  const signals: Signal[] = [
    ...(alerts ?? []).map(fromDefenderAlert),
    ...(detections ?? []).map(fromRiskDetection),
    ...(risky ?? []).filter((u) => Date.parse(String(u['riskLastUpdatedDateTime'] ?? '')) >= Date.parse(since)).map(fromRiskyUser),
    ...files.flatMap(fromSignalFile),
  ].filter((s): s is Signal => !!s);
  return { signals, identities: directory.identities, userCount: directory.identities.length, incomplete: run.incomplete };
}
