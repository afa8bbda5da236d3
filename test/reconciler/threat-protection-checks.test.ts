import { describe, expect, it } from 'vitest';
import { evaluate } from '../../reconciler/evaluate/index.js';
import type { LiveState } from '../../reconciler/model/live.js';
import { ThreatProtection } from '../../stacks/index.js';
import { build, owner } from '../stacks/helpers.js';

/** MAIL.THREAT.1–5 as pure functions of the manifest and the live state: incomplete data is never a pass. */
const ok = <T>(value: T) => ({ ok: true as const, value, endpoint: 'test', readAt: '2026-06-01T00:00:00Z' });
const failed = { ok: false as const, endpoint: '/users', readAt: '2026-06-01T00:00:00Z', reason: 'read-failed' as const, error: 'HTTP 503' };

const manifest = () => build((p) => new ThreatProtection(p, 'ThreatProtection', { owner, impersonation: { protectedUsers: ['ceo@contoso.example'] }, links: {}, attachments: {} })).posture.toManifest();

const live = (over: Partial<LiveState> = {}): LiveState => ({
  users: ok([{ id: 'u1', userPrincipalName: 'ceo@contoso.example', displayName: 'CEO', accountEnabled: true }]),
  groups: ok([]),
  mailboxes: ok([{ Identity: 'CEO', UserPrincipalName: 'ceo@contoso.example', PrimarySmtpAddress: 'ceo@contoso.example', ExternalDirectoryObjectId: 'u1', RecipientTypeDetails: 'UserMailbox' }]),
  acceptedDomains: ok([{ DomainName: 'contoso.example' }]),
  groupMemberships: ok({ groups: [], unresolved: [] }),
  privilegedRoleHolders: ok({ byRole: {} }),
  antiPhish: ok([]), antiPhishRules: ok([]), contentFilter: ok([]), contentFilterRules: ok([]), eopProtectionRules: ok([]), atpProtectionRules: ok([]),
  malwareFilter: ok([]), malwareFilterRules: ok([]), safeLinks: ok([]), safeLinksRules: ok([]), safeAttachments: ok([]), safeAttachmentRules: ok([]),
  ...over,
} as LiveState);

describe('MAIL.THREAT.1–5 on incomplete data', () => {
  it('users that could not be read make every threat control not evaluated, never clean', () => {
    const r = evaluate(manifest(), live({ users: failed }), '2026-06-01');
    const threat = r.findings.filter((f) => f.control.id.startsWith('MAIL.THREAT.'));
    expect([...new Set(threat.map((f) => `${f.control.id} ${f.status}`))].sort()).toEqual(['MAIL.THREAT.1 not-evaluated', 'MAIL.THREAT.2 not-evaluated', 'MAIL.THREAT.3 not-evaluated', 'MAIL.THREAT.4 not-evaluated', 'MAIL.THREAT.5 not-evaluated']);
  });

  it('a preset that applies but whose policy was not read leaves its members not evaluated, not protected', () => {
    const preset = { Name: 'Strict Preset Security Policy', Identity: 'Strict Preset Security Policy', State: 'Enabled', Priority: 0, SentTo: ['ceo@contoso.example'], AntiPhishPolicy: 'Strict Preset Security Policy1', HostedContentFilterPolicy: 'Strict Preset Security Policy2', MalwareFilterPolicy: 'Strict Preset Security Policy3' };
    const r = evaluate(manifest(), live({ eopProtectionRules: ok([preset]), atpProtectionRules: ok([{ ...preset, SafeLinksPolicy: 'x', SafeAttachmentPolicy: 'y' }]) }), '2026-06-01');
    const phish = r.findings.filter((f) => f.control.id === 'MAIL.THREAT.1' || f.control.id === 'MAIL.THREAT.2');
    expect(phish.length).toBeGreaterThan(0);
    expect(phish.every((f) => f.status === 'not-evaluated')).toBe(true);
  });
});
