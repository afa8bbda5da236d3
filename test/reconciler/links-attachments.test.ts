import { describe, expect, it } from 'vitest';
import { recipientOfMailbox, type Recipient } from '../../reconciler/checks/effective-policy.js';
import { checkLinksAttachments } from '../../reconciler/checks/links-attachments.js';
import type { Population } from '../../reconciler/checks/populations.js';
import { Evaluation } from '../../reconciler/evaluate/context.js';
import type { Manifest } from '../../reconciler/manifest/schema.js';
import type { LiveState } from '../../reconciler/model/live.js';
import { ThreatProtection, type ThreatProtectionProps } from '../../stacks/lib/threat-protection.js';
import { build, owner, TODAY } from '../stacks/helpers.js';

type Obj = Record<string, unknown>;
const ok = <T>(value: T) => ({ ok: true as const, value, endpoint: 'x', readAt: '2026-06-01T00:00:00Z' });

const manifestOf = (props: Partial<ThreatProtectionProps> = {}): Manifest => build((p) => new ThreatProtection(p, 'Threat', { owner, ...props })).posture.toManifest();

const mailbox = (n: string, id: string): Obj => ({ ExternalDirectoryObjectId: id, UserPrincipalName: `${n}@contoso.example`, PrimarySmtpAddress: `${n}@contoso.example`, Alias: n, RecipientTypeDetails: 'UserMailbox' });
const people: Recipient[] = [mailbox('ann', 'a1'), mailbox('bob', 'b2'), mailbox('cat', 'c3')].map((m) => recipientOfMailbox(m)!);
const everyone: Population = { key: 'everyone', title: 'everyone', members: people };

const builtInLinks: Obj = { Identity: 'Built-In Protection Policy', Name: 'Built-In Protection Policy', IsBuiltInProtection: true, RecommendedPolicyType: 'BuiltInProtection', EnableSafeLinksForEmail: true, EnableSafeLinksForTeams: true, EnableSafeLinksForOffice: true, AllowClickThrough: false, ScanUrls: true, DeliverMessageAfterScan: true, DisableUrlRewrite: true, EnableForInternalSenders: false };
const goodLinks: Obj = { ...builtInLinks, Identity: 'Links', Name: 'Links', IsBuiltInProtection: false, RecommendedPolicyType: 'Custom', DisableUrlRewrite: false, EnableForInternalSenders: true };
const rule = (policyProperty: string, policy: string, extra: Obj = {}): Obj => ({ Name: `${policy} rule`, State: 'Enabled', Priority: 0, [policyProperty]: policy, ...extra });
const builtInAttach: Obj = { Identity: 'Built-In Protection Policy', Name: 'Built-In Protection Policy', IsBuiltInProtection: true, RecommendedPolicyType: 'BuiltInProtection', Enable: true, Action: 'Block', QuarantineTag: 'AdminOnlyAccessPolicy' };
const defaultMalware = (extra: Obj = {}): Obj => ({ Identity: 'Default', Name: 'Default', IsDefault: true, EnableFileFilter: true, FileTypes: ['exe', 'iso'], FileTypeAction: 'Reject', ZapEnabled: true, ...extra });

function live(o: { links?: Obj[]; linkRules?: Obj[]; attach?: Obj[]; attachRules?: Obj[]; malware?: Obj[]; atp?: Obj[] } = {}): LiveState {
  return {
    users: ok([{ id: 'a1', userPrincipalName: 'ann@contoso.example' }, { id: 'b2', userPrincipalName: 'bob@contoso.example' }, { id: 'c3', userPrincipalName: 'cat@contoso.example' }]),
    groups: ok([]),
    mailboxes: ok([]),
    safeLinks: ok(o.links ?? [builtInLinks, goodLinks]),
    safeLinksRules: ok(o.linkRules ?? [rule('SafeLinksPolicy', 'Links')]),
    safeAttachments: ok(o.attach ?? [builtInAttach]),
    safeAttachmentRules: ok(o.attachRules ?? []),
    malwareFilter: ok(o.malware ?? [defaultMalware({ FileTypes: null })]),
    malwareFilterRules: ok([]),
    atpProtectionRules: ok(o.atp ?? []),
    eopProtectionRules: ok([]),
    groupMemberships: ok({ groups: [{ id: 'g1', displayName: 'Finance', names: ['Finance'], members: ['a1'] }], unresolved: [] }),
    privilegedRoleHolders: ok({ byRole: {} }),
  } as LiveState;
}

function run(m: Manifest, l: LiveState, populations: Population[] | undefined = [everyone]) {
  const ev = new Evaluation(m, l, TODAY);
  checkLinksAttachments(ev, populations);
  return ev.findings;
}

describe('MAIL.THREAT.3-5 (pure)', () => {
  it('judges only the effective policy: a compliant custom policy for everyone passes, whatever the Built-In Protection Policy holds', () => {
    const m = manifestOf({ attachments: { additionalFileTypes: [] } });
    const found = run(m, live({ malware: [defaultMalware({ FileTypes: [...m.desired.threatProtection!.attachments!.malware.fileTypes] })] }));
    expect(found).toEqual([]);
  });

  it('a live setting stricter than the posture is not drift: Block when dynamic delivery is accepted, Teams on when relaxed, the admin-only quarantine policy', () => {
    const m = manifestOf({ links: { teams: false, office: false }, attachments: { action: 'DynamicDelivery', quarantineTag: 'DefaultFullAccessPolicy' } });
    const found = run(m, live({ links: [builtInLinks, { ...goodLinks, EnableSafeLinksForTeams: false }], malware: [defaultMalware({ FileTypes: m.desired.threatProtection!.attachments!.malware.fileTypes })] }));
    expect(found).toEqual([]);
  });

  it('a missing file type is added to those the policy has, never replacing them', () => {
    const found = run(manifestOf(), live({ malware: [defaultMalware({ FileTypes: ['exe', 'custom1'] })] })).filter((f) => f.control.id === 'MAIL.THREAT.5');
    expect(found).toHaveLength(1);
    const patch = found[0]!.patch as unknown as Array<{ path: string; value: string[] }>;
    expect(patch.map((p) => p.path)).toEqual(['/FileTypes']);
    expect(patch[0]!.value.slice(0, 2)).toEqual(['exe', 'custom1']);
    expect(patch[0]!.value).toContain('iso');
    expect(found[0]!.summary).toMatch(/^everyone \(3 users\): anti-malware policy "Default" as the default policy lacks ace, ani, .* in FileTypes/);
  });

  it('members under different policies: one finding per deficient policy, naming the members each covers; a weak preset policy is reported without a write', () => {
    const strict: Obj = { ...goodLinks, Identity: 'Strict Preset Security Policy1', Name: 'Strict Preset Security Policy1', RecommendedPolicyType: 'Strict', AllowClickThrough: true };
    const l = live({ links: [builtInLinks, goodLinks, strict], linkRules: [rule('SafeLinksPolicy', 'Links', { SentTo: ['bob@contoso.example'] })], atp: [{ Name: 'Strict Preset Security Policy', State: 'Enabled', SentToMemberOf: ['Finance'], SafeLinksPolicy: 'Strict Preset Security Policy1' }] });
    const found = run(manifestOf(), l).filter((f) => f.control.id === 'MAIL.THREAT.3');
    expect(found.map((f) => [f.resource.name, f.change.action, (f.evidence.live as Obj)['notCovered']])).toEqual([
      ['Strict Preset Security Policy1', 'none', { members: ['ann@contoso.example'], memberCount: 1 }],
      ['Built-In Protection Policy', 'none', { members: ['cat@contoso.example'], memberCount: 1 }],
    ]);
    expect(found[0]!.summary).toContain('via the Strict preset security policy lacks AllowClickThrough false');
    expect(found[0]!.remediation).toMatch(/preset security policy, which Microsoft manages/);
    expect(found[1]!.remediation).toMatch(/Built-In Protection Policy cannot be changed/);
  });

  it('a population whose members are not known, or a rule naming an unknown group, makes the control not evaluated', () => {
    const m = manifestOf();
    const unknown: Population = { key: 'group:Board', title: 'high-value group "Board"', members: [], unknown: '"Board" is no group of the directory' };
    const found = run(m, live({ linkRules: [rule('SafeLinksPolicy', 'Links', { SentToMemberOf: ['Nobody knows'] })] }), [everyone, unknown]).filter((f) => f.control.id === 'MAIL.THREAT.3');
    expect(found.map((f) => f.status)).toEqual(['not-evaluated']);
    expect(found[0]!.summary).toContain('high-value group "Board"');
    const ev = new Evaluation(m, live({ linkRules: [rule('SafeLinksPolicy', 'Links', { SentToMemberOf: ['Nobody knows'] })] }), TODAY);
    checkLinksAttachments(ev, [everyone]);
    expect(ev.findings.filter((f) => f.control.id === 'MAIL.THREAT.3').map((f) => [f.status, f.summary.includes('"Nobody knows"')])).toEqual([['not-evaluated', true]]);
    expect(ev.incomplete.length).toBeGreaterThan(0);
  });

  it('a failed read of a section a control needs: that control is not evaluated, never a pass', () => {
    const l = { ...live(), safeAttachmentRules: { ok: false as const, endpoint: 'Exchange Get-SafeAttachmentRule', readAt: 'x', reason: 'read-failed' as const, error: '503' } };
    const found = run(manifestOf(), l as LiveState).filter((f) => f.control.id === 'MAIL.THREAT.4');
    expect(found.map((f) => f.status)).toEqual(['not-evaluated']);
  });
});
