import { describe, expect, it } from 'vitest';
import { findingsRestored, planRollback } from '../../reconciler/apply/rollback.js';
import type { Write } from '../../reconciler/model/change.js';
import type { ChangeEvidenceRecord, EvidenceRecord } from '../../reconciler/evidence/records.js';

let seq = 0;
const change = (runId: string, write: Write, before: unknown, after: unknown, rollbackOf?: { runId: string; seq: number }): ChangeEvidenceRecord => ({
  v: 1, seq: ++seq, runId, time: '2026-06-01T10:00:00.000Z', kind: 'change', actor: { kind: 'application', id: 'app' },
  prev: '0'.repeat(64), hash: '1'.repeat(64), planHash: '2'.repeat(64), findingId: 'EP-grant', control: 'APP.CONSENT.1v1',
  resource: { type: 'oauth2PermissionGrant', id: 'g1', name: 'Mail.ReadWrite for Contoso Mailer' }, action: rollbackOf ? (write.api === 'graph' && write.method === 'POST' ? 'create' : 'delete') : 'delete',
  write, before, after, result: 'applied', ...(rollbackOf ? { rollbackOf } : {}),
});
const start = (runId: string): EvidenceRecord =>
  ({ v: 1, seq: ++seq, runId, time: '2026-06-01T10:00:00.000Z', kind: 'apply-start', actor: { kind: 'application', id: 'app' }, prev: '0'.repeat(64), hash: '1'.repeat(64), planHash: '2'.repeat(64), desiredHash: 'd', tenantId: 't', stack: 's', changes: 1 }) as EvidenceRecord;

const grant = (id: string) => ({ id, clientId: 'risky-app', consentType: 'AllPrincipals', resourceId: 'graph-sp', scope: 'Mail.ReadWrite Mail.Send' });

describe('rolling back a rollback of a rollback', () => {
  it('brings the insecure state back, so it lists the finding and needs --restore-insecure', () => {
    // Run A fixes the finding: deletes the risky grant.
    const sA = start('A');
    const a = change('A', { api: 'graph', method: 'DELETE', path: '/oauth2PermissionGrants/g1' }, grant('g1'), null);
    // Run B rolls A back (with --restore-insecure): the grant is created again.
    const sB = start('B');
    const b = change('B', { api: 'graph', method: 'POST', path: '/oauth2PermissionGrants', body: { clientId: 'risky-app', consentType: 'AllPrincipals', resourceId: 'graph-sp', scope: 'Mail.ReadWrite Mail.Send' } }, null, grant('g2'), { runId: 'A', seq: a.seq });
    // Run C rolls B back: the grant is deleted again (secure again; restores nothing, rightly).
    const sC = start('C');
    const c = change('C', { api: 'graph', method: 'DELETE', path: '/oauth2PermissionGrants/g2' }, grant('g2'), null, { runId: 'B', seq: b.seq });
    const records = [sA, a, sB, b, sC, c];

    const ofB = planRollback(records, 'B');
    expect(findingsRestored(ofB.steps, records)).toEqual([]);

    // Rolling back C re-creates the risky grant: that is the insecure state run A removed.
    const ofC = planRollback(records, 'C');
    expect(ofC.steps.map((s) => s.write)).toEqual([{ api: 'graph', method: 'POST', path: '/oauth2PermissionGrants', body: { clientId: 'risky-app', consentType: 'AllPrincipals', resourceId: 'graph-sp', scope: 'Mail.ReadWrite Mail.Send' } }]);
    expect(findingsRestored(ofC.steps, records).map((r) => r.findingId)).toEqual(['EP-grant']);
  });

  it('a rollback change whose target is not in the trail is taken as restoring the finding', () => {
    const sX = start('X');
    const x = change('X', { api: 'graph', method: 'DELETE', path: '/oauth2PermissionGrants/g9' }, grant('g9'), null, { runId: 'gone', seq: 999 });
    const records = [sX, x];
    expect(findingsRestored(planRollback(records, 'X').steps, records).map((r) => r.findingId)).toEqual(['EP-grant']);
  });
});
