import type { ExchangeNoun } from '../tenant/tenant.js';
import { exchangeObject, type ExchangeObject } from './object.js';

/**
 * The recipient conditions and exceptions every threat protection rule has (Get-HostedContentFilterRule,
 * Get-AntiPhishRule, Get-MalwareFilterRule, Get-SafeLinksRule, Get-SafeAttachmentRule and the preset
 * rules Get-EOPProtectionPolicyRule / Get-ATPProtectionPolicyRule). Conditions of different kinds must
 * all hold, values within one are alternatives; any one exception excludes the recipient. An empty
 * multi-valued property is returned as null, as Exchange Online returns it.
 */
export const RULE_PROPERTIES = {
  State: 'Enabled',
  Priority: 0,
  SentTo: null,
  SentToMemberOf: null,
  RecipientDomainIs: null,
  ExceptIfSentTo: null,
  ExceptIfSentToMemberOf: null,
  ExceptIfRecipientDomainIs: null,
  Comments: null,
  Description: '',
  IsValid: true,
  ObjectState: 'Unchanged',
} as const;

/**
 * A threat protection rule type: Get-, Enable- and Disable-<Noun>. A rule names its policy by the
 * policy's name in `policyProperties` (HostedContentFilterPolicy, AntiPhishPolicy, …; a preset rule
 * names one policy of each kind it covers). A scenario that leaves the collection out has none.
 */
export function protectionRule<const N extends ExchangeNoun>(noun: N, policyProperties: readonly string[]): ExchangeObject<N> {
  return exchangeObject({
    noun,
    properties: { ...RULE_PROPERTIES, ...Object.fromEntries(policyProperties.map((p) => [p, null])) },
    cmdlets: (o) => [o.get(), o.set({}, (x) => ({ ...x, State: 'Enabled' }), 'Enable'), o.set({}, (x) => ({ ...x, State: 'Disabled' }), 'Disable')],
  });
}
