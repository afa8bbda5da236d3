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

/**
 * Reads what one respond run needs: the signals of the sources the policy's rules name since
 * `since` (Defender alerts, risk detections, risky users at risk), the directory (users, the active
 * assignments of the privileged roles, the members of the groups the tiers and break-glass name) and
 * which mailboxes are shared. A read that fails is listed, never taken as empty.
 */
export async function readResponseInputs(
  policy: ResponsePolicy,
  breakGlassGroups: readonly string[],
  conn: { readonly graph: GraphTransport; readonly exchange: ExchangeTransport },
  since: string,
  files: readonly SignalFile[] = [],
): Promise<ResponseInputs> {
  const incomplete: IncompleteRead[] = [];
  const attempt = async <T>(what: string, endpoint: string, read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await read();
    } catch (err) {
      const failed = readFailed(endpoint, err);
      if (!failed.ok) incomplete.push({ what, endpoint, error: failed.reason === 'permission-missing' ? `permission missing: ${failed.error}` : failed.reason === 'licence-missing' ? `licence missing: ${failed.error}` : failed.error });
      return undefined;
    }
  };
  const sources = new Set(policy.signals.map((r) => r.source));
  const groupNames = [...new Set([...policy.tiers.highValueGroups, ...policy.tiers.serviceAccounts.groups, ...breakGlassGroups])];

  const [alerts, detections, risky, users, roles, groups, shared] = await Promise.all([
    sources.has('defenderAlert') ? attempt('Defender alerts', '/security/alerts_v2', () => conn.graph.list<Obj>(`/security/alerts_v2?$filter=createdDateTime ge ${since}`)) : [],
    sources.has('riskDetection') ? attempt('risk detections', '/identityProtection/riskDetections', () => conn.graph.list<Obj>(`/identityProtection/riskDetections?$filter=detectedDateTime ge ${since}`)) : [],
    sources.has('riskyUser') ? attempt('risky users', '/identityProtection/riskyUsers', () => conn.graph.list<Obj>(`/identityProtection/riskyUsers?$filter=riskState eq 'atRisk'`)) : [],
    attempt('users', '/users', () => conn.graph.list<Obj>('/users?$select=id,userPrincipalName,displayName,accountEnabled&$top=999')),
    attempt('privileged role assignments', '/roleManagement/directory/roleAssignments', async () =>
      (await Promise.all(policy.tiers.privilegedRoles.map((r) => conn.graph.list<Obj>(`/roleManagement/directory/roleAssignments?$filter=roleDefinitionId eq '${q(r)}'`)))).flat(),
    ),
    attempt('members of the tier and break-glass groups', '/groups/{id}/members', async () => {
      const out = new Map<string, string[]>();
      for (const name of groupNames) {
        const found = await conn.graph.list<Obj>(`/groups?$filter=displayName eq '${q(name)}'&$select=id,displayName`);
        if (found.length !== 1) throw new Error(`group "${name}" ${found.length === 0 ? 'does not exist' : `is the name of ${found.length} groups`} in the tenant`);
        const members = await conn.graph.list<Obj>(`/groups/${encodeURIComponent(String(found[0]!['id']))}/members?$select=id`);
        out.set(name.toLowerCase(), members.map((m) => String(m['id']).toLowerCase()));
      }
      return out;
    }),
    attempt('shared mailboxes', 'Exchange Get-Mailbox', () => conn.exchange.invoke<Obj>('Get-Mailbox', { RecipientTypeDetails: 'SharedMailbox', ResultSize: 'Unlimited' })),
  ]);

  const signals: Signal[] = [
    ...(alerts ?? []).map(fromDefenderAlert),
    ...(detections ?? []).map(fromRiskDetection),
    ...(risky ?? []).filter((u) => Date.parse(String(u['riskLastUpdatedDateTime'] ?? '')) >= Date.parse(since)).map(fromRiskyUser),
    ...files.flatMap(fromSignalFile),
  ].filter((s): s is Signal => !!s);

  const rolesOf = new Map<string, string[]>();
  for (const a of roles ?? []) {
    const p = String(a['principalId']).toLowerCase();
    rolesOf.set(p, [...(rolesOf.get(p) ?? []), String(a['roleDefinitionId'])]);
  }
  const sharedIds = new Set((shared ?? []).map((m) => String(m['ExternalDirectoryObjectId'] ?? '').toLowerCase()).filter(Boolean));
  const sharedUpns = new Set((shared ?? []).map((m) => String(m['UserPrincipalName'] ?? m['PrimarySmtpAddress'] ?? '').toLowerCase()).filter(Boolean));
  const identities: Identity[] = (users ?? [])
    .filter((u) => typeof u['id'] === 'string' && typeof u['userPrincipalName'] === 'string')
    .map((u) => {
      const id = String(u['id']);
      const upn = String(u['userPrincipalName']);
      const memberOf = [...(groups ?? new Map<string, string[]>()).entries()].filter(([, ids]) => ids.includes(id.toLowerCase())).map(([g]) => groupNames.find((n) => n.toLowerCase() === g)!);
      const isShared = sharedIds.has(id.toLowerCase()) || sharedUpns.has(upn.toLowerCase());
      return {
        id,
        upn,
        ...(typeof u['displayName'] === 'string' ? { displayName: u['displayName'] } : {}),
        roles: rolesOf.get(id.toLowerCase()) ?? [],
        groups: memberOf,
        recipientType: isShared ? 'SharedMailbox' : 'UserMailbox',
      };
    });
  return { signals, identities, userCount: identities.length, incomplete };
}
