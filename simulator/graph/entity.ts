import { z } from 'zod';
import { badRequest, notFound, type SimResponse } from '../http/errors.js';
import type { Entity } from '../tenant/collection.js';
import type { StateSlot } from '../tenant/slot.js';
import type { GraphCollectionName, Licence, Tenant } from '../tenant/tenant.js';
import { listPage, type PageOptions } from './odata.js';

export { slot, type StateSlot } from '../tenant/slot.js';

/**
 * What a Graph entity module declares: its routes, the collection (or other state) it keeps in the
 * tenant and the scenario, the application permissions its routes accept, its licence and its
 * throttling class. Modules live in graph/entities/, one per entity, and are listed in
 * graph/routes.ts. The helpers below build the usual routes of a collection.
 */

/** How a route is throttled (see http/limits.ts). */
export type ThrottleClass = 'conditional-access' | 'identity' | 'mailbox' | 'security' | 'message-trace';

export interface RouteContext {
  readonly tenant: Tenant;
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  readonly body: unknown;
  readonly version: 'v1.0' | 'beta';
  /** The request URL as the client sees it, absolute. */
  readonly requestUrl: URL;
  /** Base URL of the service, e.g. http://127.0.0.1:4321 */
  readonly baseUrl: string;
  readonly loopNextLink: boolean;
  /**
   * Directory roles (template ids) of the calling app's service principal, from the token's `wids`
   * claim, for the operations Entra bounds by role as well as by permission.
   */
  readonly wids: readonly string[];
}

/** A route as the service serves it: the entity's permissions, licence and throttling class filled in. */
export interface Route {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Path after the version, `{name}` for a segment parameter. */
  readonly pattern: string;
  /** Application permissions, any one of which suffices. */
  readonly permissions: readonly string[];
  readonly throttle: ThrottleClass;
  /** Resource units (identity class), before the $select discount. */
  readonly cost?: number;
  /** The service plan the feature needs; without it the tenant is answered 403. */
  readonly licence?: Licence;
  readonly handle: (ctx: RouteContext) => SimResponse;
}

/** A route as an entity module writes it: which of the entity's permission lists it accepts. */
export interface RouteSpec<P extends string> {
  readonly method: Route['method'];
  readonly pattern: string;
  readonly permission: P;
  readonly cost?: number;
  readonly handle: (ctx: RouteContext) => SimResponse;
}

export interface GraphEntity<C extends GraphCollectionName = GraphCollectionName> {
  /** How messages and the permission table name it. */
  readonly name: string;
  /** Its collection: `graph.<name>` in a scenario (empty when left out) and `tenant.graph.<name>`. */
  readonly collection?: { readonly name: C; readonly indexed: readonly string[] };
  readonly state?: StateSlot;
  /** Application permissions by what they allow; each route names one list. */
  readonly permissions: Readonly<Record<string, readonly string[]>>;
  readonly throttle: ThrottleClass;
  readonly licence?: Licence;
  readonly routes: readonly Route[];
}

/** Declares a Graph entity: its routes get the entity's permissions, throttling class and licence. */
export function graphEntity<const P extends string, const C extends GraphCollectionName = never>(def: {
  name: string;
  /** The collection and the fields looked up often enough to keep an index. */
  collection?: { name: C; indexed?: readonly string[] };
  state?: StateSlot;
  permissions: Record<P, readonly string[]>;
  throttle: ThrottleClass;
  licence?: Licence;
  routes: ReadonlyArray<RouteSpec<NoInfer<P>>>;
}): GraphEntity<C> {
  const permissions: Readonly<Record<string, readonly string[]>> = def.permissions;
  return {
    name: def.name,
    ...(def.collection ? { collection: { name: def.collection.name, indexed: def.collection.indexed ?? [] } } : {}),
    ...(def.state ? { state: def.state } : {}),
    permissions,
    throttle: def.throttle,
    ...(def.licence ? { licence: def.licence } : {}),
    routes: def.routes.map((r) => ({
      method: r.method,
      pattern: r.pattern,
      permissions: permissions[r.permission]!,
      throttle: def.throttle,
      ...(r.cost !== undefined ? { cost: r.cost } : {}),
      ...(def.licence ? { licence: def.licence } : {}),
      handle: r.handle,
    })),
  };
}

/** A Graph object in a scenario: an id and whatever Graph returns with it. */
export const entitySchema = z.object({ id: z.string().min(1) }).passthrough();

export const ctxUrl = (c: RouteContext, fragment: string) => `${c.baseUrl}/${c.version}/$metadata#${fragment}`;

/** GET of a collection: paging, $select, $filter over `name`, at Graph's usual page sizes unless `o` says otherwise. */
export function list(name: GraphCollectionName, fragment: string, o: Partial<PageOptions> & { typeName: string }) {
  return (c: RouteContext): SimResponse =>
    listPage(c.tenant.graph[name], c.query, {
      defaultTop: 100,
      maxTop: 999,
      requestUrl: c.requestUrl,
      context: ctxUrl(c, fragment),
      loopNextLink: c.loopNextLink,
      ...o,
    });
}

/** GET of one item by the `{id}` parameter (or by `lookupField`), 404 as Graph answers when absent. */
export function getOne(name: GraphCollectionName, fragment: string, lookupField?: string, render?: (c: RouteContext, item: Entity) => Record<string, unknown>) {
  return (c: RouteContext): SimResponse => {
    const id = c.params['id']!;
    const item = c.tenant.graph[name].get(id) ?? (lookupField ? c.tenant.graph[name].findBy(lookupField, id)[0] : undefined);
    if (!item) throw resourceNotFound(id);
    return { status: 200, body: { '@odata.context': ctxUrl(c, `${fragment}/$entity`), ...(render ? render(c, item) : item) } };
  };
}

/** Graph's 404 for a directory object that is not there. */
export const resourceNotFound = (id: string) => notFound(`Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);

/** The request body as a JSON object, or 400. */
export const obj = (body: unknown): Record<string, unknown> => {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('The request body must be a JSON object.', 'BadRequest');
  return body as Record<string, unknown>;
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Merges a PATCH body into an object: objects merge property by property, everything else replaces. */
export function mergePatch(target: Obj, patch: Obj): Obj {
  const out: Obj = { ...target };
  for (const [k, v] of Object.entries(patch)) out[k] = isObj(v) && isObj(out[k]) ? mergePatch(out[k] as Obj, v) : v;
  return out;
}
