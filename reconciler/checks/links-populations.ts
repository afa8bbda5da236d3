import type { Evaluation } from '../evaluate/context.js';
import { privilegedRolesOf } from '../resources/directory-role-assignment.js';
import type { LinksPopulation } from './links-attachments.js';
import { populationsOf } from './populations.js';

/**
 * The populations MAIL.THREAT.3–5 are judged on, built from what was read (checks/populations.ts):
 * everyone, the privileged, each high-value group. Undefined when a section they come from was not
 * read; the checks then say which. Stands in until the threat protection checks share one set of
 * populations for every control of the area.
 */
export function linksPopulations(ev: Evaluation): LinksPopulation[] | undefined {
  const d = ev.manifest.desired.threatProtection;
  const { users, mailboxes, groupMemberships, privilegedRoleHolders } = ev.live;
  if (!d || !users?.ok || !mailboxes?.ok || !groupMemberships?.ok || !privilegedRoleHolders?.ok) return undefined;
  return populationsOf({
    users: users.value, mailboxes: mailboxes.value, roleHolders: privilegedRoleHolders.value, memberships: groupMemberships.value,
    roles: privilegedRolesOf(ev.manifest), highValueGroups: d.populations.highValueGroups,
  });
}
