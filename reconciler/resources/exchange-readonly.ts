import { sendsToManager } from '../checks/recipients.js';
import { exchangeRead } from './exchange-object.js';
import type { ResourceType } from './types.js';

/** The tenant's accepted domains: what "inside the organisation" means for mail. Read-only. */
export const acceptedDomain: ResourceType = { key: 'acceptedDomain', title: 'accepted domains', read: exchangeRead('acceptedDomains', 'Get-AcceptedDomain') };

/** Mail contacts: recipients whose address is outside. Read-only. */
export const mailContact: ResourceType = { key: 'mailContact', title: 'mail contacts', read: exchangeRead('mailContacts', 'Get-MailContact', { ResultSize: 'Unlimited' }) };

/** Mail users: recipients with an external address. Read-only. */
export const mailUser: ResourceType = { key: 'mailUser', title: 'mail users', read: exchangeRead('mailUsers', 'Get-MailUser', { ResultSize: 'Unlimited' }) };

/**
 * Exchange's users with their managers (Get-User): read only when an enabled transport rule sends
 * mail to the sender's manager, since that reaches whoever the managers are. Read-only.
 */
export const exchangeUser: ResourceType = {
  key: 'exchangeUser',
  title: 'users and their managers',
  read: {
    ...exchangeRead('exchangeUsers', 'Get-User', { ResultSize: 'Unlimited' }),
    after: ['transportRule'],
    when: (live) => !!live.transportRules?.ok && live.transportRules.value.some((r) => String(r['State']).toLowerCase() === 'enabled' && sendsToManager(r)),
  },
};
