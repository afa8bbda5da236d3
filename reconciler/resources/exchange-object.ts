import type { Permission } from '../../policies/types.js';
import { P } from '../../policies/permissions.js';
import { withoutAnnotations } from '../core/annotations.js';
import type { Connection } from '../input/connection.js';
import type { Write } from '../model/change.js';
import type { Finding } from '../model/finding.js';
import { ExchangeError } from '../transport/exchange.js';
import { differs, isObj, restored } from './compare.js';
import type { Inverse, Obj, ReadSpec, RecordedChange, ResourceType, Reversible, Writable, WriteContext } from './types.js';

type ExchangeWrite = Write & { api: 'exchange' };
type Verb = 'Set' | 'New' | 'Enable' | 'Disable';

/** Reading an Exchange object needs the app role and Global Reader; writing one, Exchange Administrator. */
export const EXCHANGE_READ: readonly Permission[] = [P.exchangeManage, P.exchangeReader];
export const EXCHANGE_WRITE: readonly Permission[] = [P.exchangeManage, P.exchangeAdmin];

/** The read of every object of a kind: `Get-<Noun>`, Global Reader. */
export const exchangeRead = (section: ReadSpec['section'], cmdlet: string, parameters?: Obj): ReadSpec => ({
  section,
  how: { kind: 'exchange', cmdlet, ...(parameters ? { parameters } : {}) },
  permissions: EXCHANGE_READ,
});

/** What an Exchange object type declares; {@link exchangeObject} makes the rest. */
export interface ExchangeObjectSpec {
  readonly key: string;
  readonly title: string;
  /** The noun of its cmdlets: `RemoteDomain` for Get-/Set-RemoteDomain. */
  readonly noun: string;
  readonly read?: ReadSpec;
  /** The verbs apply (or a rollback) uses on it. */
  readonly verbs: readonly Verb[];
  writeFor(f: Finding, ctx: WriteContext): Write | undefined;
  /** What undoes a New- (Exchange may have no Remove- for it); without it, a created object is not removed. */
  undoNew?(w: ExchangeWrite): ExchangeWrite;
}

const exchangeOnly = (w: Write): ExchangeWrite => {
  if (w.api !== 'exchange') throw new Error(`an Exchange object is written with a cmdlet, not with ${w.method} ${w.path}`);
  return w;
};

/** The parameters a Set- or New- sets, without those that name the object. */
const setParameters = (w: ExchangeWrite) => Object.fromEntries(Object.entries(w.parameters).filter(([k]) => !['Identity', 'DomainName', 'Confirm'].includes(k)));

/** An Exchange object with Get-/Set-/New-/Enable-/Disable-: the read-back, the rule for "it took" and the inverse, from a few lines of data. */
export function exchangeObject(spec: ExchangeObjectSpec): ResourceType & Writable & Reversible {
  const cmdlet = (verb: Verb) => `${verb}-${spec.noun}`;
  const identity = (w: ExchangeWrite) => String(w.parameters['Identity'] ?? w.parameters['DomainName']);
  const get = async (conn: Connection, id: string) => {
    try {
      const [found] = await conn.exchange.invoke<Obj>(cmdlet('Get' as Verb), { Identity: id });
      return found ? withoutAnnotations(found) : null;
    } catch (err) {
      if (err instanceof ExchangeError && /NotFound/i.test(err.type)) return null;
      throw err;
    }
  };
  const verbOf = (w: ExchangeWrite): Verb => {
    const verb = spec.verbs.find((v) => w.cmdlet === cmdlet(v));
    if (!verb) throw new Error(`${w.cmdlet} is not a cmdlet of ${spec.key}`);
    return verb;
  };
  return {
    key: spec.key,
    title: spec.title,
    ...(spec.read ? { read: spec.read } : {}),
    writes: { exchange: spec.verbs.map(cmdlet) },
    writePermissions: EXCHANGE_WRITE,
    writeFor: spec.writeFor,
    async readTarget(conn, write) {
      const w = exchangeOnly(write);
      return verbOf(w) === 'New' ? null : get(conn, identity(w));
    },
    async readBack(conn, write) {
      return { value: await get(conn, identity(exchangeOnly(write))) };
    },
    took(write, after) {
      const w = exchangeOnly(write);
      if (!isObj(after)) return 'it cannot be read back';
      const verb = verbOf(w);
      if (verb === 'Enable' || verb === 'Disable') {
        const want = verb === 'Enable' ? 'Enabled' : 'Disabled';
        return restored(want, after['State']) ? undefined : `State is ${String(after['State'])}`;
      }
      return differs(setParameters(w), after);
    },
    effect(write) {
      return verbOf(exchangeOnly(write)) === 'New' ? 'create' : 'update';
    },
    targetKey(write) {
      return `exchange ${spec.noun.toLowerCase()} ${identity(exchangeOnly(write)).toLowerCase()}`;
    },
    inverse(record: RecordedChange): Inverse | string | undefined {
      const w = exchangeOnly(record.write);
      const verb = verbOf(w);
      const before = record.before;
      if (verb === 'New') return spec.undoNew ? { write: spec.undoNew(w), action: 'update' } : `${w.cmdlet} cannot be undone`;
      if (!isObj(before)) return 'the object did not exist before the change';
      const id = w.parameters['Identity'];
      if (verb === 'Enable' || verb === 'Disable') {
        if (String(before['State']).toLowerCase() === (verb === 'Disable' ? 'disabled' : 'enabled')) return undefined;
        return { write: { api: 'exchange', cmdlet: cmdlet(verb === 'Disable' ? 'Enable' : 'Disable'), parameters: { Identity: id, Confirm: false } }, action: 'update' };
      }
      const parameters: Obj = { Identity: id };
      for (const k of Object.keys(w.parameters)) if (k !== 'Identity' && k !== 'Confirm') parameters[k] = before[k] === '' ? null : (before[k] ?? null);
      return { write: { api: 'exchange', cmdlet: w.cmdlet, parameters }, action: 'update' };
    },
  };
}
