import type { Collection } from '../../tenant/collection.js';
import { checkEnum, exchangeObject, refuseManagedPolicy } from '../object.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    HostedContentFilterPolicy: Collection;
  }
}

/** What a spam verdict (SpamAction, HighConfidenceSpamAction, PhishSpamAction, BulkSpamAction) may do. */
const SPAM_ACTIONS = ['AddXHeader', 'Delete', 'ModifySubject', 'MoveToJmf', 'NoAction', 'Quarantine', 'Redirect'];

/**
 * Properties of every inbound anti-spam policy, with Exchange Online's defaults (the Default policy's
 * and a new custom policy's): spam and high confidence spam to the Junk Email folder, phishing and
 * high confidence phishing quarantined, zero-hour auto purge on for spam and phishing.
 */
const PROPERTIES = {
  IsDefault: false,
  RecommendedPolicyType: 'Custom',
  AdminDisplayName: '',
  AllowedSenders: [],
  AllowedSenderDomains: [],
  BlockedSenders: [],
  BlockedSenderDomains: [],
  SpamAction: 'MoveToJmf',
  HighConfidenceSpamAction: 'MoveToJmf',
  PhishSpamAction: 'Quarantine',
  HighConfidencePhishAction: 'Quarantine',
  BulkSpamAction: 'MoveToJmf',
  BulkThreshold: 7,
  MarkAsSpamBulkMail: 'On',
  QuarantineRetentionPeriod: 15,
  SpamZapEnabled: true,
  PhishZapEnabled: true,
  InlineSafetyTipsEnabled: true,
  IsValid: true,
  ObjectState: 'Unchanged',
} as const;

/**
 * Inbound anti-spam (content filter) policies: allowed and blocked senders, what each verdict does,
 * and zero-hour auto purge. A preset policy (RecommendedPolicyType Standard or Strict) cannot be set.
 */
export const HostedContentFilterPolicy = exchangeObject({
  noun: 'HostedContentFilterPolicy',
  properties: PROPERTIES,
  cmdlets: (o) => [
    o.get(),
    o.set(
      { SpamAction: 'string', HighConfidenceSpamAction: 'string', PhishSpamAction: 'string', BulkSpamAction: 'string', HighConfidencePhishAction: 'string', SpamZapEnabled: 'bool', PhishZapEnabled: 'bool' },
      (x, p) => {
        refuseManagedPolicy(x);
        const next = { ...x };
        for (const a of ['SpamAction', 'HighConfidenceSpamAction', 'PhishSpamAction', 'BulkSpamAction'] as const) if (p[a] !== undefined) next[a] = checkEnum(a, p[a], SPAM_ACTIONS);
        if (p['HighConfidencePhishAction'] !== undefined) next['HighConfidencePhishAction'] = checkEnum('HighConfidencePhishAction', p['HighConfidencePhishAction'], ['Delete', 'MoveToJmf', 'Quarantine', 'Redirect']);
        for (const b of ['SpamZapEnabled', 'PhishZapEnabled'] as const) if (p[b] !== undefined) next[b] = p[b];
        return next;
      },
    ),
  ],
});
