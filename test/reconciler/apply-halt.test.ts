import { describe, expect, it } from 'vitest';
import { applyChanges } from '../../reconciler/apply/apply.js';
import type { Connection } from '../../reconciler/input/connection.js';
import type { PlannedChange } from '../../reconciler/model/change.js';

/**
 * A failed write stops every write not yet sent, whatever place the sequence of intents and
 * outcomes gives it: a lane's next change (one conditional access lane, one mailbox's rules) never
 * follows a failed one, and no other lane starts a write once the failure is known.
 */
const policy = (i: number): PlannedChange =>
  ({
    findingId: `f${i}`, control: 'ID.CA.1', action: 'update', fingerprint: 'x', readAt: '2026-06-01T00:00:00Z', before: null,
    resource: { type: 'conditionalAccessPolicy', id: `p${i}`, name: `P${i}` },
    write: { api: 'graph', method: 'PATCH', path: `/identity/conditionalAccess/policies/p${i}`, body: { state: 'enabled' } },
  }) as unknown as PlannedChange;

/** A Graph that answers reads, and refuses the write to `failing` with 400. */
function graph(failing: string, log: string[]): Connection {
  const request = async (method: string, path: string) => {
    if (method === 'GET') return { status: 200, body: { id: path.split('/').pop(), displayName: 'x', state: 'enabled' } };
    log.push(`SEND ${path.split('/').pop()}`);
    if (path.endsWith(`/${failing}`)) return { status: 400, body: { error: { code: 'BadRequest', message: 'refused' } } };
    return { status: 204, body: null };
  };
  return { graph: { request, list: async () => [], call: async () => null } } as unknown as Connection;
}

describe('a failed write during a concurrent apply', () => {
  it('stops the rest of its lane: no write after the failed one is sent, nor its intent recorded', async () => {
    const log: string[] = [];
    const outcomes = await applyChanges({ changes: [0, 1, 2, 3, 4].map(policy) }, graph('p0', log), {
      beforeWrite: (c) => void log.push(`INTENT ${c.resource.id}`),
      onChange: (o) => void log.push(`OUTCOME ${o.change.resource.id} ${o.result}`),
    }, { concurrency: 32 });
    expect(log).toEqual(['INTENT p0', 'SEND p0', 'OUTCOME p0 failed']);
    expect(outcomes.map((o) => o.result)).toEqual(['failed']);
  });

  it('sends every write when none fails, each intent before its write', async () => {
    const log: string[] = [];
    await applyChanges({ changes: [0, 1, 2].map(policy) }, graph('none', log), {
      beforeWrite: (c) => void log.push(`INTENT ${c.resource.id}`),
      onChange: (o) => void log.push(`OUTCOME ${o.change.resource.id} ${o.result}`),
    }, { concurrency: 32 });
    expect(log.filter((l) => l.startsWith('SEND'))).toEqual(['SEND p0', 'SEND p1', 'SEND p2']);
    for (const id of ['p0', 'p1', 'p2']) expect(log.indexOf(`INTENT ${id}`)).toBeLessThan(log.indexOf(`SEND ${id}`));
  });
});
