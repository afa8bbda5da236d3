import { describe, expect, it } from 'vitest';
import { directoryOf } from '../../reconciler/evaluate/context.js';
import { withoutAnnotations } from '../../reconciler/core/annotations.js';
import { canonical, patchFrom } from '../../reconciler/evaluate/normalise.js';
import { restored } from '../../reconciler/resources/compare.js';
import { snapshot } from '../../reconciler/apply/target.js';
import { fingerprintOf } from '../../reconciler/model/change.js';
import { reviewerTarget } from '../../reconciler/checks/consent.js';
import { evaluate } from '../../reconciler/evaluate/index.js';
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

describe('OData annotations', () => {
  const annotated = {
    '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies/$entity',
    id: 'p1',
    grantControls: {
      operator: 'OR',
      builtInControls: ['block'],
      'authenticationStrength@odata.context': "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies('p1')/grantControls/authenticationStrength/$entity",
      authenticationStrength: null,
    },
    reviewers: [{ '@odata.type': '#microsoft.graph.accessReviewReviewerScope', query: '/users/u1' }],
  };
  const plain = { id: 'p1', grantControls: { operator: 'OR', builtInControls: ['block'], authenticationStrength: null }, reviewers: [{ query: '/users/u1' }] };

  it('are dropped at every depth, inside objects and arrays, by name or by suffix', () => {
    expect(withoutAnnotations(annotated)).toEqual(plain);
    expect(canonical(annotated)).toEqual(canonical(plain));
    expect(patchFrom(canonical(annotated), canonical(plain))).toEqual([]);
  });

  it('change no fingerprint, no evidence snapshot and no restored-value comparison', () => {
    expect(fingerprintOf(annotated)).toBe(fingerprintOf(plain));
    expect(snapshot(annotated)).toEqual(snapshot(plain));
    expect(restored(plain, annotated)).toBe(true);
    expect(restored(annotated, plain)).toBe(true);
  });

  it('an admin consent reviewer names the same user with or without the API version in its query', () => {
    expect(reviewerTarget('/users/u1')).toEqual({ kind: 'users', id: 'u1' });
    expect(reviewerTarget('/v1.0/users/u1')).toEqual({ kind: 'users', id: 'u1' });
    expect(reviewerTarget('https://graph.microsoft.com/beta/groups/g1/transitiveMembers/microsoft.graph.user')).toEqual({ kind: 'groups', id: 'g1' });
    expect(reviewerTarget('/me')).toBeUndefined();
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

  it('a policy as Graph answers it (nested annotations, disableResilienceDefaults false) has no diff from its declaration', () => {
    for (const desired of manifest.desired.conditionalAccess!.policies) {
      const resolved = resolvePolicy(desired, dir);
      const live = structuredClone(resolved.body) as Record<string, unknown>;
      live['grantControls'] = { ...(live['grantControls'] as object), customAuthenticationFactors: [], termsOfUse: [], 'authenticationStrength@odata.context': "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies('x')/grantControls/authenticationStrength/$entity", authenticationStrength: null };
      live['sessionControls'] = { ...((live['sessionControls'] as object | null) ?? {}), disableResilienceDefaults: false, applicationEnforcedRestrictions: null, persistentBrowser: null };
      expect(diffPolicy(resolved, live)).toEqual([]);
    }
  });

  it('reports references that do not resolve instead of guessing', () => {
    const desired = manifest.desired.conditionalAccess!.policies[0]!;
    const empty = directoryOf({ users: { ok: true, value: [], endpoint: '', readAt: '' }, groups: { ok: true, value: [], endpoint: '', readAt: '' } });
    expect(resolvePolicy(desired, empty).unresolved).toEqual(['user:bg1@contoso.example', 'user:bg2@contoso.example']);
  });
});

describe('a failed read', () => {
  it('makes the run incomplete even when no declared control needs it', () => {
    const manifest = build(declareAll).posture.toManifest();
    delete (manifest.desired as { consent?: unknown }).consent;
    const ok = <T>(value: T) => ({ ok: true as const, value, endpoint: '', readAt: '2026-06-01T00:00:00Z' });
    const { incomplete } = evaluate(
      manifest,
      {
        users: ok([]),
        groups: ok([]),
        grants: { ok: false, endpoint: '/oauth2PermissionGrants?$top=999', readAt: '2026-06-01T00:00:00Z', reason: 'permission-missing', permission: 'DelegatedPermissionGrant.Read.All', error: 'Insufficient privileges' },
      },
      '2026-06-01',
    );
    expect(incomplete).toContainEqual({ what: 'delegated permission grants', endpoint: '/oauth2PermissionGrants?$top=999', error: 'permission missing: DelegatedPermissionGrant.Read.All' });
  });
});
