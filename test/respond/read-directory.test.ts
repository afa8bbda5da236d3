import { describe, expect, it } from 'vitest';
import { responseSchema } from '../../reconciler/manifest/response.js';
import { readDirectory } from '../../reconciler/respond/read.js';
import type { ExchangeTransport } from '../../reconciler/transport/exchange.js';
import type { GraphTransport } from '../../reconciler/transport/graph.js';

const GA = '62e90394-69f5-4237-9190-012177145e10';
const none = { automatic: [], approval: [], never: [] };
const cells = { high: none, medium: none, low: none };
const policy = responseSchema.parse({
  owner: { name: 'SecOps', team: 'SecOps', contact: 'secops@contoso.example' },
  actionOwners: {},
  lookbackHours: 24,
  windowHours: 4,
  signals: [{ source: 'riskyUser', riskLevels: ['high'], confidence: 'high' }],
  tiers: { privilegedRoles: [GA], highValueGroups: [], serviceAccounts: { users: [], groups: [] } },
  matrix: { privileged: cells, serviceAccount: cells, highValue: cells, sharedMailbox: cells, standard: cells },
  circuitBreaker: { maxIdentities: 3, maxShare: 0.5 },
});

/** A Graph that answers the directory reads from fixed pages, as the service shapes them. */
function graphWith(assignments: Array<Record<string, unknown>>): GraphTransport {
  const pages: Record<string, unknown[]> = {
    '/users': [{ id: 'u1', userPrincipalName: 'a@contoso.example', displayName: 'A' }],
    '/roleManagement/directory/roleAssignments': assignments,
    '/roleManagement/directory/roleEligibilitySchedules': [],
  };
  return { list: async (path: string) => pages[path.split('?')[0]!] ?? [] } as unknown as GraphTransport;
}
const exchange = { invoke: async () => [] } as unknown as ExchangeTransport;

describe('the directory respond tiers by', () => {
  it('a role holder whose type the answer does not give (the expansion missing) makes the read incomplete: no tier is trusted', async () => {
    const d = await readDirectory(policy, [], { graph: graphWith([{ id: 'x', principalId: 'p9', roleDefinitionId: GA }]), exchange });
    expect(d.incomplete.map((i) => i.what)).toEqual(['privileged role holders']);
  });

  it('a user holds the role; a deleted holder (principal null) and an application hold it for no user', async () => {
    const d = await readDirectory(
      policy,
      [],
      {
        graph: graphWith([
          { id: 'x1', principalId: 'u1', roleDefinitionId: GA, principal: { '@odata.type': '#microsoft.graph.user', id: 'u1' } },
          { id: 'x2', principalId: 'gone', roleDefinitionId: GA, principal: null },
          { id: 'x3', principalId: 'sp1', roleDefinitionId: GA, principal: { '@odata.type': '#microsoft.graph.servicePrincipal', id: 'sp1' } },
        ]),
        exchange,
      },
    );
    expect(d.incomplete).toEqual([]);
    expect(d.identities.map((i) => [i.upn, i.roles])).toEqual([['a@contoso.example', [GA]]]);
  });
});
