import type { Collection } from '../../tenant/collection.js';
import { checkEnum, CmdletError, exchangeObject, refuseManagedPolicy } from '../object.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    AntiPhishPolicy: Collection;
  }
}

/** The actions an impersonation detection may take (TargetedUserProtectionAction and the like). */
const IMPERSONATION_ACTIONS = ['BccMessage', 'Delete', 'MoveToJmf', 'NoAction', 'Quarantine', 'Redirect'];

/**
 * Properties of every anti-phishing policy, with Exchange Online's defaults (those of the default
 * policy, "Office365 AntiPhish Default", and of a new custom policy): impersonation protection off,
 * no protected users or domains, mailbox intelligence on without its protection, spoof intelligence
 * on, no first-contact safety tip. Protected users are `DisplayName;address` entries.
 */
export const ANTI_PHISH_POLICY_PROPERTIES = {
  Enabled: true,
  IsDefault: false,
  RecommendedPolicyType: 'Custom',
  AdminDisplayName: '',
  ImpersonationProtectionState: 'Automatic',
  EnableTargetedUserProtection: false,
  TargetedUsersToProtect: null,
  TargetedUserProtectionAction: 'NoAction',
  EnableOrganizationDomainsProtection: false,
  EnableTargetedDomainsProtection: false,
  TargetedDomainsToProtect: null,
  TargetedDomainProtectionAction: 'NoAction',
  ExcludedDomains: null,
  ExcludedSenders: null,
  EnableMailboxIntelligence: true,
  EnableMailboxIntelligenceProtection: false,
  MailboxIntelligenceProtectionAction: 'NoAction',
  EnableSimilarUsersSafetyTips: false,
  EnableSimilarDomainsSafetyTips: false,
  EnableUnusualCharactersSafetyTips: false,
  EnableFirstContactSafetyTips: false,
  EnableSpoofIntelligence: true,
  EnableUnauthenticatedSender: true,
  EnableViaTag: true,
  AuthenticationFailAction: 'MoveToJmf',
  HonorDmarcPolicy: true,
  DmarcRejectAction: 'Reject',
  DmarcQuarantineAction: 'Quarantine',
  PhishThresholdLevel: 1,
  IsValid: true,
  ObjectState: 'Unchanged',
} as const;

const BOOLS = [
  'HonorDmarcPolicy', 'EnableTargetedUserProtection', 'EnableOrganizationDomainsProtection', 'EnableTargetedDomainsProtection',
  'EnableMailboxIntelligence', 'EnableMailboxIntelligenceProtection', 'EnableSpoofIntelligence', 'EnableFirstContactSafetyTips',
  'EnableSimilarUsersSafetyTips', 'EnableSimilarDomainsSafetyTips', 'EnableUnusualCharactersSafetyTips', 'EnableUnauthenticatedSender', 'EnableViaTag',
] as const;
const ACTIONS = ['TargetedUserProtectionAction', 'TargetedDomainProtectionAction', 'MailboxIntelligenceProtectionAction'] as const;

/** A protected user as Exchange stores it: `DisplayName;address` (an address alone is refused). */
function protectedUsers(value: unknown): string[] | null {
  if (value === null) return null;
  const out: string[] = [];
  for (const entry of value as string[]) {
    const [name, address] = entry.split(';');
    if (!name?.trim() || !address || !/^[^@\s;]+@[^@\s;]+\.[^@\s;]+$/.test(address.trim())) {
      throw new CmdletError('Microsoft.Exchange.Management.Tasks.ValidationException', `The value "${entry}" of TargetedUsersToProtect is not valid: each entry is DisplayName;EmailAddress.`);
    }
    if (!out.some((o) => o.toLowerCase() === entry.toLowerCase())) out.push(`${name.trim()};${address.trim()}`);
  }
  return out;
}

/**
 * Anti-phishing policies: spoof protection (DMARC, spoof intelligence, the action on a composite
 * authentication failure) and, with Defender for Office 365, impersonation protection (protected
 * users and domains, mailbox intelligence, their actions, safety tips). A preset policy (its
 * RecommendedPolicyType Standard or Strict) is Microsoft's to manage and cannot be set.
 */
export const AntiPhishPolicy = exchangeObject({
  noun: 'AntiPhishPolicy',
  properties: ANTI_PHISH_POLICY_PROPERTIES,
  cmdlets: (o) => [
    o.get(),
    o.set(
      {
        ...Object.fromEntries(BOOLS.map((b) => [b, 'bool' as const])),
        ...Object.fromEntries(ACTIONS.map((a) => [a, 'string' as const])),
        DmarcRejectAction: 'string', DmarcQuarantineAction: 'string', AuthenticationFailAction: 'string',
        TargetedUsersToProtect: 'strings', TargetedDomainsToProtect: 'strings',
      },
      (x, p) => {
        refuseManagedPolicy(x);
        const next = { ...x };
        for (const b of BOOLS) if (p[b] !== undefined) next[b] = p[b];
        for (const a of ACTIONS) if (p[a] !== undefined) next[a] = checkEnum(a, p[a], IMPERSONATION_ACTIONS);
        if (p['DmarcRejectAction'] !== undefined) next['DmarcRejectAction'] = checkEnum('DmarcRejectAction', p['DmarcRejectAction'], ['Quarantine', 'Reject']);
        if (p['DmarcQuarantineAction'] !== undefined) next['DmarcQuarantineAction'] = checkEnum('DmarcQuarantineAction', p['DmarcQuarantineAction'], ['Delete', 'MoveToJmf', 'NoAction', 'Quarantine', 'Redirect']);
        if (p['AuthenticationFailAction'] !== undefined) next['AuthenticationFailAction'] = checkEnum('AuthenticationFailAction', p['AuthenticationFailAction'], ['MoveToJmf', 'Quarantine']);
        if (p['TargetedUsersToProtect'] !== undefined) next['TargetedUsersToProtect'] = protectedUsers(p['TargetedUsersToProtect']);
        if (p['TargetedDomainsToProtect'] !== undefined) next['TargetedDomainsToProtect'] = p['TargetedDomainsToProtect'] === null ? null : [...new Set((p['TargetedDomainsToProtect'] as string[]).map((d) => d.trim().toLowerCase()))];
        return next;
      },
    ),
  ],
});
