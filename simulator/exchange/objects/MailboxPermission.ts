import { createHash } from 'node:crypto';
import type { Collection, Entity } from '../../tenant/collection.js';
import type { Tenant } from '../../tenant/tenant.js';
import { checkEnum, CmdletError, COMMON, exchangeObject, find } from '../object.js';
import { MAILBOX_KEYS } from './Mailbox.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    MailboxPermission: Collection;
  }
}

/** The rights Add-/Remove-MailboxPermission take. */
export const MAILBOX_RIGHTS = ['FullAccess', 'ExternalAccount', 'DeleteItem', 'ReadPermission', 'ChangePermission', 'ChangeOwner'];

/** A stable Guid for a permission entry, from what it grants to whom on which mailbox. */
export const permissionGuid = (...parts: string[]) => {
  const h = createHash('sha256').update(parts.join('\n').toLowerCase()).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

/** The recipient a -User or -Trustee value names: a mailbox, or a directory user by UPN; as Exchange shows it (its UPN). */
export function trustee(t: Tenant, value: string): string {
  const mailbox = [...t.exchange.Mailbox.values()].find((m) => MAILBOX_KEYS.some((k) => typeof m[k] === 'string' && (m[k] as string).toLowerCase() === value.toLowerCase()));
  if (mailbox) return String(mailbox['UserPrincipalName']);
  const user = t.graph.users.findBy('userPrincipalName', value)[0] ?? t.graph.users.get(value);
  if (user) return String(user['userPrincipalName']);
  throw new CmdletError('Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException', `The user "${value}" wasn't found. Please make sure you've typed it correctly.`, 404);
}

const rights = (p: Record<string, unknown>) => {
  const list = (p['AccessRights'] as string[] | undefined) ?? [];
  if (list.length === 0) throw new CmdletError('System.Management.Automation.ParameterBindingException', 'Cannot process command because of one or more missing mandatory parameters: AccessRights.');
  return list.map((r) => checkEnum('AccessRights', r, MAILBOX_RIGHTS));
};

/** What every mailbox shows for its owner: NT AUTHORITY\SELF with FullAccess and ReadPermission. */
const selfEntry = (mailbox: Entity): Entity => ({
  id: permissionGuid(String(mailbox['Guid']), 'NT AUTHORITY\\SELF'),
  Identity: mailbox['Identity'],
  User: 'NT AUTHORITY\\SELF',
  UserSid: 'S-1-5-10',
  AccessRights: ['FullAccess', 'ReadPermission'],
  IsInherited: false,
  Deny: false,
  InheritanceType: 'All',
  IsValid: true,
  ObjectState: 'Unchanged',
});

/**
 * Mailbox permissions (FullAccess and the other mailbox rights) granted to users on a mailbox, as
 * Get-MailboxPermission shows them: each with User, AccessRights (a list), IsInherited, Deny and
 * InheritanceType; the owner's own NT AUTHORITY\SELF entry first. A scenario lists the explicit
 * grants in `exchange.MailboxPermission`, each naming its mailbox by `Identity`.
 */
export const MailboxPermission = exchangeObject({
  noun: 'MailboxPermission',
  indexed: ['Identity'],
  cmdlets: () => [
    {
      name: 'Get-MailboxPermission',
      writes: false,
      parameters: { Identity: 'string', User: 'string', ResultSize: 'any', ...COMMON },
      required: ['Identity'],
      run: (t, p) => {
        const mailbox = find(t.exchange.Mailbox, String(p['Identity']), MAILBOX_KEYS);
        const entries = [selfEntry(mailbox), ...t.exchange.MailboxPermission.findBy('Identity', mailbox['Identity'])];
        if (p['User'] === undefined) return entries;
        const user = trustee(t, String(p['User']));
        return entries.filter((e) => String(e['User']).toLowerCase() === user.toLowerCase());
      },
    },
    {
      name: 'Add-MailboxPermission',
      writes: true,
      parameters: { Identity: 'string', User: 'string', AccessRights: 'strings', InheritanceType: 'string', AutoMapping: 'bool', ...COMMON },
      required: ['Identity', 'User', 'AccessRights'],
      run: (t, p) => {
        const mailbox = find(t.exchange.Mailbox, String(p['Identity']), MAILBOX_KEYS);
        const user = trustee(t, String(p['User']));
        const granted = rights(p);
        const inheritance = p['InheritanceType'] === undefined ? 'All' : checkEnum('InheritanceType', p['InheritanceType'], ['None', 'All', 'Descendents', 'SelfAndChildren', 'Children']);
        const guid = permissionGuid(String(mailbox['Guid']), user);
        const existing = t.exchange.MailboxPermission.get(guid);
        const entry: Entity = {
          id: guid,
          Guid: guid,
          Identity: mailbox['Identity'],
          User: user,
          AccessRights: [...new Set([...((existing?.['AccessRights'] as string[] | undefined) ?? []), ...granted])],
          IsInherited: false,
          Deny: false,
          InheritanceType: inheritance,
          IsValid: true,
          ObjectState: 'Unchanged',
        };
        if (existing) t.exchange.MailboxPermission.replace(guid, entry);
        else t.exchange.MailboxPermission.insert(entry);
        return [entry];
      },
    },
    {
      name: 'Remove-MailboxPermission',
      writes: true,
      parameters: { Identity: 'string', User: 'string', AccessRights: 'strings', InheritanceType: 'string', ...COMMON },
      required: ['Identity', 'User', 'AccessRights'],
      run: (t, p) => {
        const mailbox = find(t.exchange.Mailbox, String(p['Identity']), MAILBOX_KEYS);
        const user = trustee(t, String(p['User']));
        const removed = rights(p);
        const existing = t.exchange.MailboxPermission.findBy('Identity', mailbox['Identity']).find((e) => String(e['User']).toLowerCase() === user.toLowerCase());
        if (!existing) return [];
        const left = (existing['AccessRights'] as string[]).filter((r) => !removed.includes(r));
        if (left.length === 0) t.exchange.MailboxPermission.remove(existing.id);
        else t.exchange.MailboxPermission.replace(existing.id, { ...existing, AccessRights: left });
        return [];
      },
    },
  ],
});
