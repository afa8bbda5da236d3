import { P } from '../../policies/permissions.js';
import type { Connection } from '../input/connection.js';
import type { Write } from '../model/change.js';
import { withoutAnnotations } from '../core/annotations.js';
import { ExchangeError } from '../transport/exchange.js';
import type { Inverse, Obj, RecordedChange, Respondable, ResourceType, ResponseTarget, ResponseWrite, Reversible, Writable } from './types.js';

type ExchangeWrite = Write & { api: 'exchange' };
const exchangeOnly = (w: Write): ExchangeWrite => {
  if (w.api !== 'exchange') throw new Error(`a mailbox delegate is removed with a cmdlet, not with ${w.method} ${w.path}`);
  return w;
};
/** Which kind a write is about: FullAccess (MailboxPermission, -User) or SendAs (RecipientPermission, -Trustee). */
const kindOf = (w: ExchangeWrite) => (/RecipientPermission$/.test(w.cmdlet) ? { noun: 'RecipientPermission', who: 'Trustee', right: 'SendAs' } : { noun: 'MailboxPermission', who: 'User', right: 'FullAccess' });
const rightsOf = (e: Obj) => (Array.isArray(e['AccessRights']) ? (e['AccessRights'] as unknown[]).map(String) : String(e['AccessRights'] ?? '').split(/[,\s]+/));
const isSelf = (who: unknown) => /^NT AUTHORITY\\SELF$/i.test(String(who));

async function entries(conn: Connection, noun: string, mailbox: string): Promise<Obj[]> {
  try {
    return (await conn.exchange.invoke<Obj>(`Get-${noun}`, { Identity: mailbox })).map((e) => withoutAnnotations(e) as Obj);
  } catch (err) {
    // A user without a mailbox has no delegates.
    if (err instanceof ExchangeError && /NotFound/i.test(err.type)) return [];
    throw err;
  }
}

/** The explicit grant of a right to one delegate on a mailbox, as Exchange lists it, or null. */
async function grant(conn: Connection, w: ExchangeWrite): Promise<Obj | null> {
  const k = kindOf(w);
  const who = String(w.parameters[k.who]).toLowerCase();
  const found = (await entries(conn, k.noun, String(w.parameters['Identity']))).find((e) => String(e[k.who]).toLowerCase() === who && e['IsInherited'] !== true && e['Deny'] !== true && rightsOf(e).includes(k.right));
  return found ?? null;
}

/**
 * Delegates of a mailbox: users holding FullAccess (Get-MailboxPermission) or SendAs
 * (Get-RecipientPermission) on it. For respond's removeDelegates every explicit grant but the
 * owner's own is removed; a rollback grants it again. Exchange keeps no date for a grant, so the
 * plan lists each one for the person who approves it.
 */
export const mailboxDelegate: ResourceType & Writable & Reversible & Respondable = {
  key: 'mailboxDelegate',
  title: 'mailbox delegates',
  writes: { exchange: ['Remove-MailboxPermission', 'Add-MailboxPermission', 'Remove-RecipientPermission', 'Add-RecipientPermission'] },
  writePermissions: [P.exchangeManage, P.exchangeAdmin],
  writeFor: () => undefined,
  readTarget: (conn, w) => grant(conn, exchangeOnly(w)),
  readBack: async (conn, w) => ({ value: await grant(conn, exchangeOnly(w)) }),
  took(w, after) {
    const removed = exchangeOnly(w).cmdlet.startsWith('Remove-');
    if (removed) return after === null ? undefined : 'the delegate still holds the right';
    return after !== null ? undefined : 'the delegate does not hold the right';
  },
  effect: (w) => (exchangeOnly(w).cmdlet.startsWith('Remove-') ? 'delete' : 'create'),
  targetKey(w) {
    const x = exchangeOnly(w);
    const k = kindOf(x);
    return `exchange ${k.noun.toLowerCase()} ${String(x.parameters['Identity']).toLowerCase()} ${String(x.parameters[k.who]).toLowerCase()}`;
  },
  inverse(record: RecordedChange): Inverse | string | undefined {
    const w = exchangeOnly(record.write);
    const verb = w.cmdlet.startsWith('Remove-') ? 'Add' : 'Remove';
    const { Confirm: _confirm, ...rest } = w.parameters;
    return { write: { api: 'exchange', cmdlet: `${verb}-${kindOf(w).noun}`, parameters: verb === 'Remove' ? { ...rest, Confirm: false } : rest }, action: verb === 'Add' ? 'create' : 'delete' };
  },
  responds: ['removeDelegates'],
  async respondWrites(_action: string, target: ResponseTarget, conn: Connection): Promise<ResponseWrite[]> {
    const out: ResponseWrite[] = [];
    for (const k of [{ noun: 'MailboxPermission', who: 'User', right: 'FullAccess' }, { noun: 'RecipientPermission', who: 'Trustee', right: 'SendAs' }]) {
      // The mailbox is named by its user's object id (its ExternalDirectoryObjectId), which no rename or reused address can move.
      for (const e of await entries(conn, k.noun, target.user.id)) {
        if (isSelf(e[k.who]) || e['IsInherited'] === true || e['Deny'] === true || !rightsOf(e).includes(k.right)) continue;
        out.push({
          resource: { type: 'mailboxDelegate', id: String(e['id'] ?? e['Guid'] ?? `${target.user.upn}/${String(e[k.who])}`), name: `${target.user.upn}: ${k.right} for ${String(e[k.who])}` },
          write: { api: 'exchange', cmdlet: `Remove-${k.noun}`, parameters: { Identity: target.user.id, [k.who]: String(e[k.who]), AccessRights: [k.right], Confirm: false } },
          before: e,
          action: 'delete',
        });
      }
    }
    return out;
  },
};
