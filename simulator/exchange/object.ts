import type { Collection, Entity } from '../tenant/collection.js';
import type { StateSlot } from '../tenant/slot.js';
import type { ExchangeNoun, Tenant } from '../tenant/tenant.js';

export { slot, type StateSlot } from '../tenant/slot.js';

/**
 * What an Exchange object module declares (exchange/objects/<Noun>.ts, listed in exchange/cmdlets.ts):
 * the cmdlets of one object type, the properties an -Identity value may name, and the collection
 * its objects are held in. The helpers build the usual Get-/Set- cmdlets and PowerShell's parameter
 * binding.
 */

/** A cmdlet failure, reported in Exchange's error shape with the .NET exception type it would raise. */
export class CmdletError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export type ParamType = 'string' | 'bool' | 'int' | 'strings' | 'switch' | 'any';

export interface Cmdlet {
  readonly name: string;
  /** Whether the cmdlet changes the tenant (needs the Exchange Administrator role). */
  readonly writes: boolean;
  readonly parameters: Readonly<Record<string, ParamType>>;
  readonly required?: readonly string[];
  run(tenant: Tenant, params: Record<string, unknown>): Entity[];
  /**
   * The results as positions to page through, for a cmdlet whose answer can be long (every object
   * of a collection): a page reads only its own positions, so a list of 100,000 costs each page its
   * own size. Undefined for these parameters (one object, by -Identity) means `run`.
   */
  readonly positions?: (tenant: Tenant, params: Record<string, unknown>) => Positions | undefined;
  /**
   * How one result is shown, applied only to the results of the page being answered (a long list is
   * run again for each page, so a view applied in `run` would be paid for every result on every page).
   */
  readonly view?: (e: Entity) => Entity;
}

/**
 * Results by position, read page by page (a collection's positions, each shown as the cmdlet shows
 * it): `at` is undefined for a hole (a removed object) or an object the parameters leave out.
 * Positions stay where they are while a list is paged, as a server-side cursor does.
 */
export interface Positions {
  readonly size: number;
  at(position: number): Entity | undefined;
}

export interface ExchangeObject<N extends ExchangeNoun = ExchangeNoun> {
  /** The cmdlet noun: Get-<noun>, Set-<noun>, … */
  readonly noun: string;
  /** The properties an -Identity value is matched against (case-insensitive). */
  readonly identity: readonly string[];
  /**
   * Where its objects are held: `tenant.exchange.<noun>`, `exchange.<noun>` in a scenario (empty when
   * left out, each object with its Guid), with these fields indexed. Absent for a type whose cmdlets
   * show state another type holds.
   */
  readonly collection?: {
    readonly noun: N;
    readonly indexed: readonly string[];
    /** The objects a scenario that leaves the collection out holds: the service's defaults (none unless given). */
    readonly defaults: ReadonlyArray<{ Guid: string } & Record<string, unknown>>;
  };
  /** State that is not a collection (the organisation's one configuration object): `exchange.<key>` in a scenario. */
  readonly state?: StateSlot;
  readonly cmdlets: readonly Cmdlet[];
}

/** Parameters every cmdlet takes. */
export const COMMON = { ErrorAction: 'string', WarningAction: 'string', Confirm: 'switch' } as const;

/** The identity keys of most object types. */
export const DEFAULT_IDENTITY: readonly string[] = ['Identity', 'Name', 'Guid'];

function identityOf(o: Entity, keys: readonly string[]): string[] {
  return keys.map((k) => o[k]).filter((v): v is string => typeof v === 'string').map((v) => v.toLowerCase());
}

/** What Exchange answers when an -Identity value names no object. */
export const objectNotFound = (identity: string): CmdletError =>
  new CmdletError(
    'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException',
    `The operation couldn't be performed because object '${identity}' couldn't be found on 'SIMPR01A001DC01.simulated.prod.outlook.com'.`,
    404,
  );

/** The object an -Identity value names, or ManagementObjectNotFoundException. */
export function find(coll: Collection, identity: string, keys: readonly string[] = DEFAULT_IDENTITY): Entity {
  const want = identity.toLowerCase();
  for (const o of coll.values()) if (identityOf(o, keys).includes(want)) return o;
  throw objectNotFound(identity);
}

/**
 * -Identity of an organisation-wide setting (one object per organisation): absent, the organisation
 * (its id or initial domain), or one of the setting's own `keys`; anything else is not found.
 */
export function checkOrganisationIdentity(t: { id: string; initialDomain: string }, setting: Record<string, unknown>, keys: readonly string[], identity: unknown): void {
  if (identity === undefined) return;
  const names = [t.id, t.initialDomain, ...keys.map((k) => setting[k])];
  if (!names.some((n) => typeof n === 'string' && n.toLowerCase() === String(identity).toLowerCase())) throw objectNotFound(String(identity));
}

/**
 * Set- on a policy Microsoft manages: a preset security policy's (RecommendedPolicyType Standard or
 * Strict) or the Built-In Protection Policy. Exchange refuses both; an administrator changes presets
 * in the portal or with the preset rules, never the policy itself.
 */
export function refuseManagedPolicy(x: Entity): void {
  const name = String(x['Name']);
  if (/^(standard|strict)$/i.test(String(x['RecommendedPolicyType']))) {
    throw new CmdletError('Microsoft.Exchange.Management.Tasks.ValidationException', `The policy '${name}' is part of a preset security policy and can't be modified.`);
  }
  if (x['IsBuiltInProtection'] === true) throw new CmdletError('Microsoft.Exchange.Management.Tasks.ValidationException', `The policy '${name}' is managed by Microsoft and can't be modified.`);
}

/** An enumeration parameter's value in its canonical case, or the binding error PowerShell gives. */
export function checkEnum(param: string, value: unknown, allowed: readonly string[]): string {
  const hit = allowed.find((a) => a.toLowerCase() === String(value).toLowerCase());
  if (!hit) {
    throw new CmdletError(
      'System.Management.Automation.ParameterBindingException',
      `Cannot bind parameter '${param}'. Cannot convert value "${String(value)}" to type. Specify one of the following enumeration values and try again. The possible enumeration values are "${allowed.join(', ')}".`,
    );
  }
  return hit;
}

/** The cmdlet builders of one object type, bound to its noun, collection and identity keys. */
export interface ObjectCmdlets {
  /** The object an -Identity value names. */
  find(tenant: Tenant, identity: string): Entity;
  /** Get-<Noun> [-Identity]: every object, or the one named. */
  get(): Cmdlet;
  /** <verb>-<Noun> -Identity … (Set by default; Enable, Disable, …): `apply` gives the changed object; WhenChanged is stamped. */
  set(parameters: Record<string, ParamType>, apply: (o: Entity, p: Record<string, unknown>, t: Tenant) => Entity, verb?: string): Cmdlet;
}

/** Declares an Exchange object type held in the tenant's `exchange.<noun>` collection. */
export function exchangeObject<const N extends ExchangeNoun>(def: {
  noun: N;
  /** @default Identity, Name, Guid */
  identity?: readonly string[];
  /** Fields looked up often enough to keep an index. */
  indexed?: readonly string[];
  /** What a new organisation holds, for a scenario that leaves the collection out. */
  defaults?: ReadonlyArray<{ Guid: string } & Record<string, unknown>>;
  /**
   * Properties every object of the type has, with the service's default values: an object a scenario
   * gives without one of them is returned (and changed) with the default, as the service would.
   */
  properties?: Readonly<Record<string, unknown>>;
  cmdlets: (o: ObjectCmdlets) => Cmdlet[];
}): ExchangeObject<N> {
  const { noun } = def;
  const keys = def.identity ?? DEFAULT_IDENTITY;
  const withDefaults = (x: Entity): Entity => (def.properties ? ({ ...structuredClone(def.properties), ...x } as Entity) : x);
  const o: ObjectCmdlets = {
    find: (t, identity) => withDefaults(find(t.exchange[noun], identity, keys)),
    get: () => ({
      name: `Get-${noun}`,
      writes: false,
      parameters: { Identity: 'string', ResultSize: 'any', ...COMMON },
      run: (t, p) => (p['Identity'] !== undefined ? [o.find(t, String(p['Identity']))] : [...t.exchange[noun].values()].map(withDefaults)),
      positions: (t, p) => {
        if (p['Identity'] !== undefined) return undefined;
        const coll = t.exchange[noun];
        return { get size() { return coll.size; }, at: (i) => { const x = coll.at(i); return x && withDefaults(x); } };
      },
    }),
    set: (parameters, apply, verb = 'Set') => ({
      name: `${verb}-${noun}`,
      writes: true,
      parameters: { Identity: 'string', ...parameters, ...COMMON },
      required: ['Identity'],
      run: (t, p) => {
        const found = o.find(t, String(p['Identity']));
        t.exchange[noun].replace(found.id, { ...apply(found, p, t), WhenChanged: new Date(t.clock.now()).toISOString() });
        return [];
      },
    }),
  };
  return { noun, identity: keys, collection: { noun, indexed: def.indexed ?? [], defaults: def.defaults ?? [] }, cmdlets: def.cmdlets(o) };
}

/** Coerces and checks the cmdlet's parameters as PowerShell parameter binding would. */
export function bindParameters(cmdlet: Cmdlet, raw: unknown): Record<string, unknown> {
  if (raw !== undefined && (typeof raw !== 'object' || raw === null || Array.isArray(raw))) {
    throw new CmdletError('System.Management.Automation.ParameterBindingException', 'Parameters must be an object of name/value pairs.');
  }
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries((raw ?? {}) as Record<string, unknown>)) {
    const key = Object.keys(cmdlet.parameters).find((k) => k.toLowerCase() === name.toLowerCase());
    if (!key) throw new CmdletError('System.Management.Automation.ParameterBindingException', `A parameter cannot be found that matches parameter name '${name}'.`);
    const type = cmdlet.parameters[key]!;
    if (type === 'bool' || type === 'switch') {
      if (typeof value !== 'boolean') throw new CmdletError('System.Management.Automation.ParameterBindingException', `Cannot process argument transformation on parameter '${key}'. Cannot convert value "${String(value)}" to type "System.Boolean".`);
    } else if (type === 'int') {
      if (!Number.isInteger(value)) throw new CmdletError('System.Management.Automation.ParameterBindingException', `Cannot convert value "${String(value)}" to type "System.Int32".`);
    } else if (type === 'strings') {
      if (!(value === null || typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string')))) {
        throw new CmdletError('System.Management.Automation.ParameterBindingException', `Cannot convert value to type "System.String[]" for parameter '${key}'.`);
      }
      out[key] = value === null ? null : Array.isArray(value) ? value : [value];
      continue;
    } else if (type === 'string' && value !== null && typeof value !== 'string') {
      throw new CmdletError('System.Management.Automation.ParameterBindingException', `Cannot convert value "${JSON.stringify(value)}" to type "System.String" for parameter '${key}'.`);
    }
    out[key] = value;
  }
  for (const r of cmdlet.required ?? []) {
    if (out[r] === undefined) throw new CmdletError('System.Management.Automation.ParameterBindingException', `Cannot process command because of one or more missing mandatory parameters: ${r}.`);
  }
  return out;
}
