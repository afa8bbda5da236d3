import type { GroupMemberships, RoleHolders } from '../model/live.js';
import { membershipOf, recipientOfMailbox, type Recipient } from './effective-policy.js';

type Obj = Record<string, unknown>;

/** A set of recipients a threat protection control judges by their effective policies. */
export interface Population {
  /** `everyone`, `privileged` or `group:<name>`. */
  readonly key: string;
  /** How messages name it: `everyone`, `privileged`, `high-value group "Finance"`. */
  readonly title: string;
  readonly members: Recipient[];
  /** Set when whom it holds is not known (a high-value group that is no group of the directory). */
  readonly unknown?: string;
}

export interface PopulationInputs {
  /** Graph users (id, userPrincipalName, displayName, accountEnabled). */
  readonly users: readonly Obj[];
  /** Get-Mailbox. */
  readonly mailboxes: readonly Obj[];
  readonly roleHolders: RoleHolders;
  readonly memberships: GroupMemberships;
  /** The privileged role template ids. */
  readonly roles: readonly string[];
  readonly highValueGroups: readonly string[];
}

/**
 * The populations: everyone (every enabled user with a user mailbox), the privileged (holders of
 * the privileged roles among them) and each declared high-value group (its members among them,
 * through nested groups). Linear in users and mailboxes; no read of its own.
 */
export function populationsOf(i: PopulationInputs): Population[] {
  const users = new Map(i.users.filter((u) => typeof u['id'] === 'string').map((u) => [String(u['id']).toLowerCase(), u] as const));
  const everyone: Recipient[] = [];
  const byId = new Map<string, Recipient>();
  for (const m of i.mailboxes) {
    const type = String(m['RecipientTypeDetails'] ?? 'UserMailbox').toLowerCase();
    if (type !== 'usermailbox') continue;
    const user = users.get(String(m['ExternalDirectoryObjectId'] ?? '').toLowerCase());
    if (!user || user['accountEnabled'] === false) continue;
    const r = recipientOfMailbox(m, typeof user['displayName'] === 'string' ? user['displayName'] : undefined);
    if (!r || byId.has(r.id)) continue;
    everyone.push(r);
    byId.set(r.id, r);
  }
  const pick = (ids: Iterable<string>) => {
    const seen = new Set<string>();
    const out: Recipient[] = [];
    for (const id of ids) {
      const r = byId.get(id.toLowerCase());
      if (r && !seen.has(r.id)) {
        seen.add(r.id);
        out.push(r);
      }
    }
    return out;
  };
  const out: Population[] = [{ key: 'everyone', title: 'everyone', members: everyone }];
  out.push({ key: 'privileged', title: 'privileged', members: pick(i.roles.flatMap((r) => i.roleHolders.byRole[r.toLowerCase()] ?? [])) });
  const membership = membershipOf(i.memberships);
  for (const g of i.highValueGroups) {
    const members = membership(g);
    out.push({ key: `group:${g}`, title: `high-value group "${g}"`, members: members ? pick(members) : [], ...(members ? {} : { unknown: `"${g}" is no group of the directory` }) });
  }
  return out;
}
