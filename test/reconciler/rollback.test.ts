import { describe, expect, it } from 'vitest';
import { planRollback, reverseOf, reverseRun } from '../../reconciler/apply/rollback.js';
import { restored } from '../../reconciler/resources/compare.js';
import { writeTypeOf } from '../../reconciler/apply/writes.js';
import type { Write } from '../../reconciler/model/change.js';
import type { ChangeEvidenceRecord, EvidenceRecord } from '../../reconciler/evidence/records.js';

let seq = 0;
/** A record as apply writes it: the resource type is the one whose write it holds. */
const record = (write: Write, before: unknown, after: unknown, result: ChangeEvidenceRecord['result'] = 'applied'): ChangeEvidenceRecord => ({
  v: 1, seq: ++seq, runId: 'run-1', time: '2026-06-01T10:00:00.000Z', kind: 'change', actor: { kind: 'application', id: 'app' },
  prev: '0'.repeat(64), hash: '1'.repeat(64), planHash: '2'.repeat(64), findingId: `EP-${seq}`, control: 'MAIL.FWD.1v1',
  resource: { type: writeTypeOf(write) ?? 'thing', id: null, name: `thing ${seq}` }, action: 'update', write, before, after, result,
});

describe('reverseOf', () => {
  it('patches back the whole before-value of each property a PATCH set', () => {
    const before = { id: 'p1', state: 'enabled', conditions: { users: { includeUsers: ['All'], excludeUsers: ['a'] } }, grantControls: null };
    const r = reverseOf(record({ api: 'graph', method: 'PATCH', path: '/identity/conditionalAccess/policies/p1', body: { conditions: { users: { excludeUsers: ['a', 'b'] } }, grantControls: { operator: 'OR' } } }, before, {}));
    expect(r).toMatchObject({ action: 'update', write: { method: 'PATCH', path: '/identity/conditionalAccess/policies/p1', body: { conditions: before.conditions, grantControls: null } } });
  });

  it('deletes what a POST created, by the id read back after it', () => {
    const r = reverseOf(record({ api: 'graph', method: 'POST', path: '/identity/conditionalAccess/policies', body: {} }, null, { id: 'new-id', displayName: 'x' }));
    expect(r).toMatchObject({ action: 'delete', write: { method: 'DELETE', path: '/identity/conditionalAccess/policies/new-id' }, resource: { id: 'new-id' } });
    expect(reverseOf(record({ api: 'graph', method: 'POST', path: '/identity/conditionalAccess/policies', body: {} }, null, null))).toMatchObject({ reason: /id of the created resource/ });
    expect(reverseOf(record({ api: 'graph', method: 'POST', path: '/users/u1/mailFolders/inbox/messageRules', body: {} }, null, { id: 'AQ/+=' }))).toMatchObject({ write: { path: '/users/u1/mailFolders/inbox/messageRules/AQ%2F%2B%3D' } });
  });

  it('recreates a deleted grant and a deleted inbox rule without their read-only properties', () => {
    const grant = { id: 'g1', clientId: 'c', consentType: 'Principal', principalId: 'u', resourceId: 'r', scope: 'Mail.Send' };
    expect(reverseOf(record({ api: 'graph', method: 'DELETE', path: '/oauth2PermissionGrants/g1' }, grant, null))).toMatchObject({
      action: 'create', write: { method: 'POST', path: '/oauth2PermissionGrants', body: { clientId: 'c', consentType: 'Principal', principalId: 'u', resourceId: 'r', scope: 'Mail.Send' } },
    });
    const rule = { id: 'AQ=', displayName: '.', sequence: 2, isEnabled: true, hasError: false, isReadOnly: false, actions: { forwardTo: [] } };
    const r = reverseOf(record({ api: 'graph', method: 'DELETE', path: '/users/u1/mailFolders/inbox/messageRules/AQ=' }, rule, null));
    expect(r).toMatchObject({ action: 'create', write: { method: 'POST', path: '/users/u1/mailFolders/inbox/messageRules', body: { displayName: '.', sequence: 2, isEnabled: true, actions: { forwardTo: [] } } } });
    expect((r as { write: { body: object } }).write.body).not.toHaveProperty('id');
    expect((r as { write: { body: object } }).write.body).not.toHaveProperty('hasError');
  });

  it('sets back the Exchange parameters a Set- changed, enables a disabled rule, and turns off a created DKIM configuration', () => {
    expect(reverseOf(record({ api: 'exchange', cmdlet: 'Set-Mailbox', parameters: { Identity: 'm@x', ForwardingSmtpAddress: null, DeliverToMailboxAndForward: false } }, { ForwardingSmtpAddress: 'smtp:a@b', DeliverToMailboxAndForward: true, Other: 1 }, {}))).toMatchObject({
      write: { cmdlet: 'Set-Mailbox', parameters: { Identity: 'm@x', ForwardingSmtpAddress: 'smtp:a@b', DeliverToMailboxAndForward: true } },
    });
    expect(reverseOf(record({ api: 'exchange', cmdlet: 'Disable-TransportRule', parameters: { Identity: 'r', Confirm: false } }, { State: 'Enabled' }, {}))).toMatchObject({ write: { cmdlet: 'Enable-TransportRule', parameters: { Identity: 'r' } } });
    expect(reverseOf(record({ api: 'exchange', cmdlet: 'Disable-TransportRule', parameters: { Identity: 'r' } }, { State: 'Disabled' }, {}))).toBeUndefined();
    // A rollback's own Enable- is reversed too, so a rollback can be rolled back.
    expect(reverseOf(record({ api: 'exchange', cmdlet: 'Enable-TransportRule', parameters: { Identity: 'r', Confirm: false } }, { State: 'Disabled' }, {}))).toMatchObject({ write: { cmdlet: 'Disable-TransportRule', parameters: { Identity: 'r' } } });
    expect(reverseOf(record({ api: 'exchange', cmdlet: 'New-DkimSigningConfig', parameters: { DomainName: 'x.example', Enabled: true } }, null, {}))).toMatchObject({ write: { cmdlet: 'Set-DkimSigningConfig', parameters: { Identity: 'x.example', Enabled: false } } });
  });

  it('names what it cannot reverse: no recorded write, a redacted before-value', () => {
    const noWrite = { ...record({ api: 'graph', method: 'PATCH', path: '/x', body: {} }, {}, {}) };
    delete (noWrite as { write?: Write }).write;
    expect(reverseOf(noWrite)).toMatchObject({ reason: /does not hold the write/ });
    expect(reverseOf(record({ api: 'graph', method: 'PATCH', path: '/x', body: { a: 1 } }, { a: '[redacted]' }, {}))).toMatchObject({ reason: /redacted/ });
  });
});

describe('reverseOf dispatches on the stored resource type', () => {
  it('refuses a record naming a type this version does not know, or a write of another type, and never guesses from the write', () => {
    const w: Write = { api: 'exchange', cmdlet: 'Set-RemoteDomain', parameters: { Identity: 'A', AutoForwardEnabled: false } };
    const unknown = { ...record(w, { AutoForwardEnabled: true }, {}), resource: { type: 'mysteryWidget', id: null, name: 'A' } };
    expect((reverseOf(unknown) as { reason: string }).reason).toMatch(/^its resource type cannot be undone by this version \(unknown resource type "mysteryWidget"/);
    const misfiled = { ...record(w, { AutoForwardEnabled: true }, {}), resource: { type: 'mailbox', id: null, name: 'A' } };
    expect((reverseOf(misfiled) as { reason: string }).reason).toBe('its recorded write is not one apply makes (it is a write of remoteDomain, not of mailbox), so it cannot be trusted to say what to reverse');
    const readOnly = { ...record(w, { AutoForwardEnabled: true }, {}), resource: { type: 'acceptedDomain', id: null, name: 'A' } };
    expect((reverseOf(readOnly) as { reason: string }).reason).toBe('its resource type cannot be undone by this version (acceptedDomain is read-only: apply never writes it)');
  });

  it('a type without an inverse is irreversible by construction', () => {
    const w: Write = { api: 'graph', method: 'DELETE', path: '/servicePrincipals/sp1/appRoleAssignedTo/a1' };
    expect((reverseOf(record(w, { id: 'a1', appRoleId: 'r' }, null)) as { reason: string }).reason).toBe('a change to application permissions to the mail APIs cannot be undone by a rollback');
  });
});

describe('reverseRun', () => {
  it('reverses applied changes last first, skips those never attempted, and names failed ones', () => {
    const a = record({ api: 'exchange', cmdlet: 'Set-RemoteDomain', parameters: { Identity: 'A', AutoForwardEnabled: false } }, { AutoForwardEnabled: true }, {});
    const b = record({ api: 'exchange', cmdlet: 'Set-RemoteDomain', parameters: { Identity: 'B', AutoForwardEnabled: false } }, { AutoForwardEnabled: true }, {});
    const c = record({ api: 'exchange', cmdlet: 'Set-RemoteDomain', parameters: { Identity: 'C', AutoForwardEnabled: false } }, { AutoForwardEnabled: true }, null, 'failed');
    const d = record({ api: 'exchange', cmdlet: 'Set-RemoteDomain', parameters: { Identity: 'D', AutoForwardEnabled: false } }, { AutoForwardEnabled: true }, null, 'skipped');
    const { steps, irreversible } = reverseRun([a, b, c, d]);
    expect(steps.map((s) => s.write.api === 'exchange' && s.write.parameters['Identity'])).toEqual(['B', 'A']);
    expect(irreversible.map((i) => i.record.seq)).toEqual([c.seq]);
  });
});

describe('planRollback', () => {
  it('leaves out changes an earlier rollback undid, and finds the run\'s apply-start', () => {
    const a = record({ api: 'exchange', cmdlet: 'Set-RemoteDomain', parameters: { Identity: 'A', AutoForwardEnabled: false } }, { AutoForwardEnabled: true }, {});
    const b = record({ api: 'exchange', cmdlet: 'Set-RemoteDomain', parameters: { Identity: 'B', AutoForwardEnabled: false } }, { AutoForwardEnabled: true }, {});
    const start = { ...a, kind: 'apply-start', seq: 0, desiredHash: 'd', tenantId: 't', stack: 's', changes: 2 } as unknown as EvidenceRecord;
    const undo = { ...record({ api: 'exchange', cmdlet: 'Set-RemoteDomain', parameters: { Identity: 'B', AutoForwardEnabled: true } }, {}, {}), runId: 'run-2', rollbackOf: { runId: 'run-1', seq: b.seq } };
    const r = planRollback([start, a, b, undo], 'run-1');
    expect(r.start).toBe(start);
    expect(r.undone).toBe(1);
    expect(r.steps.map((s) => s.record.seq)).toEqual([a.seq]);
    expect(planRollback([start, a, b], 'other').start).toBeUndefined();
  });
});

describe('restored', () => {
  it('compares loosely where services normalise, strictly elsewhere', () => {
    expect(restored({ a: 'Off', b: null, c: [] }, { a: 'off', c: null, extra: 1 })).toBe(true);
    expect(restored({ list: ['x', 'y'] }, { list: ['Y', 'X'] })).toBe(true);
    expect(restored({ a: true }, { a: false })).toBe(false);
    expect(restored({ list: ['x'] }, { list: ['x', 'y'] })).toBe(false);
    expect(restored({ nested: { n: 1 } }, {})).toBe(false);
  });
});
