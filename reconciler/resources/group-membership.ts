import { P } from '../../policies/permissions.js';
import type { Manifest } from '../manifest/schema.js';
import type { GroupMemberships, LiveState } from '../model/live.js';
import type { Obj, ResourceType } from './types.js';

/** The sections of threat protection rules (custom and preset) whose SentToMemberOf / ExceptIfSentToMemberOf name groups. */
export const RULE_SECTIONS = ['contentFilterRules', 'antiPhishRules', 'malwareFilterRules', 'safeLinksRules', 'safeAttachmentRules', 'eopProtectionRules', 'atpProtectionRules'] as const satisfies ReadonlyArray<keyof LiveState>;

const values = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.trim() !== '') : typeof v === 'string' && v.trim() ? [v] : []);

/** The group names a rule's conditions and exceptions use. */
export const groupsOfRule = (r: Obj): string[] => [...values(r['SentToMemberOf']), ...values(r['ExceptIfSentToMemberOf'])];

/** Every group name the rules read and the posture's high-value groups use, once each (case-insensitive). */
export function groupNames(live: LiveState, m: Manifest): string[] {
  const out = new Map<string, string>();
  for (const key of RULE_SECTIONS) {
    const s = live[key];
    if (s?.ok) for (const r of s.value) for (const g of groupsOfRule(r)) out.set(g.trim().toLowerCase(), g.trim());
  }
  for (const g of m.desired.threatProtection?.populations.highValueGroups ?? []) out.set(g.trim().toLowerCase(), g.trim());
  return [...out.values()];
}

/** The directory group a rule's name for it resolves to: display name, mail address, alias or object id. */
export function findGroup(groups: readonly Obj[], name: string): Obj | undefined {
  const n = name.trim().toLowerCase();
  const hits = groups.filter((g) => ['displayName', 'mail', 'mailNickname', 'id'].some((k) => typeof g[k] === 'string' && String(g[k]).toLowerCase() === n));
  // A display name two groups share names neither for sure.
  return hits.length === 1 ? hits[0] : undefined;
}

/**
 * Members of the groups threat protection rules and the posture name, through nested groups (as
 * Exchange expands a distribution group or mail-enabled security group a rule names): one
 * transitiveMembers read per group named, none per user. A name that is no group of the directory is
 * listed as unresolved, so whom its rule covers is unknown, never "nobody". Read-only.
 */
export const groupMembership: ResourceType = {
  key: 'groupMembership',
  title: 'members of the groups threat protection rules and the posture name',
  read: {
    section: 'groupMemberships',
    permissions: [P.groupRead],
    after: ['group'],
    afterIfRead: ['hostedContentFilterRule', 'antiPhishRule', 'malwareFilterRule', 'safeLinksRule', 'safeAttachmentRule', 'eopProtectionPolicyRule', 'atpProtectionPolicyRule'],
    how: {
      kind: 'custom',
      endpoint: '/groups/{id}/transitiveMembers',
      async run(ctx, live, m) {
        const endpoint = '/groups/{id}/transitiveMembers';
        const readAt = new Date().toISOString();
        if (!live.groups?.ok) throw new Error('the groups could not be read, so the groups the rules name cannot be found');
        const directory = live.groups.value;
        const byId = new Map<string, { names: string[]; id: string; displayName: string }>();
        const unresolved: string[] = [];
        for (const name of groupNames(live, m)) {
          const g = findGroup(directory, name);
          if (!g) {
            unresolved.push(name);
            continue;
          }
          const id = String(g['id']).toLowerCase();
          const entry = byId.get(id) ?? { names: [], id, displayName: String(g['displayName'] ?? id) };
          entry.names.push(name);
          byId.set(id, entry);
        }
        const groups = await Promise.all(
          [...byId.values()].map(async (g) => {
            const members = await ctx.graph.list<Obj>(`/groups/${encodeURIComponent(g.id)}/transitiveMembers?$select=id`);
            return { ...g, members: [...new Set(members.map((x) => String(x['id']).toLowerCase()))] };
          }),
        );
        const value: GroupMemberships = { groups, unresolved };
        return { ok: true, value, endpoint, readAt };
      },
    },
  },
};
