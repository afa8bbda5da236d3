import type { DnsRecord } from '../dns/server.js';
import type { TenantSize } from '../http/limits.js';
import type { SimClock, Timeline } from './clock.js';
import type { Collection, Entity } from './collection.js';

/*
 * The state of a tenant is assembled from the resource types the simulator serves. Each Graph entity
 * (graph/entities/) and Exchange object type (exchange/objects/) declares its own part by adding to
 * one of the three interfaces below (TypeScript declaration merging), and registers itself in
 * graph/routes.ts or exchange/cmdlets.ts, which build the tenant and the scenario format from the
 * list and check at compile time that every declared part is registered.
 */

/** Graph collections, by scenario key (`graph.<key>` in a scenario, `tenant.graph.<key>` here). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by each entity module
export interface GraphCollections {}

/** Exchange Online object types held as collections, by cmdlet noun (`exchange.<Noun>`). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by each object module
export interface ExchangeCollections {}

/** Tenant state that is not a collection: a singleton policy, items per mailbox, a relation. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by each entity module
export interface TenantSlots {}

/** Scenario values of that state, by key (`graph.<key>` in a scenario), as the loader gives them. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by each entity module
export interface GraphScenarioState {}

/** The same for Exchange (`exchange.<key>`). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by each object module
export interface ExchangeScenarioState {}

export type GraphCollectionName = keyof GraphCollections & string;
export type ExchangeNoun = keyof ExchangeCollections & string;

/**
 * The service plans features depend on: AAD_PREMIUM (Entra ID P1: conditional access),
 * AAD_PREMIUM_P2 (Identity Protection), ATP_ENTERPRISE (Microsoft Defender for Office 365, whose
 * alerts the security API serves).
 */
export const ALL_LICENCES = ['AAD_PREMIUM', 'AAD_PREMIUM_P2', 'ATP_ENTERPRISE'] as const;
export type Licence = (typeof ALL_LICENCES)[number];

/** The state of one simulated tenant. Handlers read and change it; scenarios and the generator build it. */
export interface Tenant extends TenantSlots {
  readonly id: string;
  readonly size: TenantSize;
  /** Service plans the tenant holds (see {@link Licence}). */
  readonly licences: Set<Licence>;
  /** The tenant's time: the wall clock until a test sets it. */
  readonly clock: SimClock;
  /** Signals of the scenario still to arrive; released into `graph` as the clock passes them. */
  readonly timeline: Timeline;
  /** The tenant's initial domain, e.g. contoso.onmicrosoft.example; DKIM selector targets live under it. */
  readonly initialDomain: string;
  readonly graph: Record<GraphCollectionName, Collection>;
  readonly exchange: Record<ExchangeNoun, Collection>;
  readonly dns: DnsRecord[];
  /** Which users have a mailbox: user object id → Mailbox entity. */
  mailboxOf(userId: string): Entity | undefined;
}

/** The properties of {@link Tenant} that are not slots of a resource type; a slot may not take one of these names. */
export const TENANT_CORE_KEYS: readonly string[] = ['id', 'size', 'licences', 'clock', 'timeline', 'initialDomain', 'graph', 'exchange', 'dns', 'mailboxOf'];
