import { withoutAnnotations } from '../core/annotations.js';
import type { Connection } from '../input/connection.js';
import type { Write } from '../model/change.js';
import { exchangeObject, exchangeRead } from './exchange-object.js';
import { differs, isObj } from './compare.js';
import type { Inverse, Obj, RecordedChange, ResourceType, Reversible, Writable } from './types.js';

type ExchangeWrite = Write & { api: 'exchange' };

const exchangeOnly = (w: Write): ExchangeWrite => {
  if (w.api !== 'exchange') throw new Error(`the organisation configuration is written with a cmdlet, not with ${w.method} ${w.path}`);
  return w;
};

const family = exchangeObject({
  key: 'organizationConfig',
  title: 'the organisation configuration',
  noun: 'OrganizationConfig',
  read: exchangeRead('organizationConfig', 'Get-OrganizationConfig'),
  verbs: ['Set'],
  // Set-OrganizationConfig acts on the organisation the session is connected to: it takes no -Identity.
  writeFor: (f) => (f.check === 'mailbox-audit-org-disabled' ? { api: 'exchange', cmdlet: 'Set-OrganizationConfig', parameters: { AuditDisabled: false } } : undefined),
});

/** The one organisation configuration object, read before and after a write. */
async function current(conn: Connection): Promise<Obj | null> {
  const [found] = await conn.exchange.invoke<Obj>('Get-OrganizationConfig', {});
  return found ? (withoutAnnotations(found) as Obj) : null;
}

/**
 * The organisation configuration (Get-OrganizationConfig): AuditDisabled true turns mailbox auditing
 * off for every mailbox, whatever each mailbox's own settings say (MAIL.EXPOSURE.3). Unlike most
 * Exchange objects it has no identity to name: Set-OrganizationConfig takes none.
 */
export const organizationConfig: ResourceType & Writable & Reversible = {
  ...family,
  async readTarget(conn, write) {
    exchangeOnly(write);
    return current(conn);
  },
  async readBack(conn, write) {
    exchangeOnly(write);
    return { value: await current(conn) };
  },
  took(write, after) {
    const w = exchangeOnly(write);
    if (!isObj(after)) return 'it cannot be read back';
    return differs(Object.fromEntries(Object.entries(w.parameters).filter(([k]) => k !== 'Confirm')), after);
  },
  targetKey() {
    return 'exchange organizationconfig';
  },
  inverse(record: RecordedChange): Inverse | string | undefined {
    const w = exchangeOnly(record.write);
    if (!isObj(record.before)) return 'the organisation configuration could not be read before the change';
    const parameters: Obj = {};
    for (const k of Object.keys(w.parameters)) if (k !== 'Confirm') parameters[k] = record.before[k] ?? null;
    return { write: { api: 'exchange', cmdlet: w.cmdlet, parameters }, action: 'update' };
  },
};
