import type { Collection, Entity } from '../../tenant/collection.js';
import { checkEnum, CmdletError, COMMON, exchangeObject, find } from '../object.js';
import { MAILBOX_KEYS } from './Mailbox.js';
import { permissionGuid, trustee } from './MailboxPermission.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    RecipientPermission: Collection;
  }
}

const rights = (p: Record<string, unknown>) => {
  const list = (p['AccessRights'] as string[] | undefined) ?? [];
  if (list.length === 0) throw new CmdletError('System.Management.Automation.ParameterBindingException', 'Cannot process command because of one or more missing mandatory parameters: AccessRights.');
  return list.map((r) => checkEnum('AccessRights', r, ['SendAs']));
};

/**
 * SendAs permissions on a recipient, as Get-RecipientPermission shows them: Identity, Trustee,
 * AccessControlType, AccessRights (a list), IsInherited, InheritanceType. A scenario lists them in
 * `exchange.RecipientPermission`, each naming its mailbox by `Identity`.
 */
export const RecipientPermission = exchangeObject({
  noun: 'RecipientPermission',
  indexed: ['Identity'],
  cmdlets: () => [
    {
      name: 'Get-RecipientPermission',
      writes: false,
      parameters: { Identity: 'string', Trustee: 'string', AccessRights: 'strings', ResultSize: 'any', ...COMMON },
      run: (t, p) => {
        let entries: Entity[];
        if (p['Identity'] !== undefined) {
          const mailbox = find(t.exchange.Mailbox, String(p['Identity']), MAILBOX_KEYS);
          entries = t.exchange.RecipientPermission.findBy('Identity', mailbox['Identity']);
        } else {
          entries = [...t.exchange.RecipientPermission.values()];
        }
        if (p['Trustee'] !== undefined) {
          const who = trustee(t, String(p['Trustee'])).toLowerCase();
          entries = entries.filter((e) => String(e['Trustee']).toLowerCase() === who);
        }
        return entries;
      },
    },
    {
      name: 'Add-RecipientPermission',
      writes: true,
      parameters: { Identity: 'string', Trustee: 'string', AccessRights: 'strings', ...COMMON },
      required: ['Identity', 'Trustee', 'AccessRights'],
      run: (t, p) => {
        const mailbox = find(t.exchange.Mailbox, String(p['Identity']), MAILBOX_KEYS);
        const who = trustee(t, String(p['Trustee']));
        rights(p);
        const guid = permissionGuid(String(mailbox['Guid']), who, 'SendAs');
        const entry: Entity = { id: guid, Guid: guid, Identity: mailbox['Identity'], Trustee: who, AccessControlType: 'Allow', AccessRights: ['SendAs'], IsInherited: false, InheritanceType: 'None' };
        if (t.exchange.RecipientPermission.get(guid)) t.exchange.RecipientPermission.replace(guid, entry);
        else t.exchange.RecipientPermission.insert(entry);
        return [entry];
      },
    },
    {
      name: 'Remove-RecipientPermission',
      writes: true,
      parameters: { Identity: 'string', Trustee: 'string', AccessRights: 'strings', Deny: 'switch', ...COMMON },
      required: ['Identity', 'Trustee', 'AccessRights'],
      run: (t, p) => {
        const mailbox = find(t.exchange.Mailbox, String(p['Identity']), MAILBOX_KEYS);
        const who = trustee(t, String(p['Trustee'])).toLowerCase();
        rights(p);
        for (const e of t.exchange.RecipientPermission.findBy('Identity', mailbox['Identity'])) {
          if (String(e['Trustee']).toLowerCase() === who) t.exchange.RecipientPermission.remove(e.id);
        }
        return [];
      },
    },
  ],
});
