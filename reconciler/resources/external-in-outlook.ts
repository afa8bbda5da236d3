import { exchangeObject, exchangeRead } from './exchange-object.js';

type Obj = Record<string, unknown>;

/**
 * Outlook's native External tag (Get-ExternalInOutlook): Enabled marks mail from outside the
 * organisation in supported Outlook clients; AllowList names senders and domains that are never
 * marked. Remediation turns the tag on (MAIL.EXPOSURE.1, when the posture declares no banner rule).
 */
export const externalInOutlook = exchangeObject({
  key: 'externalInOutlook',
  title: 'the external sender tag in Outlook',
  noun: 'ExternalInOutlook',
  read: exchangeRead('externalInOutlook', 'Get-ExternalInOutlook'),
  verbs: ['Set'],
  writeFor: (f) =>
    f.check === 'external-tag-enabled' ? { api: 'exchange', cmdlet: 'Set-ExternalInOutlook', parameters: { Identity: String((f.evidence.live as Obj)['Identity']), Enabled: true } } : undefined,
});
