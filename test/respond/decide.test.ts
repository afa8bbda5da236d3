import { describe, expect, it } from 'vitest';
import { responseSchema, type ResponsePolicy } from '../../reconciler/manifest/response.js';
import { correlate, decide, tierOf, type Identity, type ResponseContext } from '../../reconciler/respond/decide.js';
import { signalKey } from '../../reconciler/respond/signals.js';
import { confidenceOf, fromDefenderAlert, fromRiskDetection, fromRiskyUser, fromSignalFile, signalFileSchema, type Signal } from '../../reconciler/respond/signals.js';

const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';
const owner = { name: 'Security Operations Manager', team: 'SecOps', contact: 'secops@contoso.example' };
const none = { automatic: [], approval: [], never: [] };
const cells = (c: { high: object; medium: object; low: object }) => c;

const policy: ResponsePolicy = responseSchema.parse({
  owner,
  actionOwners: {},
  lookbackHours: 24,
  windowHours: 4,
  signals: [
    { source: 'defenderAlert', evidenceTypes: ['mailboxConfigurationEvidence'], confidence: 'high' },
    { source: 'defenderAlert', serviceSources: ['microsoftDefenderForOffice365'], severities: ['high'], confidence: 'high' },
    { source: 'defenderAlert', serviceSources: ['microsoftDefenderForOffice365'], severities: ['medium'], confidence: 'medium' },
    { source: 'defenderAlert', serviceSources: ['microsoftDefenderForOffice365'], confidence: 'low' },
    { source: 'riskDetection', riskEventTypes: ['suspiciousInboxForwarding', 'mcasSuspiciousInboxManipulationRules'], confidence: 'high' },
    { source: 'riskDetection', riskEventTypes: ['anomalousToken', 'maliciousIPAddress'], confidence: 'medium' },
    { source: 'riskyUser', riskLevels: ['high'], confidence: 'high' },
    { source: 'external', sourceNames: ['mail-gateway'], minReportedConfidence: 'medium', confidence: 'medium' },
  ],
  tiers: { privilegedRoles: [GLOBAL_ADMIN], highValueGroups: ['Finance'], serviceAccounts: { users: ['svc-scanner@contoso.example'], groups: [] } },
  matrix: {
    privileged: cells({ high: { automatic: ['revokeSessions', 'confirmCompromised', 'notify'], approval: ['disableAccount'], never: [] }, medium: { automatic: ['revokeSessions', 'notify'], approval: ['confirmCompromised'], never: [] }, low: { automatic: ['notify'], approval: [], never: [] } }),
    serviceAccount: cells({ high: { automatic: ['notify'], approval: ['revokeSessions'], never: ['disableAccount'] }, medium: { automatic: ['notify'], approval: [], never: ['disableAccount'] }, low: { automatic: ['notify'], approval: [], never: ['disableAccount'] } }),
    highValue: cells({ high: { automatic: ['revokeSessions', 'confirmCompromised', 'removeMailRules', 'revokeConsents', 'notify'], approval: ['disableAccount'], never: [] }, medium: { automatic: ['revokeSessions', 'notify'], approval: [], never: [] }, low: { automatic: ['watchlist', 'notify'], approval: [], never: [] } }),
    sharedMailbox: cells({ high: { automatic: ['removeMailRules', 'notify'], approval: ['removeDelegates'], never: ['disableAccount'] }, medium: { automatic: ['notify'], approval: ['removeMailRules'], never: [] }, low: { automatic: ['notify'], approval: [], never: [] } }),
    standard: cells({ high: { automatic: ['revokeSessions', 'removeMailRules', 'notify'], approval: ['confirmCompromised'], never: [] }, medium: { automatic: ['notify'], approval: ['revokeSessions'], never: [] }, low: { automatic: ['watchlist'], approval: [], never: [] } }),
  },
  watchlist: { group: 'Watchlist', days: 14 },
  circuitBreaker: { maxIdentities: 3, maxShare: 0.5 },
});

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const identities: Identity[] = [
  { id: id(1), upn: 'fin@contoso.example', roles: [], groups: ['Finance'], recipientType: 'UserMailbox' },
  { id: id(2), upn: 'admin@contoso.example', roles: [GLOBAL_ADMIN], groups: ['Finance'], recipientType: 'UserMailbox' },
  { id: id(3), upn: 'svc-scanner@contoso.example', roles: [], groups: [], recipientType: 'UserMailbox' },
  { id: id(4), upn: 'shared@contoso.example', roles: [], groups: [], recipientType: 'SharedMailbox' },
  { id: id(5), upn: 'std@contoso.example', roles: [], groups: [], recipientType: 'UserMailbox' },
  { id: id(6), upn: 'bg1@contoso.example', roles: [GLOBAL_ADMIN], groups: [], recipientType: 'UserMailbox' },
];
const ctx: ResponseContext = { policy, breakGlass: { users: ['bg1@contoso.example'], groups: [] }, identities, userCount: 6 };

/** An alerts_v2 item as Graph returns it: annotations, server fields, evidence naming the user. */
const alert = (n: string, at: string, upn: string, o: { severity?: string; serviceSource?: string; evidence?: string } = {}) => ({
  '@odata.type': '#microsoft.graph.security.alert',
  id: n,
  providerAlertId: n,
  incidentId: '9001',
  status: 'new',
  severity: o.severity ?? 'high',
  classification: null,
  serviceSource: o.serviceSource ?? 'microsoftDefenderForOffice365',
  category: 'InitialAccess',
  title: 'A potentially malicious URL click was detected',
  createdDateTime: at,
  lastUpdateDateTime: at,
  evidence: [
    { '@odata.type': '#microsoft.graph.security.userEvidence', createdDateTime: at, verdict: 'suspicious', roles: [], tags: [], userAccount: { accountName: upn.split('@')[0], azureAdUserId: null, userPrincipalName: upn, domainName: 'contoso.example', userSid: null } },
    ...(o.evidence ? [{ '@odata.type': `#microsoft.graph.security.${o.evidence}`, createdDateTime: at, verdict: 'malicious', mailboxPrimaryAddress: upn, configurationType: 'mailForwardingRule' }] : []),
  ],
});
const detection = (n: string, at: string, userId: string, riskEventType: string, riskLevel = 'medium') => ({
  id: n, requestId: 'r', correlationId: 'c', riskEventType, riskState: 'atRisk', riskLevel, riskDetail: 'none', source: 'IdentityProtection', detectionTimingType: 'realtime',
  activity: 'signin', ipAddress: '203.0.113.9', activityDateTime: at, detectedDateTime: at, lastUpdatedDateTime: at, userId, userDisplayName: 'x', userPrincipalName: 'ignored@contoso.example',
});
const signals = (...xs: Array<Signal | undefined>) => xs.filter((x): x is Signal => !!x);

describe('signals and their confidence', () => {
  it('the first matching rule gives the confidence; a signal no rule matches is not authoritative', () => {
    const forwarding = fromDefenderAlert(alert('a1', '2026-12-01T10:00:00Z', 'fin@contoso.example', { severity: 'low', evidence: 'mailboxConfigurationEvidence' }))!;
    expect(forwarding.match.evidenceTypes).toEqual(['userevidence', 'mailboxconfigurationevidence']);
    expect(confidenceOf(policy.signals, forwarding)).toEqual({ confidence: 'high', rule: 0 });
    expect(confidenceOf(policy.signals, fromDefenderAlert(alert('a2', '2026-12-01T10:00:00Z', 'std@contoso.example', { severity: 'medium' }))!)).toEqual({ confidence: 'medium', rule: 2 });
    expect(confidenceOf(policy.signals, fromDefenderAlert(alert('a3', '2026-12-01T10:00:00Z', 'std@contoso.example', { severity: 'informational' }))!)).toEqual({ confidence: 'low', rule: 3 });
    expect(confidenceOf(policy.signals, fromDefenderAlert(alert('a4', '2026-12-01T10:00:00Z', 'std@contoso.example', { serviceSource: 'microsoftDefenderForEndpoint' }))!)).toBeUndefined();
    expect(confidenceOf(policy.signals, fromRiskDetection(detection('d1', '2026-12-01T10:00:00Z', id(1), 'unfamiliarFeatures'))!)).toBeUndefined();
    expect(confidenceOf(policy.signals, fromRiskDetection(detection('d2', '2026-12-01T10:00:00Z', id(1), 'anomalousToken'))!)).toEqual({ confidence: 'medium', rule: 5 });
  });

  it('an alert naming nobody, a risky user no longer at risk, give no signal', () => {
    expect(fromDefenderAlert({ id: 'x', evidence: [{ '@odata.type': '#microsoft.graph.security.deviceEvidence' }] })).toBeUndefined();
    expect(fromDefenderAlert({ evidence: 'not a list' })).toBeUndefined();
    expect(fromRiskyUser({ id: id(1), riskState: 'remediated', riskLevel: 'none' })).toBeUndefined();
    expect(fromRiskyUser({ id: id(1), riskState: 'atRisk', riskLevel: 'high', riskLastUpdatedDateTime: '2026-12-01T10:00:00Z' })).toMatchObject({ source: 'riskyUser', match: { riskLevel: 'high' } });
  });

  it('a signal file must be the versioned schema: unknown fields, a bad time, a user named by nothing are refused', () => {
    const ok = { schema: 'email-posture/signals@1', signals: [{ id: 'g-1', source: 'mail-gateway', type: 'credential-phish-click', observedAt: '2026-12-01T10:00:00+01:00', user: { upn: 'std@contoso.example' }, confidence: 'high', title: 'Clicked a credential phish' }] };
    const parsed = signalFileSchema.parse(ok);
    expect(fromSignalFile(parsed)).toEqual([{ source: 'external', id: 'mail-gateway:g-1', observedAt: '2026-12-01T09:00:00.000Z', subjects: [{ upn: 'std@contoso.example' }], title: 'Clicked a credential phish', match: { sourceName: 'mail-gateway', type: 'credential-phish-click', reportedConfidence: 'high' } }]);
    expect(confidenceOf(policy.signals, fromSignalFile(parsed)[0]!)).toEqual({ confidence: 'medium', rule: 7 });
    const low = fromSignalFile(signalFileSchema.parse({ ...ok, signals: [{ ...ok.signals[0], confidence: 'low' }] }))[0]!;
    expect(confidenceOf(policy.signals, low)).toBeUndefined();
    expect(signalFileSchema.safeParse({ ...ok, schema: 'email-posture/signals@2' }).success).toBe(false);
    expect(signalFileSchema.safeParse({ ...ok, signals: [{ ...ok.signals[0], extra: 1 }] }).success).toBe(false);
    expect(signalFileSchema.safeParse({ ...ok, signals: [{ ...ok.signals[0], observedAt: 'yesterday' }] }).success).toBe(false);
    expect(signalFileSchema.safeParse({ ...ok, signals: [{ ...ok.signals[0], user: {} }] }).success).toBe(false);
  });
});

describe('tiers', () => {
  it('break-glass before everything, then privileged, service account, high-value, shared mailbox, standard', () => {
    expect(identities.map((i) => tierOf(i, ctx))).toEqual(['highValue', 'privileged', 'serviceAccount', 'sharedMailbox', 'standard', 'breakGlass']);
  });
});

describe('incidents', () => {
  it('one incident per identity and window: later signals join it and raise its confidence; a signal seen twice counts once', () => {
    const s = signals(
      fromDefenderAlert(alert('a1', '2026-12-01T10:00:00Z', 'fin@contoso.example', { severity: 'medium' })),
      fromRiskDetection(detection('d1', '2026-12-01T12:00:00Z', id(1), 'suspiciousInboxForwarding')),
      fromDefenderAlert(alert('a1', '2026-12-01T10:00:00Z', 'fin@contoso.example', { severity: 'medium' })),
      fromDefenderAlert(alert('a9', '2026-12-01T20:00:00Z', 'fin@contoso.example', { severity: 'medium' })),
    );
    const { incidents, setAside } = correlate(s, ctx);
    expect(setAside).toEqual([]);
    expect(incidents.map((i) => [i.identity.upn, i.confidence, i.signals.map((x) => x.signal.id)])).toEqual([
      ['fin@contoso.example', 'high', ['a1', 'd1']],
      ['fin@contoso.example', 'medium', ['a9']],
    ]);
    // Stable ids: the same signals give the same incidents on the next run.
    expect(correlate([...s].reverse(), ctx).incidents.map((i) => i.id)).toEqual(incidents.map((i) => i.id));
  });

  it('an open incident from an earlier run is continued: its signals are not counted again, a new one joins it', () => {
    const first = correlate(signals(fromDefenderAlert(alert('a1', '2026-12-01T10:00:00Z', 'std@contoso.example', { severity: 'medium' }))), ctx).incidents;
    const next = correlate(signals(fromDefenderAlert(alert('a1', '2026-12-01T10:00:00Z', 'std@contoso.example', { severity: 'medium' })), fromDefenderAlert(alert('a2', '2026-12-01T11:00:00Z', 'std@contoso.example'))), ctx, first).incidents;
    expect(next.map((i) => [i.id, i.confidence, i.signals.length])).toEqual([[first[0]!.id, 'high', 2]]);
  });

  it('a continued incident is placed again as the identity is now: one made break-glass since is never acted on', () => {
    const first = correlate(signals(fromDefenderAlert(alert('a1', '2026-12-01T10:00:00Z', 'std@contoso.example'))), ctx).incidents;
    expect(first[0]!.placement).toBe('standard');
    const now = { ...ctx, breakGlass: { users: ['bg1@contoso.example', 'std@contoso.example'], groups: [] } };
    const next = correlate(signals(fromDefenderAlert(alert('a2', '2026-12-01T11:00:00Z', 'std@contoso.example'))), now, first).incidents;
    expect(next.map((i) => [i.id, i.placement])).toEqual([[first[0]!.id, 'breakGlass']]);
    const d = decide(next, now);
    expect(d.decisions).toEqual([]);
    expect(d.protected.map((i) => i.identity.upn)).toEqual(['std@contoso.example']);
  });

  it('signals about nobody the tenant knows, or that no rule holds authoritative, or without a time, are set aside and say why', () => {
    const { incidents, setAside } = correlate(
      signals(
        fromDefenderAlert(alert('a1', '2026-12-01T10:00:00Z', 'ghost@contoso.example')),
        fromRiskDetection(detection('d1', '2026-12-01T10:00:00Z', id(5), 'unfamiliarFeatures')),
        fromDefenderAlert(alert('a2', 'not a time', 'std@contoso.example')),
      ),
      ctx,
    );
    expect(incidents).toEqual([]);
    expect(setAside.map((s) => [s.signal.id, s.reason]).sort()).toEqual([['a1', 'unknown-identity'], ['a2', 'no-time'], ['d1', 'not-authoritative']]);
  });
});

describe('decisions', () => {
  const one = (upn: string, o: Parameters<typeof alert>[3] = {}) => correlate(signals(fromDefenderAlert(alert(`a-${upn}`, '2026-12-01T10:00:00Z', upn, o))), ctx).incidents;
  const table = (d: ReturnType<typeof decide>) => d.decisions.map((x) => `${x.identity.upn} ${x.action} ${x.disposition} ${x.rule}`);

  it('each tier × confidence does what its cell declares, and nothing else', () => {
    expect(table(decide(one('fin@contoso.example'), ctx))).toEqual([
      'fin@contoso.example revokeSessions automatic matrix.highValue.high.automatic',
      'fin@contoso.example confirmCompromised automatic matrix.highValue.high.automatic',
      'fin@contoso.example disableAccount approval matrix.highValue.high.approval',
      'fin@contoso.example removeMailRules automatic matrix.highValue.high.automatic',
      'fin@contoso.example revokeConsents automatic matrix.highValue.high.automatic',
      'fin@contoso.example notify automatic matrix.highValue.high.automatic',
    ]);
    expect(table(decide(one('svc-scanner@contoso.example'), ctx))).toEqual([
      'svc-scanner@contoso.example revokeSessions approval matrix.serviceAccount.high.approval',
      'svc-scanner@contoso.example disableAccount never matrix.serviceAccount.high.never',
      'svc-scanner@contoso.example notify automatic matrix.serviceAccount.high.automatic',
    ]);
    expect(table(decide(one('std@contoso.example', { severity: 'low' }), ctx))).toEqual(['std@contoso.example watchlist automatic matrix.standard.low.automatic']);
    for (const tier of ['privileged', 'serviceAccount', 'highValue', 'sharedMailbox', 'standard'] as const) {
      for (const c of ['high', 'medium', 'low'] as const) {
        const cell = policy.matrix[tier][c];
        const upn = identities.find((i) => tierOf(i, ctx) === tier)!.upn;
        const severity = c === 'high' ? 'high' : c === 'medium' ? 'medium' : 'low';
        const d = decide(one(upn, { severity }), ctx).decisions;
        expect(d.every((x) => x.tier === tier && x.confidence === c)).toBe(true);
        expect(d.filter((x) => x.disposition === 'automatic').map((x) => x.action).sort()).toEqual([...cell.automatic].sort());
        expect(d.filter((x) => x.disposition === 'approval').map((x) => x.action).sort()).toEqual([...cell.approval].sort());
        expect(d.filter((x) => x.disposition === 'never').map((x) => x.action).sort()).toEqual([...cell.never].sort());
      }
    }
  });

  it('a break-glass account is never acted on: its incident is kept aside, with no decision', () => {
    const d = decide(one('bg1@contoso.example'), ctx);
    expect(d.decisions).toEqual([]);
    expect(d.protected.map((i) => i.identity.upn)).toEqual(['bg1@contoso.example']);
  });

  it('the circuit breaker: more identities than allowed, or more than the share, and nothing runs automatically', () => {
    const wave = correlate(
      signals(...['fin', 'admin', 'shared', 'std'].map((u, n) => fromDefenderAlert(alert(`w${n}`, '2026-12-01T10:00:00Z', `${u}@contoso.example`)))),
      ctx,
    ).incidents;
    const d = decide(wave, ctx);
    expect(d.circuitBreaker).toMatch(/would touch 4 identities within 24 hours \(0 by earlier runs\), more than the circuit breaker allows \(3 identities/);
    expect(d.decisions.filter((x) => x.disposition === 'automatic')).toEqual([]);
    expect(d.decisions.filter((x) => x.heldBack).length).toBeGreaterThan(0);
    expect(d.decisions.filter((x) => x.disposition === 'never').every((x) => !x.heldBack)).toBe(true);
    // By share: two of six users is more than a quarter.
    const byShare = decide(wave.slice(0, 2), { ...ctx, policy: { ...policy, circuitBreaker: { maxIdentities: 100, maxShare: 0.25 } } });
    expect(byShare.circuitBreaker).toMatch(/2 identities/);
    expect(decide(wave.slice(0, 3), ctx).circuitBreaker).toBeUndefined();
  });
});

it('every cell of the example matrix is filled (the schema requires all tiers and confidences)', () => {
  const missing = { ...policy.matrix, standard: { high: none, medium: none } };
  expect(responseSchema.safeParse({ ...policy, matrix: missing }).success).toBe(false);
});

describe('what an alert names, and when a signal counts', () => {
  const evidence = (upn: string, roles: string[], verdict = 'suspicious') => ({
    '@odata.type': '#microsoft.graph.security.userEvidence', createdDateTime: '2026-12-01T10:00:00Z', verdict, roles, tags: [],
    userAccount: { accountName: upn.split('@')[0], azureAdUserId: null, userPrincipalName: upn, domainName: 'contoso.example', userSid: null },
  });
  const withEvidence = (n: string, items: object[]) => ({ ...alert(n, '2026-12-01T10:00:00Z', 'unused@contoso.example'), evidence: items });

  it('an alert names its parties (no roles, attacked, compromised, the phished recipient), not the bystanders it mentions or those found clean', () => {
    const a = fromDefenderAlert(
      withEvidence('r1', [
        evidence('fin@contoso.example', ['compromised']),
        evidence('std@contoso.example', ['destination']),
        evidence('shared@contoso.example', []),
        evidence('admin@contoso.example', ['contextual']),
        evidence('svc-scanner@contoso.example', ['attacked'], 'noThreatsFound'),
        evidence('bg1@contoso.example', ['contextual', 'attacked']),
      ]),
    )!;
    expect(a.subjects.map((x) => x.upn)).toEqual(['fin@contoso.example', 'std@contoso.example', 'shared@contoso.example', 'bg1@contoso.example']);
    expect(a.mentions?.map((x) => x.upn)).toEqual(['admin@contoso.example', 'svc-scanner@contoso.example']);
    // Only bystanders: the alert names nobody to act on, and leads to no incident.
    const only = fromDefenderAlert(withEvidence('r2', [evidence('admin@contoso.example', ['contextual']), evidence('std@contoso.example', ['scanned'])]))!;
    expect([only.subjects, only.mentions?.map((x) => x.upn)]).toEqual([[], ['admin@contoso.example', 'std@contoso.example']]);
    expect(correlate(signals(only), ctx).incidents).toEqual([]);
    // A break-glass account mentioned in passing reaches the incident owner, beside the parties' own incident.
    const both = correlate(signals(fromDefenderAlert(withEvidence('r3', [evidence('std@contoso.example', []), evidence('bg1@contoso.example', ['contextual'])]))), ctx).incidents;
    expect(both.map((i) => [i.identity.upn, i.placement, i.signals[0]!.rule]).sort()).toEqual([['bg1@contoso.example', 'breakGlass', -1], ['std@contoso.example', 'standard', 1]]);
  });

  it('a resolved alert or a dismissed risk leads to no action; a break-glass account it names still reaches the owner', () => {
    const resolved = fromDefenderAlert({ ...alert('z1', '2026-12-01T10:00:00Z', 'std@contoso.example'), status: 'resolved' });
    const dismissed = fromRiskDetection({ ...detection('z2', '2026-12-01T10:00:00Z', id(1), 'suspiciousInboxForwarding'), riskState: 'dismissed' });
    const aboutBg = fromDefenderAlert({ ...alert('z3', '2026-12-01T10:00:00Z', 'bg1@contoso.example'), status: 'resolved' });
    const { incidents, setAside } = correlate(signals(resolved, dismissed, aboutBg), ctx);
    expect(setAside.map((x) => [x.signal.id, x.reason]).sort()).toEqual([['z1', 'resolved'], ['z2', 'resolved']]);
    expect(incidents.map((i) => [i.identity.upn, i.placement])).toEqual([['bg1@contoso.example', 'breakGlass']]);
  });

  it('an alert raised to a higher severity is a new version: judged again, it joins its incident and raises its confidence', () => {
    const low = fromDefenderAlert(alert('v1', '2026-12-01T10:00:00Z', 'std@contoso.example', { severity: 'informational' }))!;
    const high = fromDefenderAlert({ ...alert('v1', '2026-12-01T10:00:00Z', 'std@contoso.example', { severity: 'high' }), lastUpdateDateTime: '2026-12-01T13:00:00Z' })!;
    expect(signalKey(low)).not.toBe(signalKey(high));
    const first = correlate(signals(low), ctx).incidents;
    expect(first.map((i) => i.confidence)).toEqual(['low']);
    const next = correlate(signals(low, high), ctx, first.map((i) => ({ ...i, fresh: 0 }))).incidents;
    expect(next.map((i) => [i.id, i.confidence, i.fresh])).toEqual([[first[0]!.id, 'high', 1]]);
    // The same version read again is nothing new.
    expect(correlate(signals(low), ctx, first.map((i) => ({ ...i, fresh: 0 }))).incidents).toEqual([]);
  });

  it('the key of a signal cannot be forged by a colon or a bar in an id; a signal file source holds neither', () => {
    expect(signalKey({ source: 'external', id: 'a|b' })).not.toBe(signalKey({ source: 'external', id: 'a', version: 'b' }));
    const file = (source: string) => signalFileSchema.safeParse({ schema: 'email-posture/signals@1', signals: [{ id: 'x', source, type: 't', observedAt: '2026-12-01T10:00:00Z', user: { upn: 'std@contoso.example' }, title: 't' }] });
    expect(file('mail-gateway').success).toBe(true);
    expect(file('mail:gateway').success).toBe(false);
    expect(file('mail gateway').success).toBe(false);
  });

  it('a subject whose id and UPN name different users is ambiguous: set aside, and guarded when either is a break-glass account', () => {
    const named = (n: string, userId: string, upn: string) => ({ ...detection(n, '2026-12-01T10:00:00Z', userId, 'suspiciousInboxForwarding'), userPrincipalName: upn });
    const { incidents, setAside } = correlate(
      signals(
        fromRiskDetection(named('m1', id(5), 'fin@contoso.example')),
        fromRiskDetection(named('m2', id(5), 'bg1@contoso.example')),
        // An id that names nobody beside a UPN that names someone: a deleted user's address reused.
        fromRiskDetection(named('m3', id(99), 'std@contoso.example')),
        // A UPN that names nobody (renamed since): the id decides.
        fromRiskDetection(named('m4', id(1), 'old-name@contoso.example')),
      ),
      ctx,
    );
    expect(setAside.map((x) => [x.signal.id, x.reason]).sort()).toEqual([['m1', 'ambiguous-identity'], ['m2', 'ambiguous-identity'], ['m3', 'ambiguous-identity']]);
    expect(incidents.map((i) => [i.identity.upn, i.placement, i.signals.map((x) => x.signal.id)]).sort()).toEqual([
      ['bg1@contoso.example', 'breakGlass', ['m2']],
      ['fin@contoso.example', 'highValue', ['m4']],
    ]);
  });

  it('signals are judged within the read window: a file signal from before it, or any from beyond the clock, is set aside; a late alert joins the incident it falls in', () => {
    const bounds = { since: '2026-12-01T08:00:00Z', until: '2026-12-01T12:00:00Z' };
    const gw = (n: string, at: string) =>
      fromSignalFile(signalFileSchema.parse({ schema: 'email-posture/signals@1', signals: [{ id: n, source: 'mail-gateway', type: 'phish', observedAt: at, user: { upn: 'std@contoso.example' }, confidence: 'high', title: 't' }] }))[0]!;
    const { incidents, setAside } = correlate(
      signals(gw('old', '2026-11-01T10:00:00Z'), gw('future', '2026-12-09T10:00:00Z'), fromDefenderAlert(alert('ahead', '2026-12-01T12:10:00Z', 'fin@contoso.example')), gw('in', '2026-12-01T11:00:00Z'), fromDefenderAlert(alert('skew', '2026-12-01T12:03:00Z', 'fin@contoso.example'))),
      ctx,
      [],
      new Set(),
      bounds,
    );
    expect(setAside.map((x) => [x.signal.id, x.reason]).sort()).toEqual([['ahead', 'outside-window'], ['mail-gateway:future', 'outside-window'], ['mail-gateway:old', 'outside-window']]);
    expect(incidents.map((i) => i.signals.map((x) => x.signal.id)).sort()).toEqual([['mail-gateway:in'], ['skew']]);

    // An incident open from an earlier run: an alert arriving late but dated within its span joins it (and moves its start back);
    // one dated days before the span is a separate incident, not a part of it.
    const open = correlate(signals(fromDefenderAlert(alert('o1', '2026-12-05T10:00:00Z', 'std@contoso.example'))), ctx).incidents.map((i) => ({ ...i, fresh: 0 }));
    const later = correlate(signals(fromDefenderAlert(alert('late', '2026-12-05T07:00:00Z', 'std@contoso.example')), fromDefenderAlert(alert('long-before', '2026-12-01T10:00:00Z', 'std@contoso.example'))), ctx, open).incidents;
    expect(later.map((i) => [i.signals.map((x) => x.signal.id), i.openedAt]).sort()).toEqual([
      [['long-before'], '2026-12-01T10:00:00Z'],
      [['o1', 'late'], '2026-12-05T07:00:00Z'],
    ]);
  });

  it('the circuit breaker counts a rolling window: identities earlier runs acted on count with this run\'s, and a run adding none does not trip it', () => {
    const two = correlate(signals(...['fin', 'std'].map((u, n) => fromDefenderAlert(alert(`q${n}`, '2026-12-01T10:00:00Z', `${u}@contoso.example`)))), ctx).incidents;
    expect(decide(two, ctx).circuitBreaker).toBeUndefined();
    const tripped = decide(two, { ...ctx, recentlyActedOn: [id(2), id(4)] });
    expect(tripped.circuitBreaker).toMatch(/would touch 4 identities within 24 hours \(2 by earlier runs\)/);
    expect(tripped.decisions.filter((x) => x.disposition === 'automatic')).toEqual([]);
    // The same identities acted on before, and now again: nothing new is touched, the breaker holds nothing back.
    expect(decide(two, { ...ctx, recentlyActedOn: [id(1), id(5), id(2), id(4)] }).circuitBreaker).toBeUndefined();
  });
});
