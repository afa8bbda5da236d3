import type { Collection, Entity } from '../../tenant/collection.js';
import { FilterSyntaxError, parseOpath } from '../filter.js';
import { CmdletError, COMMON, exchangeObject } from '../object.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    Mailbox: Collection;
  }
}

/** What an -Identity (or -Mailbox) value may name a mailbox by. */
export const MAILBOX_KEYS = ['Identity', 'Name', 'Alias', 'UserPrincipalName', 'PrimarySmtpAddress', 'ExternalDirectoryObjectId', 'Guid', 'DistinguishedName'];

/** Mailboxes (ExternalDirectoryObjectId links one to its Graph user) and their forwarding. */
export const Mailbox = exchangeObject({
  noun: 'Mailbox',
  identity: MAILBOX_KEYS,
  indexed: ['ExternalDirectoryObjectId', 'UserPrincipalName'],
  cmdlets: (o) => [
    {
      name: 'Get-Mailbox',
      writes: false,
      parameters: { Identity: 'string', Filter: 'string', ResultSize: 'any', RecipientTypeDetails: 'strings', ...COMMON },
      run: (t, p) => {
        if (p['Identity'] !== undefined) return [o.find(t, String(p['Identity']))];
        let predicate: (m: Entity) => boolean = () => true;
        if (p['Filter'] !== undefined) {
          try {
            predicate = parseOpath(String(p['Filter']));
          } catch (err) {
            if (err instanceof FilterSyntaxError) throw new CmdletError('Microsoft.Exchange.Management.Tasks.ADFilterException', err.message);
            throw err;
          }
        }
        const types = (p['RecipientTypeDetails'] as string[] | undefined)?.map((x) => x.toLowerCase());
        const out: Entity[] = [];
        for (const m of t.exchange.Mailbox.values()) {
          if (types && !types.includes(String(m['RecipientTypeDetails']).toLowerCase())) continue;
          if (predicate(m)) out.push(m);
        }
        return out;
      },
    },
    o.set({ ForwardingSmtpAddress: 'any', ForwardingAddress: 'any', DeliverToMailboxAndForward: 'bool' }, (x, p) => {
      const next = { ...x };
      for (const k of ['ForwardingSmtpAddress', 'ForwardingAddress', 'DeliverToMailboxAndForward']) {
        if (p[k] !== undefined) next[k] = p[k] === '' ? null : p[k];
      }
      if (typeof next['ForwardingSmtpAddress'] === 'string' && !/^smtp:/i.test(next['ForwardingSmtpAddress'])) next['ForwardingSmtpAddress'] = `smtp:${next['ForwardingSmtpAddress']}`;
      return next;
    }),
  ],
});
