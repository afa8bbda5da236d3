import { describe, expect, it } from 'vitest';
import { directoryOf } from '../../reconciler/evaluate/context.js';
import { canonical, patchFrom } from '../../reconciler/evaluate/normalise.js';
import { diffPolicy, project, resolvePolicy } from '../../reconciler/resources/conditional-access-policy.js';
import { loadScenario, startSimulator } from '../../simulator/index.js';
import { build, declareAll } from '../stacks/helpers.js';

describe('canonical form', () => {
  it('treats null, [] and absent alike, sorts sets and folds enum case', () => {
    const enums = new Set(['state', 'operator']);
    expect(canonical({ a: null, b: [], c: {}, d: ['y', 'x', 'x'], state: 'Enabled', operator: 'AND', name: 'Keep Case' }, { enums })).toEqual({ d: ['x', 'y'], state: 'enabled', operator: 'and', name: 'Keep Case' });
    expect(patchFrom(canonical({ list: ['b', 'a'], gone: null }), canonical({ list: ['a', 'b'] }))).toEqual([]);
  });
});

describe('conditional access normalisation', () => {
  const manifest = build(declareAll).posture.toManifest();
  const scenario = loadScenario('compliant');
  const dir = directoryOf({
    users: { ok: true, value: [{ id: 'bg1-id', userPrincipalName: 'bg1@contoso.example' }, { id: 'bg2-id', userPrincipalName: 'bg2@contoso.example' }], endpoint: '', readAt: '' },
    groups: { ok: true, value: [], endpoint: '', readAt: '' },
  });

  it('a policy as Graph stores it (server defaults, read-only fields) has no diff from its declaration', async () => {
    const sim = await startSimulator({ scenario, limits: { enabled: false } });
    try {
      for (const desired of manifest.desired.conditionalAccess!.policies) {
        const resolved = resolvePolicy(desired, dir);
        expect(resolved.unresolved).toEqual([]);
        const res = await fetch(`${sim.graphUrl}/v1.0/identity/conditionalAccess/policies`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${sim.token('graph')}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(resolved.body),
        });
        expect(res.status).toBe(201);
        const live = (await res.json()) as Record<string, unknown>;
        expect(live['templateId']).toBeNull();
        expect(diffPolicy(resolved, live)).toEqual([]);
      }
    } finally {
      await sim.stop();
    }
  });

  it('shows a real change, as a JSON Patch from live to desired', () => {
    const desired = manifest.desired.conditionalAccess!.policies[0]!;
    const resolved = resolvePolicy(desired, dir);
    const live = structuredClone(resolved.body) as { state: string; conditions: { userRiskLevels: string[] } };
    live.state = 'disabled';
    live.conditions.userRiskLevels = ['high', 'medium'];
    const patch = diffPolicy(resolved, live);
    expect(patch).toHaveLength(2);
    expect(patch).toEqual(expect.arrayContaining([{ op: 'remove', path: '/conditions/userRiskLevels/1' }, { op: 'replace', path: '/state', value: 'enabled' }]));
    expect(project(live)).toHaveProperty('conditions.userRiskLevels', ['high', 'medium']);
  });

  it('reports references that do not resolve instead of guessing', () => {
    const desired = manifest.desired.conditionalAccess!.policies[0]!;
    const empty = directoryOf({ users: { ok: true, value: [], endpoint: '', readAt: '' }, groups: { ok: true, value: [], endpoint: '', readAt: '' } });
    expect(resolvePolicy(desired, empty).unresolved).toEqual(['user:bg1@contoso.example', 'user:bg2@contoso.example']);
  });
});
