import type { Collection, Entity } from '../../tenant/collection.js';
import { auditChange } from '../../graph/entities/audit-log-queries.js';
import { FilterSyntaxError, parseOpath } from '../filter.js';
import { CmdletError, COMMON, exchangeObject, type Positions } from '../object.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    Mailbox: Collection;
  }
}

/** Who an admin cmdlet's audit record names: the cmdlets do not see the caller, so one name stands for the administrator. */
const ADMIN_ACTOR = 'admin@simulated.example';

/** What an -Identity (or -Mailbox) value may name a mailbox by. */
export const MAILBOX_KEYS = ['Identity', 'Name', 'Alias', 'UserPrincipalName', 'PrimarySmtpAddress', 'ExternalDirectoryObjectId', 'Guid', 'DistinguishedName'];

/**
 * The actions mailbox auditing on by default records, per logon type, for a mailbox licensed for
 * Audit (Premium) (E5/A5/G5): MailItemsAccessed and Send are in the sets only with that licence. The
 * simulated tenant is licensed for it.
 */
export const DEFAULT_AUDIT_ACTIONS = {
  Owner: ['ApplyRecord', 'HardDelete', 'MailItemsAccessed', 'MoveToDeletedItems', 'Send', 'SoftDelete', 'Update', 'UpdateCalendarDelegation', 'UpdateFolderPermissions', 'UpdateInboxRules'],
  Delegate: ['ApplyRecord', 'Create', 'HardDelete', 'MailItemsAccessed', 'MoveToDeletedItems', 'SendAs', 'SendOnBehalf', 'SoftDelete', 'Update', 'UpdateFolderPermissions', 'UpdateInboxRules'],
  Admin: ['ApplyRecord', 'Create', 'HardDelete', 'MailItemsAccessed', 'MoveToDeletedItems', 'Send', 'SendAs', 'SendOnBehalf', 'SoftDelete', 'Update', 'UpdateCalendarDelegation', 'UpdateFolderPermissions', 'UpdateInboxRules'],
} as const;

type LogonType = keyof typeof DEFAULT_AUDIT_ACTIONS;
/** In the order Get-Mailbox lists DefaultAuditSet. */
const LOGON_TYPES: readonly LogonType[] = ['Admin', 'Delegate', 'Owner'];

/** A mailbox's audit settings as a new one has them: auditing on, the Microsoft-managed set for every logon type. */
export const mailboxAuditDefaults = (): Record<string, unknown> => ({
  AuditEnabled: true,
  AuditLogAgeLimit: '90.00:00:00',
  AuditOwner: [...DEFAULT_AUDIT_ACTIONS.Owner],
  AuditDelegate: [...DEFAULT_AUDIT_ACTIONS.Delegate],
  AuditAdmin: [...DEFAULT_AUDIT_ACTIONS.Admin],
  DefaultAuditSet: [...LOGON_TYPES],
});

/** A mailbox as Get-Mailbox shows it: a scenario silent about auditing has the service's defaults. */
const shown = (m: Entity): Entity => ({ ...mailboxAuditDefaults(), ...m });

/** The actions a Set-Mailbox -Audit<LogonType> value leaves: a list replaces them, `@{Add=…; Remove=…}` (an object) changes them. */
function auditActions(param: string, current: string[], value: unknown): string[] {
  const list = (v: unknown) => (v === null || v === undefined ? [] : (Array.isArray(v) ? v : [v]).map((a) => String(a).trim()));
  const known = new Set(['applyrecord', 'copy', 'create', 'folderbind', 'harddelete', 'mailboxlogin', 'mailitemsaccessed', 'messagebind', 'move', 'movetodeleteditems', 'recorddelete', 'searchqueryinitiated', 'send', 'sendas', 'sendonbehalf', 'softdelete', 'update', 'updatecalendardelegation', 'updatefolderpermissions', 'updateinboxrules']);
  const check = (actions: string[]) => {
    const bad = actions.find((a) => !known.has(a.toLowerCase()));
    if (bad !== undefined) {
      throw new CmdletError('System.Management.Automation.ParameterBindingException', `Cannot process argument transformation on parameter '${param}'. Cannot convert value "${bad}" to type "Microsoft.Exchange.Data.Directory.MailboxAuditOperations".`);
    }
    return actions;
  };
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    const remove = new Set(check(list(o['Remove'])).map((a) => a.toLowerCase()));
    const next = current.filter((a) => !remove.has(a.toLowerCase()));
    for (const a of check(list(o['Add']))) if (!next.some((x) => x.toLowerCase() === a.toLowerCase())) next.push(a);
    return next;
  }
  return [...new Set(check(list(value)))];
}

/**
 * The mailboxes Get-Mailbox lists for -Filter and -RecipientTypeDetails, by position in the
 * collection: a page reads only its own positions. The filter is parsed here, before any page.
 */
function mailboxPositions(coll: Collection, p: Record<string, unknown>): Positions {
  let predicate: (m: Entity) => boolean = () => true;
  if (p['Filter'] !== undefined) {
    try {
      const matches = parseOpath(String(p['Filter']));
      // A filter sees the mailbox as Get-Mailbox shows it, audit defaults included.
      predicate = (m) => matches(shown(m));
    } catch (err) {
      if (err instanceof FilterSyntaxError) throw new CmdletError('Microsoft.Exchange.Management.Tasks.ADFilterException', err.message);
      throw err;
    }
  }
  const types = (p['RecipientTypeDetails'] as string[] | undefined)?.map((x) => x.toLowerCase());
  return {
    get size() {
      return coll.size;
    },
    at(i) {
      const m = coll.at(i);
      if (!m || (types && !types.includes(String(m['RecipientTypeDetails']).toLowerCase()))) return undefined;
      return predicate(m) ? m : undefined;
    },
  };
}

/** Mailboxes (ExternalDirectoryObjectId links one to its Graph user), their forwarding and their audit settings. */
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
        if (p['Identity'] !== undefined) return [shown(o.find(t, String(p['Identity'])))];
        const all = mailboxPositions(t.exchange.Mailbox, p);
        const out: Entity[] = [];
        for (let i = 0; i < all.size; i++) {
          const m = all.at(i);
          if (m) out.push(m);
        }
        return out;
      },
      positions: (t, p) => (p['Identity'] !== undefined ? undefined : mailboxPositions(t.exchange.Mailbox, p)),
      view: shown,
    },
    o.set({ ForwardingSmtpAddress: 'any', ForwardingAddress: 'any', DeliverToMailboxAndForward: 'bool', AuditEnabled: 'bool', AuditOwner: 'any', AuditDelegate: 'any', AuditAdmin: 'any', DefaultAuditSet: 'strings' }, (x, p, t) => {
      const next = { ...x };
      const audit = shown(x);
      let defaultSet = (audit['DefaultAuditSet'] as string[]).filter((l) => LOGON_TYPES.some((k) => k.toLowerCase() === l.toLowerCase()));
      if (p['AuditEnabled'] !== undefined) next['AuditEnabled'] = p['AuditEnabled'];
      for (const logon of LOGON_TYPES) {
        const key = `Audit${logon}`;
        if (p[key] === undefined) continue;
        // Customising a logon type's actions takes it out of the Microsoft-managed set.
        next[key] = auditActions(key, audit[key] as string[], p[key]);
        defaultSet = defaultSet.filter((l) => l.toLowerCase() !== logon.toLowerCase());
      }
      if (p['DefaultAuditSet'] !== undefined) {
        for (const raw of (p['DefaultAuditSet'] as string[] | null) ?? []) {
          const logon = LOGON_TYPES.find((k) => k.toLowerCase() === raw.trim().toLowerCase());
          if (!logon) throw new CmdletError('System.Management.Automation.ParameterBindingException', `Cannot process argument transformation on parameter 'DefaultAuditSet'. "${raw}" is not one of Admin, Delegate, Owner.`);
          next[`Audit${logon}`] = [...DEFAULT_AUDIT_ACTIONS[logon]];
          if (!defaultSet.includes(logon)) defaultSet.push(logon);
        }
      }
      if (['AuditOwner', 'AuditDelegate', 'AuditAdmin', 'DefaultAuditSet'].some((k) => p[k] !== undefined)) {
        for (const logon of LOGON_TYPES) next[`Audit${logon}`] ??= audit[`Audit${logon}`];
        next['DefaultAuditSet'] = LOGON_TYPES.filter((l) => defaultSet.includes(l));
      }
      for (const k of ['ForwardingSmtpAddress', 'ForwardingAddress', 'DeliverToMailboxAndForward']) {
        if (p[k] !== undefined) next[k] = p[k] === '' ? null : p[k];
      }
      if (typeof next['ForwardingSmtpAddress'] === 'string' && !/^smtp:/i.test(next['ForwardingSmtpAddress'])) next['ForwardingSmtpAddress'] = `smtp:${next['ForwardingSmtpAddress']}`;
      const parameters = Object.entries(p).filter(([k]) => k !== 'Identity' && !(k in COMMON)).map(([Name, v]) => ({ Name, Value: typeof v === 'string' ? v : JSON.stringify(v) }));
      auditChange(t, { operation: 'Set-Mailbox', mailbox: { upn: String(x['UserPrincipalName'] ?? x['PrimarySmtpAddress'] ?? x['Identity']), guid: x.id }, actor: ADMIN_ACTOR, parameters });
      return next;
    }),
  ],
});
