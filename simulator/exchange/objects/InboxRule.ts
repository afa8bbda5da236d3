import { COMMON, find, type ExchangeObject } from '../object.js';
import { MAILBOX_KEYS } from './Mailbox.js';

/** `"Display Name" [SMTP:address]`, the form Get-InboxRule shows recipients in. */
function exchangeRecipients(list: unknown): string[] | null {
  if (!Array.isArray(list) || list.length === 0) return null;
  return list.map((r: { emailAddress?: { name?: string; address?: string } }) => `"${r.emailAddress?.name ?? r.emailAddress?.address ?? ''}" [SMTP:${r.emailAddress?.address ?? ''}]`);
}

/**
 * Inbox rules in Exchange's form. The rules themselves are held once, per mailbox, by the Graph
 * messageRules entity (graph/entities/message-rules.ts); Get-InboxRule shows the same rules.
 */
export const InboxRule: ExchangeObject = {
  noun: 'InboxRule',
  identity: ['Identity', 'Name', 'RuleIdentity'],
  cmdlets: [
    {
      name: 'Get-InboxRule',
      writes: false,
      parameters: { Mailbox: 'string', Identity: 'string', IncludeHidden: 'switch', ...COMMON },
      required: ['Mailbox'],
      run: (t, p) => {
        const mailbox = find(t.exchange.Mailbox, String(p['Mailbox']), MAILBOX_KEYS);
        const userId = String(mailbox['ExternalDirectoryObjectId']);
        return t.inboxRules.list(userId).map((r) => {
          const actions = (r['actions'] ?? {}) as Record<string, unknown>;
          return {
            id: `${userId}\\${r.id}`,
            Identity: `${mailbox['Identity']}\\${r.id}`,
            Name: r['displayName'],
            RuleIdentity: r.id,
            Enabled: r['isEnabled'],
            Priority: r['sequence'],
            MailboxOwnerId: mailbox['Identity'],
            ForwardTo: exchangeRecipients(actions['forwardTo']),
            ForwardAsAttachmentTo: exchangeRecipients(actions['forwardAsAttachmentTo']),
            RedirectTo: exchangeRecipients(actions['redirectTo']),
            DeleteMessage: actions['delete'] === true,
            StopProcessingRules: actions['stopProcessingRules'] === true,
          };
        });
      },
    },
  ],
};
