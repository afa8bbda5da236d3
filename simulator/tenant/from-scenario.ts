import { EXCHANGE_COLLECTIONS, EXCHANGE_STATE } from '../exchange/cmdlets.js';
import { GRAPH_ENTITIES, GRAPH_STATE } from '../graph/routes.js';
import type { Scenario } from '../scenario/scenario.js';
import { SimClock, Timeline } from './clock.js';
import { ArrayCollection, type Collection, type Entity } from './collection.js';
import type { StateSlot } from './slot.js';
import { ALL_LICENCES, type ExchangeNoun, type GraphCollectionName, type Tenant, type TenantSlots } from './tenant.js';

/** A slot's state from a scenario section; a value left out takes the slot's default (a scenario object need not have been parsed). */
function slotState(slot: StateSlot, section: Record<string, unknown>): unknown {
  const parsed = slot.schema.safeParse(section[slot.key]);
  return slot.init(parsed.success ? parsed.data : section[slot.key]);
}

/** A tenant holding a copy of the scenario's objects (the scenario itself is never changed). */
export function tenantFromScenario(scenario: Scenario): Tenant {
  const s = structuredClone(scenario);
  const graph = Object.fromEntries(
    GRAPH_ENTITIES.flatMap((e) => (e.collection ? [e.collection] : [])).map((c) => [c.name, new ArrayCollection(((s.graph as Record<string, unknown>)[c.name] ?? []) as Entity[], c.indexed)]),
  ) as unknown as Record<GraphCollectionName, Collection>;
  const exchange = Object.fromEntries(
    EXCHANGE_COLLECTIONS.map((c) => [
      c.noun,
      new ArrayCollection((((s.exchange as Record<string, unknown>)[c.noun] as typeof c.defaults | undefined) ?? structuredClone(c.defaults)).map((o) => ({ ...o, id: o.Guid }) as Entity), c.indexed),
    ]),
  ) as unknown as Record<ExchangeNoun, Collection>;
  const slots = Object.fromEntries([
    ...GRAPH_STATE.map((slot) => [slot.property, slotState(slot, s.graph as Record<string, unknown>)]),
    ...EXCHANGE_STATE.map((slot) => [slot.property, slotState(slot, s.exchange as Record<string, unknown>)]),
  ]) as unknown as TenantSlots;
  return {
    ...slots,
    id: s.tenant.id,
    size: s.tenant.size ?? 'small',
    licences: new Set(s.tenant.licences ?? ALL_LICENCES),
    clock: new SimClock(s.clock),
    timeline: new Timeline(s.timeline.map(({ at, ...collections }) => ({ at, collections: collections as Record<string, Entity[]> }))),
    initialDomain: s.tenant.initialDomain,
    graph,
    exchange,
    dns: s.dns ?? [],
    mailboxOf: (userId) => exchange.Mailbox.findBy('ExternalDirectoryObjectId', userId)[0],
  };
}
