import { P } from '../../policies/permissions.js';
import type { Manifest } from '../manifest/schema.js';
import type { RoleHolders } from '../model/live.js';
import type { Obj, ResourceType } from './types.js';

const q = (s: string) => encodeURIComponent(s.replace(/'/g, "''"));

/** The posture's privileged roles: those its conditional access declares, or else the threat protection construct's own list. */
export function privilegedRolesOf(m: Manifest): string[] {
  const ca = m.desired.conditionalAccess?.privilegedRoles ?? [];
  return [...new Set((ca.length ? ca : (m.desired.threatProtection?.populations.privilegedRoles ?? [])).map((r) => r.toLowerCase()))];
}

const KNOWN = ['#microsoft.graph.user', '#microsoft.graph.group', '#microsoft.graph.serviceprincipal'];

/**
 * Who holds the posture's privileged roles, actively or as eligible through Privileged Identity
 * Management (an eligible admin is one activation away from the role): one roleAssignments and one
 * roleEligibilitySchedules read per role (with the holder expanded), and the members of a role-assignable group holding one, through nested groups.
 * A holder whose type the answer does not say fails the read: it could be a group of many. Read
 * only when the posture declares threat protection. Read-only.
 */
export const directoryRoleAssignment: ResourceType = {
  key: 'directoryRoleAssignment',
  title: 'holders of the privileged roles',
  read: {
    section: 'privilegedRoleHolders',
    permissions: [P.roleRead, P.groupRead],
    when: (_live, m) => !!m.desired.threatProtection,
    how: {
      kind: 'custom',
      endpoint: '/roleManagement/directory/roleAssignments',
      async run(ctx, _live, m) {
        const endpoint = '/roleManagement/directory/roleAssignments';
        const readAt = new Date().toISOString();
        const byRole: Record<string, string[]> = {};
        const groupMembers = new Map<string, Promise<string[]>>();
        const membersOf = (id: string) => {
          if (!groupMembers.has(id)) groupMembers.set(id, ctx.graph.list<Obj>(`/groups/${encodeURIComponent(id)}/transitiveMembers?$select=id`).then((ms) => ms.filter((x) => String(x['@odata.type'] ?? '#microsoft.graph.user').toLowerCase() === '#microsoft.graph.user').map((x) => String(x['id']).toLowerCase())));
          return groupMembers.get(id)!;
        };
        for (const role of privilegedRolesOf(m)) {
          const assignments = (
            await Promise.all([
              ctx.graph.list<Obj>(`/roleManagement/directory/roleAssignments?$filter=roleDefinitionId eq '${q(role)}'&$expand=principal`),
              // A tenant without Entra ID P2 has no Privileged Identity Management, so no eligible holder; any other failure fails the read.
              ctx.graph.list<Obj>(`/roleManagement/directory/roleEligibilitySchedules?$filter=roleDefinitionId eq '${q(role)}'&$expand=principal`).catch((err: unknown) => {
                if (err instanceof Error && /licen[cs]e|premium|\bP2\b/i.test(err.message)) return [] as Obj[];
                throw err;
              }),
            ])
          ).flat();
          const holders = new Set<string>();
          for (const a of assignments) {
            const principal = a['principal'];
            // A deleted holder holds it for no one.
            if (principal === null || principal === undefined) continue;
            const type = String((principal as Obj)['@odata.type'] ?? '').toLowerCase();
            if (!KNOWN.includes(type)) throw new Error(`a holder of role ${role} (principal ${String(a['principalId'])}) came back without a known type`);
            const id = String(a['principalId']).toLowerCase();
            if (type === '#microsoft.graph.user') holders.add(id);
            if (type === '#microsoft.graph.group') for (const u of await membersOf(id)) holders.add(u);
          }
          byRole[role] = [...holders];
        }
        const value: RoleHolders = { byRole };
        return { ok: true, value, endpoint, readAt };
      },
    },
  },
};
