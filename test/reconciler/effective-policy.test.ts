import { describe, expect, it } from 'vitest';
import {
  coverage,
  describeNotCounted,
  effectivePolicy,
  membershipOf,
  notCounted,
  recipientOfMailbox,
  type Membership,
  type ProtectionPolicies,
  type Recipient,
} from '../../reconciler/checks/effective-policy.js';
import { populationsOf } from '../../reconciler/checks/populations.js';

type Obj = Record<string, unknown>;

const person = (alias: string, domain = 'contoso.example'): Recipient =>
  recipientOfMailbox({ ExternalDirectoryObjectId: `id-${alias}`, UserPrincipalName: `${alias}@${domain}`, PrimarySmtpAddress: `${alias}@${domain}`, Alias: alias, Name: alias, EmailAddresses: [`SMTP:${alias}@${domain}`, `smtp:${alias}@legacy.example`] })!;

const ana = person('ana');
const ben = person('ben');
const cy = person('cy', 'sub.contoso.example');
const dee = person('dee', 'fabrikam.example');

const groups: Membership = membershipOf({
  groups: [
    { names: ['Executives'], id: 'g-exec', displayName: 'Executives', members: ['id-ana', 'id-ben'] },
    { names: ['Finance'], id: 'g-fin', displayName: 'Finance', members: ['id-ben'] },
  ],
  unresolved: ['Dynamic Sales'],
});

const policy = (Name: string, extra: Obj = {}): Obj => ({ Name, Identity: Name, ...extra });
const rule = (Name: string, AntiPhishPolicy: string, Priority: number, extra: Obj = {}): Obj => ({ Name, Identity: Name, AntiPhishPolicy, Priority, State: 'Enabled', ...extra });
const preset = (Name: string, extra: Obj = {}): Obj => ({ Name, Identity: Name, State: 'Enabled', Priority: Name.startsWith('Strict') ? 0 : 1, ...extra });

const DEFAULT = policy('Office365 AntiPhish Default', { IsDefault: true });
const STRICT = policy('Strict Preset Security Policy1700000000001', { RecommendedPolicyType: 'Strict' });
const STANDARD = policy('Standard Preset Security Policy1700000000000', { RecommendedPolicyType: 'Standard' });

const set = (rules: Obj[], presetRules: Obj[] = [], policies: Obj[] = []): ProtectionPolicies => ({
  kind: 'antiPhish',
  policies: [DEFAULT, STRICT, STANDARD, policy('Exec'), policy('Finance'), policy('Domain'), ...policies],
  rules,
  presetRules,
});

const applied = (s: ProtectionPolicies, r: Recipient, m: Membership = groups) => {
  const a = effectivePolicy(s, r, m);
  return a.status === 'applies' ? `${a.name} (${a.why.kind})` : a.status;
};

describe('effective policy: precedence', () => {
  it('gives the default policy to everyone no rule matches', () => {
    expect(applied(set([]), ana)).toBe('Office365 AntiPhish Default (default)');
  });

  it('applies custom rules by priority, 0 first, whatever order they are listed in', () => {
    const s = set([rule('Finance rule', 'Finance', 1, { SentToMemberOf: ['Finance'] }), rule('Exec rule', 'Exec', 0, { SentToMemberOf: ['Executives'] })]);
    expect(applied(s, ben)).toBe('Exec (custom)');
    expect(applied(s, ana)).toBe('Exec (custom)');
    expect(applied(s, cy)).toBe('Office365 AntiPhish Default (default)');
    const a = effectivePolicy(s, ben, groups);
    expect(a.status === 'applies' && a.why).toEqual({ kind: 'custom', rule: 'Exec rule', priority: 0 });
  });

  it('puts the Strict preset before the Standard preset before any custom policy', () => {
    const custom = [rule('Exec rule', 'Exec', 0, { SentToMemberOf: ['Executives'] })];
    const both = set(custom, [preset('Standard Preset Security Policy', { SentTo: ['ana@contoso.example', 'ben@contoso.example'], AntiPhishPolicy: STANDARD['Name'] }), preset('Strict Preset Security Policy', { SentTo: ['ben@contoso.example'], AntiPhishPolicy: STRICT['Name'] })]);
    expect(applied(both, ben)).toBe('Strict Preset Security Policy1700000000001 (strict-preset)');
    expect(applied(both, ana)).toBe('Standard Preset Security Policy1700000000000 (standard-preset)');
    expect(applied(both, cy)).toBe('Office365 AntiPhish Default (default)');
  });

  it("finds a preset's policy by its RecommendedPolicyType when the preset rule does not name it (the ATP rule's impersonation part)", () => {
    const s = set([], [preset('Strict Preset Security Policy', { SentTo: ['ana'], SafeLinksPolicy: 'x', SafeAttachmentPolicy: 'y' })]);
    expect(applied(s, ana)).toBe('Strict Preset Security Policy1700000000001 (strict-preset)');
  });

  it('never applies a disabled rule or a disabled preset', () => {
    const s = set([rule('Exec rule', 'Exec', 0, { SentToMemberOf: ['Executives'], State: 'Disabled' })], [preset('Strict Preset Security Policy', { SentTo: ['ana'], State: 'Disabled' })]);
    expect(applied(s, ana)).toBe('Office365 AntiPhish Default (default)');
  });

  it('ends with the Built-In Protection Policy for Safe Links, and with nothing when a kind has no default', () => {
    const builtIn = { Name: 'Built-In Protection Policy', Identity: 'Built-In Protection Policy', IsBuiltInProtection: true };
    const links: ProtectionPolicies = { kind: 'safeLinks', policies: [builtIn, { Name: 'Links' }], rules: [{ Name: 'r', SafeLinksPolicy: 'Links', Priority: 0, State: 'Enabled', SentTo: ['ben'] }], presetRules: [] };
    expect(applied(links, ana)).toBe('Built-In Protection Policy (built-in)');
    expect(applied(links, ben)).toBe('Links (custom)');
    expect(effectivePolicy({ kind: 'antiSpam', policies: [], rules: [], presetRules: [] }, ana, groups).status).toBe('none');
  });
});

describe('effective policy: conditions and exceptions', () => {
  it('ORs the values of one condition and ANDs different conditions', () => {
    const s = set([rule('r', 'Exec', 0, { SentToMemberOf: ['Finance', 'Executives'], RecipientDomainIs: ['contoso.example'] })]);
    expect(applied(s, ana)).toBe('Exec (custom)');
    expect(applied(s, ben)).toBe('Exec (custom)');
    const both = set([rule('r', 'Exec', 0, { SentTo: ['ana@contoso.example'], SentToMemberOf: ['Finance'] })]);
    expect(applied(both, ana)).toBe('Office365 AntiPhish Default (default)');
    expect(applied(both, ben)).toBe('Office365 AntiPhish Default (default)');
  });

  it('matches SentTo by any of the recipient\'s names and addresses, case-insensitively', () => {
    for (const name of ['ANA@contoso.example', 'ana', 'id-ana', 'ana@legacy.example']) expect(applied(set([rule('r', 'Exec', 0, { SentTo: [name] })]), ana)).toBe('Exec (custom)');
  });

  it('matches RecipientDomainIs on a domain and its subdomains', () => {
    const s = set([rule('r', 'Domain', 0, { RecipientDomainIs: ['contoso.example'] })]);
    expect(applied(s, cy)).toBe('Domain (custom)');
    expect(applied(s, dee)).toBe('Office365 AntiPhish Default (default)');
  });

  it('excludes a recipient any one exception names, and then looks further', () => {
    const s = set([rule('r', 'Exec', 0, { SentToMemberOf: ['Executives'], ExceptIfSentTo: ['nobody@contoso.example'], ExceptIfSentToMemberOf: ['Finance'] }), rule('r2', 'Finance', 1, { SentTo: ['ben'] })]);
    expect(applied(s, ana)).toBe('Exec (custom)');
    expect(applied(s, ben)).toBe('Finance (custom)');
    const byDomain = set([rule('r', 'Domain', 0, { RecipientDomainIs: ['contoso.example'], ExceptIfRecipientDomainIs: ['sub.contoso.example'] })]);
    expect(applied(byDomain, cy)).toBe('Office365 AntiPhish Default (default)');
  });

  it('is unknown, never "does not match", when a group the deciding rule names cannot be resolved', () => {
    const s = set([rule('Sales rule', 'Exec', 0, { SentToMemberOf: ['Dynamic Sales'] })]);
    expect(effectivePolicy(s, ana, groups)).toEqual({ status: 'unknown', rule: 'Sales rule', groups: ['Dynamic Sales'] });
    const except = set([rule('r', 'Exec', 0, { SentTo: ['ana'], ExceptIfSentToMemberOf: ['Dynamic Sales'] })]);
    expect(effectivePolicy(except, ana, groups).status).toBe('unknown');
    // A rule that cannot match for another reason is decided without the group.
    const decided = set([rule('r', 'Exec', 0, { SentTo: ['ben'], SentToMemberOf: ['Dynamic Sales'] })]);
    expect(applied(decided, ana)).toBe('Office365 AntiPhish Default (default)');
    // A preset that decides first makes the group irrelevant.
    const presetFirst = set([rule('Sales rule', 'Exec', 0, { SentToMemberOf: ['Dynamic Sales'] })], [preset('Strict Preset Security Policy', { SentTo: ['ana'] })]);
    expect(applied(presetFirst, ana)).toBe('Strict Preset Security Policy1700000000001 (strict-preset)');
  });
});

describe('coverage of a population and policies that count for no one', () => {
  const everyone = [ana, ben, cy, dee];

  it('groups the members by their effective policy, in precedence order', () => {
    const s = set([rule('Exec rule', 'Exec', 0, { SentToMemberOf: ['Executives'] })], [preset('Strict Preset Security Policy', { SentTo: ['ben'] })]);
    const c = coverage(s, everyone, groups);
    expect(c.effective.map((e) => [e.name, e.members.map((m) => m.upn.split('@')[0])])).toEqual([
      ['Strict Preset Security Policy1700000000001', ['ben']],
      ['Exec', ['ana']],
      ['Office365 AntiPhish Default', ['cy', 'dee']],
    ]);
    expect(c.uncovered).toEqual([]);
    expect(c.unknown).toEqual([]);
  });

  it('names a policy with no rule, a disabled rule, a rule matching no one, and one a preset overrides for everyone it matches', () => {
    const s = set(
      [
        rule('Exec rule', 'Exec', 0, { SentToMemberOf: ['Executives'], State: 'Disabled' }),
        rule('Finance rule', 'Finance', 1, { SentToMemberOf: ['Finance'] }),
        rule('Domain rule', 'Domain', 2, { RecipientDomainIs: ['nowhere.example'] }),
      ],
      [preset('Strict Preset Security Policy', { SentToMemberOf: ['Executives'] })],
      [policy('Orphan')],
    );
    const n = notCounted(s, everyone, groups);
    expect(n.map(describeNotCounted)).toEqual([
      '"Exec" applies to nobody: its rule "Exec rule" is disabled',
      '"Finance" is overridden by the Strict preset for the 1 member it matches',
      '"Domain" applies to nobody: its rule "Domain rule" matches no member of the populations',
      '"Orphan" applies to nobody: no rule applies it',
    ]);
    // The default still covers cy and dee: it counts.
    expect(n.some((x) => x.name === 'Office365 AntiPhish Default')).toBe(false);
  });

  it('resolves a population of 60,000 in one pass per member', () => {
    const many = Array.from({ length: 60_000 }, (_, i) => person(`u${i}`));
    const s = set([rule('Exec rule', 'Exec', 0, { SentToMemberOf: ['Executives'] }), rule('Domain rule', 'Domain', 1, { RecipientDomainIs: ['contoso.example'] })]);
    const c = coverage(s, many, groups);
    expect(c.effective.map((e) => [e.name, e.members.length])).toEqual([['Domain', 60_000]]);
  });
});

describe('populations', () => {
  it('are everyone with an enabled account and a user mailbox, the role holders among them, and each high-value group', () => {
    const users = [{ id: 'id-ana', displayName: 'Ana', accountEnabled: true }, { id: 'id-ben', accountEnabled: true }, { id: 'id-cy', accountEnabled: false }, { id: 'id-shared', accountEnabled: false }];
    const mailboxes = [
      { ExternalDirectoryObjectId: 'id-ana', UserPrincipalName: 'ana@contoso.example', RecipientTypeDetails: 'UserMailbox' },
      { ExternalDirectoryObjectId: 'id-ben', UserPrincipalName: 'ben@contoso.example', RecipientTypeDetails: 'UserMailbox' },
      { ExternalDirectoryObjectId: 'id-cy', UserPrincipalName: 'cy@contoso.example', RecipientTypeDetails: 'UserMailbox' },
      { ExternalDirectoryObjectId: 'id-shared', UserPrincipalName: 'shared@contoso.example', RecipientTypeDetails: 'SharedMailbox' },
    ];
    const ps = populationsOf({
      users, mailboxes, roles: ['role-1'], highValueGroups: ['Finance', 'Ghost'],
      roleHolders: { byRole: { 'role-1': ['id-ana', 'id-cy', 'id-app'] } },
      memberships: { groups: [{ names: ['Finance'], id: 'g-fin', displayName: 'Finance', members: ['id-ben', 'id-shared'] }], unresolved: ['Ghost'] },
    });
    expect(ps.map((p) => [p.key, p.members.map((m) => m.upn), p.unknown ?? null])).toEqual([
      ['everyone', ['ana@contoso.example', 'ben@contoso.example'], null],
      ['privileged', ['ana@contoso.example'], null],
      ['group:Finance', ['ben@contoso.example'], null],
      ['group:Ghost', [], '"Ghost" is no group of the directory'],
    ]);
    expect(ps[0]!.members[0]!.displayName).toBe('Ana');
  });
});
