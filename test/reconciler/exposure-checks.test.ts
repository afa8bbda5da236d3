import { describe, expect, it } from 'vitest';
import { MAILBOX_NAMES_SHOWN } from '../../reconciler/checks/exposure.js';
import { evaluate } from '../../reconciler/evaluate/index.js';
import type { LiveState } from '../../reconciler/model/live.js';
import { ExternalExposure, REQUIRED_AUDIT_ACTIONS } from '../../stacks/index.js';
import { build, owner } from '../stacks/helpers.js';

/** MAIL.EXPOSURE.1-3 as pure functions of the manifest and the live state. */
type Obj = Record<string, unknown>;
const ok = <T>(value: T) => ({ ok: true as const, value, endpoint: 'test', readAt: '2026-06-01T00:00:00Z' });
const failed = { ok: false as const, endpoint: 'Exchange Get-Mailbox', readAt: '2026-06-01T00:00:00Z', reason: 'read-failed' as const, error: 'HTTP 503' };

const manifest = (props: Partial<ConstructorParameters<typeof ExternalExposure>[2]> = {}, exceptions: Array<{ user: string }> = []) =>
  build((p) => {
    new ExternalExposure(p, 'ExternalExposure', { owner, ...props });
    for (const e of exceptions) {
      p.addException({ control: 'MAIL.EXPOSURE.3', scope: { type: 'user', value: e.user }, reason: 'Journal mailbox audited by the archive.', approvedBy: 'ciso@contoso.example', expires: '2026-09-30' });
    }
  }).posture.toManifest();

const audited = { AuditOwner: [...REQUIRED_AUDIT_ACTIONS.owner, 'Update'], AuditDelegate: [...REQUIRED_AUDIT_ACTIONS.delegate], AuditAdmin: [...REQUIRED_AUDIT_ACTIONS.admin] };
const mailbox = (i: number, extra: Obj = {}): Obj => ({ Identity: `User ${i}`, UserPrincipalName: `user${i}@contoso.example`, RecipientTypeDetails: 'UserMailbox', ...audited, ...extra });

const live = (over: Partial<LiveState> = {}): LiveState => ({
  users: ok([{ id: 'u1', userPrincipalName: 'mail-lead@contoso.example', accountEnabled: true }]),
  groups: ok([]),
  externalInOutlook: ok([{ Identity: 'ExternalInOutlook', Enabled: true, AllowList: [] }]),
  transportRules: ok([]),
  sharingPolicies: ok([{ Identity: 'Default Sharing Policy', Enabled: true, Default: true, Domains: [] }]),
  organizationConfig: ok([{ Identity: 'contoso.onmicrosoft.example', AuditDisabled: false }]),
  mailboxes: ok([mailbox(1)]),
  ...over,
});

const ours = (m: ReturnType<typeof manifest>, l: LiveState) => evaluate(m, l, '2026-06-01').findings.filter((f) => f.control.id.startsWith('MAIL.EXPOSURE.'));

describe('MAIL.EXPOSURE checks', () => {
  it('a tenant that meets all three has no finding', () => {
    expect(ours(manifest(), live())).toEqual([]);
  });

  it('each AllowList entry of the External tag is a report-only finding', () => {
    const f = ours(manifest(), live({ externalInOutlook: ok([{ Identity: 'ExternalInOutlook', Enabled: true, AllowList: ['fabrikam.example', 'ceo@northwind.example'] }]) }));
    expect(f.map((x) => [x.check, x.resource.name, x.change.action])).toEqual([
      ['external-tag-allow-list', 'ExternalInOutlook: AllowList ceo@northwind.example', 'none'],
      ['external-tag-allow-list', 'ExternalInOutlook: AllowList fabrikam.example', 'none'],
    ]);
  });

  it('with a banner rule declared, the External tag is not needed, and a rule in Audit mode is drift apply does not touch', () => {
    const m = manifest({ bannerRule: 'Outside warning' });
    const rule = { Name: 'Outside warning', State: 'Enabled', Mode: 'Audit', FromScope: 'NotInOrganization', PrependSubject: '[EXTERNAL] ' };
    const f = ours(m, live({ externalInOutlook: failed, transportRules: ok([rule]) }));
    expect(f.map((x) => [x.check, x.status, x.change.action])).toEqual([['external-banner-rule', 'drift', 'none']]);
    expect(f[0]!.summary).toContain('runs in Audit mode, not Enforce');
    expect(ours(m, live({ transportRules: ok([{ ...rule, Mode: 'Enforce' }]) }))).toEqual([]);
  });

  it('splits a sharing entry with several actions: only the offending ones go', () => {
    const f = ours(manifest({ allowFreeBusyWithAllDomains: true }), live({
      sharingPolicies: ok([{ Identity: 'Sales', Enabled: true, Domains: ['*:CalendarSharingFreeBusySimple, ContactsSharing', 'fabrikam.example:CalendarSharingFreeBusyDetail, ContactsSharing'] }]),
    }));
    expect(f.map((x) => [x.check, x.patch])).toEqual([
      ['sharing-contacts-all-domains', [{ op: 'replace', path: '/Domains', value: ['*:CalendarSharingFreeBusySimple', 'fabrikam.example:CalendarSharingFreeBusyDetail, ContactsSharing'] }]],
    ]);
  });

  it('calendar details with every domain are a finding even where free/busy is allowed', () => {
    const f = ours(manifest({ allowFreeBusyWithAllDomains: true }), live({ sharingPolicies: ok([{ Identity: 'P', Enabled: true, Domains: ['*:CalendarSharingFreeBusyReviewer'] }]) }));
    expect(f.map((x) => [x.check, x.patch])).toEqual([['sharing-calendar-all-domains', [{ op: 'replace', path: '/Enabled', value: false }]]]);
  });

  it('one finding per logon type and set of missing actions, with the names capped and counted', () => {
    const many = Array.from({ length: 30 }, (_, i) => mailbox(i, { AuditOwner: ['Update', 'HardDelete', 'SoftDelete', 'MoveToDeletedItems'] }));
    const f = ours(manifest(), live({
      mailboxes: ok([
        ...many,
        mailbox(100, { AuditDelegate: ['Update'] }),
        // Resource mailboxes are not covered by mailbox auditing on by default.
        mailbox(200, { RecipientTypeDetails: 'RoomMailbox', AuditOwner: [] }),
      ]),
    }));
    expect(f.map((x) => x.resource.name)).toEqual([
      'AuditDelegate without MailItemsAccessed, UpdateInboxRules, MoveToDeletedItems, SoftDelete, HardDelete, SendAs, SendOnBehalf',
      'AuditOwner without MailItemsAccessed, UpdateInboxRules, Send',
    ]);
    const owners = f[1]!;
    expect(owners.evidence.live).toMatchObject({ count: 30, notListed: 30 - MAILBOX_NAMES_SHOWN });
    expect((owners.evidence.live as { mailboxes: string[] }).mailboxes).toHaveLength(MAILBOX_NAMES_SHOWN);
    expect(owners.summary).toMatch(/^30 mailboxes do not audit MailItemsAccessed, UpdateInboxRules, Send for their owners: .* and 10 more\.$/);
  });

  it('a mailbox an exception names is left out; AuditDisabled true is a write of its own', () => {
    const m = manifest({}, [{ user: 'user7@contoso.example' }]);
    const f = ours(m, live({ mailboxes: ok([mailbox(7, { AuditOwner: [] })]), organizationConfig: ok([{ Identity: 'contoso.onmicrosoft.example', AuditDisabled: true }]) }));
    expect(f.map((x) => [x.check, x.change.action, x.patch])).toEqual([['mailbox-audit-org-disabled', 'update', [{ op: 'replace', path: '/AuditDisabled', value: false }]]]);
  });

  it('a mailbox read that failed makes the audit check not evaluated, while the organisation setting is still checked', () => {
    const r = evaluate(manifest(), live({ mailboxes: failed, organizationConfig: ok([{ Identity: 'o', AuditDisabled: true }]) }), '2026-06-01');
    const f = r.findings.filter((x) => x.control.id === 'MAIL.EXPOSURE.3');
    expect(f.map((x) => x.status).sort()).toEqual(['not-evaluated', 'violation']);
    expect(r.incomplete.map((i) => i.endpoint)).toContain('Exchange Get-Mailbox');
  });
  it('enables a disabled banner rule only when marking the mail is all it does: one that also sets SCL -1 or copies mail is left to its owner', () => {
    const m = manifest({ bannerRule: 'Outside warning' });
    const rule = { Name: 'Outside warning', State: 'Disabled', Mode: 'Enforce', FromScope: 'NotInOrganization', PrependSubject: '[EXTERNAL] ', SetSCL: null, BlindCopyTo: [], StopRuleProcessing: false };
    expect(ours(m, live({ transportRules: ok([rule]) })).map((x) => [x.check, x.change.action])).toEqual([['external-banner-rule', 'update']]);
    for (const extra of [{ SetSCL: -1 }, { BlindCopyTo: ['archive@attacker.example'] }, { RedirectMessageTo: ['x@attacker.example'] }]) {
      const f = ours(m, live({ transportRules: ok([{ ...rule, ...extra }]) }));
      expect(f.map((x) => [x.check, x.change.action])).toEqual([['external-banner-rule', 'none']]);
      expect(f[0]!.remediation).toContain(Object.keys(extra)[0]);
    }
  });

  it('quotes an AllowList entry in the pasted PowerShell command so nothing in it is expanded', () => {
    const f = ours(manifest(), live({ externalInOutlook: ok([{ Identity: 'ExternalInOutlook', Enabled: true, AllowList: ["$(Remove-Mailbox ceo)'x.example"] }]) }));
    expect(f[0]!.remediation).toContain("@{Remove='$(Remove-Mailbox ceo)''x.example'}");
  });
});
