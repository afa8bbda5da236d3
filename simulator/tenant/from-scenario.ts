import type { Scenario } from '../scenario/scenario.js';
import { ArrayCollection, type Collection, type Entity } from './collection.js';
import { ALL_LICENCES, EXCHANGE_NOUNS, GRAPH_COLLECTIONS, INDEXED_FIELDS, InboxRuleStore, type ExchangeNoun, type GraphCollectionName, type Tenant } from './tenant.js';

/** A tenant holding a copy of the scenario's objects (the scenario itself is never changed). */
export function tenantFromScenario(scenario: Scenario): Tenant {
  const s = structuredClone(scenario);
  const graph = Object.fromEntries(
    GRAPH_COLLECTIONS.map((c) => [c, new ArrayCollection(s.graph[c] as Entity[], INDEXED_FIELDS[c] ?? [])]),
  ) as unknown as Record<GraphCollectionName, Collection>;
  const exchange = Object.fromEntries(
    EXCHANGE_NOUNS.map((n) => [
      n,
      new ArrayCollection(
        s.exchange[n].map((o) => ({ ...o, id: o.Guid }) as Entity),
        n === 'Mailbox' ? ['ExternalDirectoryObjectId', 'UserPrincipalName'] : n === 'AcceptedDomain' ? ['DomainName'] : [],
      ),
    ]),
  ) as unknown as Record<ExchangeNoun, Collection>;
  return {
    id: s.tenant.id,
    size: s.tenant.size ?? 'small',
    licences: new Set(s.tenant.licences ?? ALL_LICENCES),
    initialDomain: s.tenant.initialDomain,
    graph,
    authorizationPolicy: s.graph.authorizationPolicy,
    adminConsentRequestPolicy: s.graph.adminConsentRequestPolicy,
    groupMembers: new Map(Object.entries(s.graph.groupMembers).map(([g, m]) => [g.toLowerCase(), m])),
    inboxRules: new InboxRuleStore(s.graph.messageRules as Record<string, Entity[]>),
    exchange,
    dns: s.dns,
    mailboxOf: (userId) => exchange.Mailbox.findBy('ExternalDirectoryObjectId', userId)[0],
  };
}
