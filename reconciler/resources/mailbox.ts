import { withoutAnnotations } from '../core/annotations.js';
import type { Connection } from '../input/connection.js';
import { ExchangeError } from '../transport/exchange.js';
import { exchangeObject, exchangeRead } from './exchange-object.js';
import type { Obj, Respondable, ResponseTarget, ResponseWrite } from './types.js';

/** Mailboxes: their forwarding settings, and the list the inbox-rule scan reads rules of. */
const mailboxFamily = exchangeObject({
  key: 'mailbox',
  title: 'mailboxes',
  noun: 'Mailbox',
  read: {
    ...exchangeRead('mailboxes', 'Get-Mailbox', { ResultSize: 'Unlimited' }),
    // Forwarding is a mailbox setting: changing it moves WhenChanged.
    incremental: { kind: 'exchange-changed', field: 'WhenChanged', key: 'Guid', mailboxId: 'ExternalDirectoryObjectId', names: ['UserPrincipalName', 'PrimarySmtpAddress'], auditOperations: ['Set-Mailbox'] },
  },
  verbs: ['Set'],
  writeFor: (f) => ({ api: 'exchange', cmdlet: 'Set-Mailbox', parameters: { Identity: f.resource.name, ForwardingSmtpAddress: null, ForwardingAddress: null, DeliverToMailboxAndForward: false } }),
});

/**
 * Mailboxes. For `posture respond`'s removeMailRules: forwarding set on the user's mailbox is
 * cleared, as MAIL.FWD.3 clears it (a rollback sets it again).
 */
export const mailbox: typeof mailboxFamily & Respondable = {
  ...mailboxFamily,
  responds: ['removeMailRules'],
  async respondWrites(_action: string, target: ResponseTarget, conn: Connection): Promise<ResponseWrite[]> {
    let found: Obj | undefined;
    try {
      [found] = await conn.exchange.invoke<Obj>('Get-Mailbox', { Identity: target.user.upn });
    } catch (err) {
      // A user without a mailbox (a service account) has no forwarding to clear.
      if (err instanceof ExchangeError && /NotFound/i.test(err.type)) return [];
      throw err;
    }
    if (!found) return [];
    const before = withoutAnnotations(found) as Obj;
    const set = (v: unknown) => typeof v === 'string' && v.trim() !== '';
    if (!set(before['ForwardingSmtpAddress']) && !set(before['ForwardingAddress'])) return [];
    return [{
      resource: { type: 'mailbox', id: String(before['ExternalDirectoryObjectId'] ?? before['Guid'] ?? target.user.id), name: target.user.upn },
      write: { api: 'exchange', cmdlet: 'Set-Mailbox', parameters: { Identity: target.user.upn, ForwardingSmtpAddress: null, ForwardingAddress: null, DeliverToMailboxAndForward: false } },
      before,
      action: 'update',
    }];
  },
};
