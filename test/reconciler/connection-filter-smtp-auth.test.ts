import { describe, expect, it } from 'vitest';
import { findingsRestored, reverseOf } from '../../reconciler/apply/rollback.js';
import { writeProblemFor } from '../../reconciler/apply/writes.js';
import { directoryOf } from '../../reconciler/evaluate/context.js';
import { evaluate } from '../../reconciler/evaluate/index.js';
import type { ChangeEvidenceRecord } from '../../reconciler/evidence/trail.js';
import type { Manifest } from '../../reconciler/manifest/schema.js';
import type { LiveState } from '../../reconciler/model/live.js';
import { plannedChanges } from '../../reconciler/plan/changes.js';
import { typesToRead } from '../../reconciler/read/live.js';
import { isWritable, resourceType } from '../../reconciler/resources/registry.js';
import { build, declareAll } from '../stacks/helpers.js';

const TODAY = '2026-06-01';
const ok = <T>(value: T) => ({ ok: true as const, value, endpoint: '', readAt: '2026-06-01T00:00:00Z' });

/** The full posture with the two controls in remediate mode, and the given exceptions. */
function posture(exceptions: Manifest['exceptions'] = []): Manifest {
  const m = build(declareAll).posture.toManifest();
  return {
    ...m,
    controls: m.controls.map((c) => (/^(MAIL\.INBOUND\.3|MAIL\.SMTP\.1)v/.test(c.id) ? { ...c, mode: 'remediate' as const } : c)),
    exceptions: [...m.exceptions, ...exceptions],
  };
}

const exception = (value: string, expires: string) => ({
  id: `EXC-${value}`, control: 'MAIL.INBOUND.3v1', scope: { type: 'policy' as const, value }, reason: 'partner relay', approvedBy: 'ciso@contoso.example', expires, declaredBy: 'test',
});

function run(m: Manifest, live: LiveState) {
  const { findings, incomplete } = evaluate(m, live, TODAY);
  return { findings, incomplete, changes: plannedChanges(findings, m, live, directoryOf(live)) };
}

const base = { users: ok([]), groups: ok([]) };
const record = (c: ReturnType<typeof run>['changes'][number], before: unknown, after: unknown): ChangeEvidenceRecord => ({
  v: 1, seq: 7, runId: 'run-1', time: '2026-06-01T10:00:00.000Z', kind: 'change', actor: { kind: 'application', id: 'app' }, prev: '0'.repeat(64), hash: '1'.repeat(64), planHash: '2'.repeat(64),
  findingId: c.findingId, control: c.control, resource: c.resource, action: c.action, write: c.write, before, after, result: 'applied',
});

describe('hostedConnectionFilterPolicy (MAIL.INBOUND.3)', () => {
  const policy = { Identity: 'Default', Name: 'Default', IPAllowList: ['192.0.2.0/24', '198.51.100.7'], IPBlockList: [], EnableSafeList: true };

  it('is read only when a declared control reads it', () => {
    expect(typesToRead(posture()).map((t) => t.key)).toEqual(expect.arrayContaining(['hostedConnectionFilterPolicy', 'transportConfig']));
    const m = posture();
    expect(typesToRead({ ...m, controls: m.controls.filter((c) => !c.id.startsWith('MAIL.INBOUND.3')) }).map((t) => t.key)).not.toContain('hostedConnectionFilterPolicy');
  });

  it('finds allow-listed ranges and the safe list, keeps what an exception in force names, and writes exactly that', () => {
    const { findings, changes } = run(posture([exception('Default/198.51.100.7', '2099-01-01')]), { ...base, connectionFilter: ok([policy]) });
    const f = findings.filter((x) => x.control.id === 'MAIL.INBOUND.3');
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({
      status: 'violation', check: 'connection-filter-ip-allow-list', resource: { type: 'hostedConnectionFilterPolicy', name: 'Default' }, change: { action: 'update', automatic: true },
      summary: 'Connection filter policy "Default" allow-lists 192.0.2.0/24 and enables the safe list: mail from those senders skips spam filtering and DMARC.',
    });
    const c = changes.find((x) => x.resource.type === 'hostedConnectionFilterPolicy')!;
    expect(c.write).toEqual({ api: 'exchange', cmdlet: 'Set-HostedConnectionFilterPolicy', parameters: { Identity: 'Default', IPAllowList: ['198.51.100.7'], EnableSafeList: false } });
    expect(writeProblemFor('hostedConnectionFilterPolicy', c.write)).toBeUndefined();
    expect(writeProblemFor('transportConfig', c.write)).toBe('it is a write of hostedConnectionFilterPolicy, not of transportConfig');

    // The one rule for "it took", and the inverse that restores the list and the safe list.
    const t = resourceType('hostedConnectionFilterPolicy');
    if (!isWritable(t)) throw new Error('not writable');
    expect(t.took(c.write, { ...policy, IPAllowList: ['198.51.100.7'], EnableSafeList: false })).toBeUndefined();
    expect(t.took(c.write, policy)).toBe('IPAllowList is ["192.0.2.0/24","198.51.100.7"]');
    const undo = reverseOf(record(c, policy, { ...policy, IPAllowList: ['198.51.100.7'], EnableSafeList: false }));
    expect(undo).toMatchObject({ action: 'update', write: { cmdlet: 'Set-HostedConnectionFilterPolicy', parameters: { Identity: 'Default', IPAllowList: ['192.0.2.0/24', '198.51.100.7'], EnableSafeList: true } } });
    // Undoing it is undoing a security fix: rollback names the finding and needs --restore-insecure.
    expect(findingsRestored([undo as never])).toMatchObject([{ control: 'MAIL.INBOUND.3v1', severity: 'high', resource: { type: 'hostedConnectionFilterPolicy', name: 'Default' } }]);
  });

  it('an expired exception does not keep its entry: the finding is exception-expired and the entry is removed', () => {
    const { findings, changes } = run(posture([exception('Default/198.51.100.7', '2026-05-01')]), { ...base, connectionFilter: ok([{ ...policy, EnableSafeList: false }]) });
    expect(findings.find((x) => x.control.id === 'MAIL.INBOUND.3')).toMatchObject({ status: 'exception-expired', exception: { id: 'EXC-Default/198.51.100.7' } });
    expect(changes.find((x) => x.resource.type === 'hostedConnectionFilterPolicy')!.write).toMatchObject({ parameters: { IPAllowList: [] } });
  });

  it('every entry excepted and no safe list: excepted, nothing to write; an empty list and no safe list: no finding', () => {
    const m = posture([exception('Default/192.0.2.0/24', '2099-01-01'), exception('Default/198.51.100.7', '2099-01-01')]);
    const excepted = run(m, { ...base, connectionFilter: ok([{ ...policy, EnableSafeList: false }]) });
    expect(excepted.findings.find((x) => x.control.id === 'MAIL.INBOUND.3')).toMatchObject({ status: 'excepted', change: { action: 'none' } });
    expect(excepted.changes.filter((x) => x.resource.type === 'hostedConnectionFilterPolicy')).toEqual([]);
    const clean = run(posture(), { ...base, connectionFilter: ok([{ ...policy, IPAllowList: null, EnableSafeList: false }]) });
    expect(clean.findings.filter((x) => x.control.id === 'MAIL.INBOUND.3')).toEqual([]);
  });

  it('a failed read is not evaluated and makes the run incomplete', () => {
    const { findings, incomplete } = run(posture(), {
      ...base,
      connectionFilter: { ok: false, endpoint: 'Exchange Get-HostedConnectionFilterPolicy', readAt: '', reason: 'permission-missing', permission: 'Exchange.ManageAsApp with the Global Reader role', error: 'denied' },
    });
    expect(findings.find((x) => x.control.id === 'MAIL.INBOUND.3')).toMatchObject({ status: 'not-evaluated' });
    expect(incomplete.map((i) => i.endpoint)).toContain('Exchange Get-HostedConnectionFilterPolicy');
  });
});

describe('transportConfig (MAIL.SMTP.1)', () => {
  it('finds SMTP AUTH on for the organisation and turns it off; rollback turns it on again', () => {
    const live = { Identity: 'contoso.onmicrosoft.com', SmtpClientAuthenticationDisabled: false };
    const { findings, changes } = run(posture(), { ...base, transportConfig: ok([live]) });
    expect(findings.find((x) => x.control.id === 'MAIL.SMTP.1')).toMatchObject({ status: 'violation', check: 'smtp-client-auth-disabled', resource: { type: 'transportConfig' }, change: { action: 'update', automatic: true } });
    const c = changes.find((x) => x.resource.type === 'transportConfig')!;
    expect(c.write).toEqual({ api: 'exchange', cmdlet: 'Set-TransportConfig', parameters: { SmtpClientAuthenticationDisabled: true } });
    expect(writeProblemFor('transportConfig', c.write)).toBeUndefined();
    const t = resourceType('transportConfig');
    if (!isWritable(t)) throw new Error('not writable');
    expect(t.took(c.write, { ...live, SmtpClientAuthenticationDisabled: true })).toBeUndefined();
    expect(t.took(c.write, live)).toBe('SmtpClientAuthenticationDisabled is false');
    expect(t.targetKey(c.write)).toBe('exchange transportconfig');
    expect(reverseOf(record(c, live, { ...live, SmtpClientAuthenticationDisabled: true }))).toMatchObject({ write: { cmdlet: 'Set-TransportConfig', parameters: { SmtpClientAuthenticationDisabled: false } } });
  });

  it('off (or declared stricter) is no finding', () => {
    const { findings } = run(posture(), { ...base, transportConfig: ok([{ SmtpClientAuthenticationDisabled: true }]) });
    expect(findings.filter((x) => x.control.id === 'MAIL.SMTP.1')).toEqual([]);
  });
});
