import { exchangeObject, exchangeRead } from './exchange-object.js';

/** Mailboxes: their forwarding settings, and the list the inbox-rule scan reads rules of. */
export const mailbox = exchangeObject({
  key: 'mailbox',
  title: 'mailboxes',
  noun: 'Mailbox',
  read: exchangeRead('mailboxes', 'Get-Mailbox', { ResultSize: 'Unlimited' }),
  verbs: ['Set'],
  writeFor: (f) => ({ api: 'exchange', cmdlet: 'Set-Mailbox', parameters: { Identity: f.resource.name, ForwardingSmtpAddress: null, ForwardingAddress: null, DeliverToMailboxAndForward: false } }),
});
