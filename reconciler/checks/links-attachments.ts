import type { Evaluation } from '../evaluate/context.js';
import type { GroupMemberships, RoleHolders } from '../model/live.js';
import { judgeEffective, mustBeFalse, mustBeTrue, mustHold, notKnown, oneOf, unmet } from './effective-findings.js';
import { isBuiltInPolicy, isPresetPolicy, membershipOf, type Membership } from './effective-policy.js';
import type { Population } from './populations.js';

type Obj = Record<string, unknown>;

/**
 * MAIL.THREAT.3 (Safe Links), MAIL.THREAT.4 (Safe Attachments) and MAIL.THREAT.5 (anti-malware),
 * judged on the effective policy of each population (checks/effective-policy.ts). A policy that
 * applies to nobody, or that a preset overrides for everyone it matches, counts neither for nor
 * against a control: it is never a finding and never a pass, and each finding names it. Pure.
 */

const presetOrBuiltIn = (kindTitle: string) => (policy: Obj): string | undefined => {
  if (isBuiltInPolicy(policy)) {
    return `The Built-In Protection Policy cannot be changed: create a custom ${kindTitle} with these settings and a rule for the population, or turn on the Standard or Strict preset security policy for it.`;
  }
  if (isPresetPolicy(policy)) {
    return `The policy belongs to a preset security policy, which Microsoft manages and cannot be changed: scope the population to a custom ${kindTitle} with these settings, or to the other preset.`;
  }
  return undefined;
};

/**
 * The sections every one of these controls reads besides its kind's own: the membership of the
 * groups rules name, and the populations whose members are known (one whose members are not makes
 * the control not evaluated for it).
 */
function context(ev: Evaluation, control: string, populations: readonly Population[] | undefined, memberships: GroupMemberships | undefined, holders: RoleHolders | undefined): { populations: Population[]; membership: Membership } | undefined {
  const users = ev.live.users;
  if (users && !users.ok) {
    ev.notEvaluated(control, users, 'users');
    return undefined;
  }
  if (!memberships || !holders || !populations) return undefined;
  for (const p of populations) if (p.unknown) notKnown(ev, control, `the members of ${p.title}`, `${p.unknown}, so whom it holds is not known`);
  return { populations: populations.filter((p) => !p.unknown), membership: membershipOf(memberships) };
}

/** MAIL.THREAT.3–5 on the populations (undefined when they could not be built; each control then says why it was not evaluated). */
export function checkLinksAttachments(ev: Evaluation, populations: readonly Population[] | undefined): void {
  checkSafeLinks(ev, populations);
  checkSafeAttachments(ev, populations);
  checkMalwareFilter(ev, populations);
}

/** MAIL.THREAT.3: Safe Links on the effective policy of each population. */
function checkSafeLinks(ev: Evaluation, populations: readonly Population[] | undefined): void {
  const d = ev.manifest.desired.threatProtection?.links;
  if (!d) return;
  const got = ev.need<[Obj[], Obj[], Obj[], Obj[], GroupMemberships, RoleHolders]>('MAIL.THREAT.3', ['safeLinksPolicy', 'safeLinksRule', 'atpProtectionPolicyRule', 'mailbox', 'groupMembership', 'directoryRoleAssignment']);
  if (!got || !ev.live.safeLinks?.ok) return;
  const [policies, rules, atp, , memberships, holders] = got;
  const ctx = context(ev, 'MAIL.THREAT.3', populations, memberships, holders);
  if (!ctx) return;
  judgeEffective(ev, {
    control: 'MAIL.THREAT.3', check: 'safe-links', resourceType: 'safeLinksPolicy',
    endpoint: 'Exchange Get-SafeLinksPolicy', readAt: ev.live.safeLinks.readAt,
    sets: [{ kind: 'safeLinks', policies, rules, presetRules: atp }], populations: ctx.populations, membership: ctx.membership,
    wanted: (policy) =>
      unmet(policy, [
        mustBeTrue('EnableSafeLinksForEmail'),
        ...(d.teams ? [mustBeTrue('EnableSafeLinksForTeams')] : []),
        ...(d.office ? [mustBeTrue('EnableSafeLinksForOffice')] : []),
        mustBeFalse('AllowClickThrough'),
        mustBeFalse('DisableUrlRewrite'),
        mustBeTrue('ScanUrls'),
        mustBeTrue('DeliverMessageAfterScan'),
        ...(d.internalSenders ? [mustBeTrue('EnableForInternalSenders')] : []),
      ]),
    cannotWrite: presetOrBuiltIn('Safe Links policy'),
  });
}

/** The quarantine policy no one but an admin releases from: it meets any declared one. */
const ADMIN_ONLY = 'AdminOnlyAccessPolicy';

/** MAIL.THREAT.4: Safe Attachments on the effective policy of each population. */
function checkSafeAttachments(ev: Evaluation, populations: readonly Population[] | undefined): void {
  const d = ev.manifest.desired.threatProtection?.attachments;
  if (!d) return;
  const got = ev.need<[Obj[], Obj[], Obj[], Obj[], GroupMemberships, RoleHolders]>('MAIL.THREAT.4', ['safeAttachmentPolicy', 'safeAttachmentRule', 'atpProtectionPolicyRule', 'mailbox', 'groupMembership', 'directoryRoleAssignment']);
  if (!got || !ev.live.safeAttachments?.ok) return;
  const [policies, rules, atp, , memberships, holders] = got;
  const ctx = context(ev, 'MAIL.THREAT.4', populations, memberships, holders);
  if (!ctx) return;
  judgeEffective(ev, {
    control: 'MAIL.THREAT.4', check: 'safe-attachments', resourceType: 'safeAttachmentPolicy',
    endpoint: 'Exchange Get-SafeAttachmentPolicy', readAt: ev.live.safeAttachments.readAt,
    sets: [{ kind: 'safeAttachments', policies, rules, presetRules: atp }], populations: ctx.populations, membership: ctx.membership,
    wanted: (policy) =>
      unmet(policy, [
        mustBeTrue('Enable'),
        // Dynamic delivery, when accepted, is the least strict; Block always meets it.
        oneOf('Action', d.action === 'DynamicDelivery' ? ['DynamicDelivery', 'Block'] : ['Block']),
        // A custom quarantine policy's release permissions are not read: it is never judged (nor overwritten) by name.
        ...(BUILT_IN_QUARANTINE_TAGS.has(String(policy['QuarantineTag'] ?? '').toLowerCase()) || !policy['QuarantineTag'] ? [oneOf('QuarantineTag', [d.quarantineTag, ADMIN_ONLY])] : []),
      ]),
    cannotWrite: presetOrBuiltIn('Safe Attachments policy'),
  });
}

/** The quarantine policies Microsoft ships; any other name is a custom policy. */
const BUILT_IN_QUARANTINE_TAGS = new Set(['adminonlyaccesspolicy', 'defaultfullaccesspolicy', 'defaultfullaccesswithnotificationpolicy', 'notificationenabledpolicy']);

/** MAIL.THREAT.5: the common attachments filter and zero-hour auto purge on the effective anti-malware policy of each population. */
function checkMalwareFilter(ev: Evaluation, populations: readonly Population[] | undefined): void {
  const d = ev.manifest.desired.threatProtection?.attachments?.malware;
  if (!d) return;
  const got = ev.need<[Obj[], Obj[], Obj[], Obj[], GroupMemberships, RoleHolders]>('MAIL.THREAT.5', ['malwareFilterPolicy', 'malwareFilterRule', 'eopProtectionPolicyRule', 'mailbox', 'groupMembership', 'directoryRoleAssignment']);
  if (!got || !ev.live.malwareFilter?.ok) return;
  const [policies, rules, eop, , memberships, holders] = got;
  const ctx = context(ev, 'MAIL.THREAT.5', populations, memberships, holders);
  if (!ctx) return;
  judgeEffective(ev, {
    control: 'MAIL.THREAT.5', check: 'malware-filter', resourceType: 'malwareFilterPolicy',
    endpoint: 'Exchange Get-MalwareFilterPolicy', readAt: ev.live.malwareFilter.readAt,
    sets: [{ kind: 'antiMalware', policies, rules, presetRules: eop }], populations: ctx.populations, membership: ctx.membership,
    wanted: (policy) =>
      unmet(policy, [
        mustBeTrue('EnableFileFilter'),
        mustHold(policy, 'FileTypes', d.fileTypes),
        // Reject and Quarantine both keep the file from the recipient: either meets the posture, neither is overwritten.
        oneOf('FileTypeAction', [...new Set([d.fileTypeAction, 'Reject', 'Quarantine'])]),
        mustBeTrue('ZapEnabled'),
      ]),
    // The Default policy is the organisation's to set; a preset's is not.
    cannotWrite: (policy) => (isPresetPolicy(policy) ? "The policy belongs to a preset security policy, which Microsoft manages and cannot be changed: scope the population to a custom anti-malware policy with these settings, or to the other preset." : undefined),
  });
}
