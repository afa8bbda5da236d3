import { describe, expect, it } from 'vitest';
import { isUnsafeCodePoint } from '../../reconciler/core/text.js';
import { commentLine, literal, noted, quoted, render } from '../../reconciler/import/code.js';
import { derivePosture } from '../../reconciler/import/derive.js';
import { dnsFailures, IMPORTED_AREAS, mxFailures, NOT_READ_FOR_IMPORT, readManifest, unreadSections, type ImportRead } from '../../reconciler/import/read.js';
import { typesToRead } from '../../reconciler/read/live.js';
import { CATALOGUE } from '../../policies/catalogue.js';
import { classNameOf, renderStack } from '../../reconciler/import/render.js';
import { gapExpiry, registration, withRegistration } from '../../reconciler/cli/import.js';
import { readDomainDns, type DnsResolver } from '../../reconciler/read/dns.js';
import type { LiveState } from '../../reconciler/model/live.js';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const HOSTILE = 'a */ b\n// c();\u2028\u202e\u0007\u009b "q" \\';
const unsafe = (text: string) => [...text].some((ch) => ch !== '\n' && isUnsafeCodePoint(ch.codePointAt(0)!));

describe('code', () => {
  it('writes a string as a literal that means exactly the string and holds nothing unsafe', () => {
    const lit = literal(HOSTILE);
    expect(unsafe(lit)).toBe(false);
    expect(lit).not.toContain('\n');
    expect(JSON.parse(lit)).toBe(HOSTILE);
  });

  it('keeps tenant text in comments on one line, unable to end a block comment', () => {
    for (const line of [commentLine(quoted(HOSTILE)), commentLine(HOSTILE)]) {
      expect(line).not.toMatch(/\n|\*\//);
      expect(unsafe(line)).toBe(false);
    }
  });

  it('formats short values on one line and writes comments above what they note', () => {
    expect(render({ a: 'x', b: [1, true, null] })).toBe('{ a: "x", b: [1, true, null] }');
    const text = render({ domains: [noted({ name: 'd.example' }, ['A note.'])] });
    expect(text).toBe('{\n  domains: [\n    // A note.\n    { name: "d.example" },\n  ],\n}');
    expect(render({ 'not-an-identifier': 1 })).toBe('{ "not-an-identifier": 1 }');
  });

  it('names classes from stack names', () => {
    expect(classNameOf('contoso-prod')).toBe('ContosoProdStack');
    expect(classNameOf('365')).toBe('Posture365Stack');
  });
});

/** A resolver answering from a table; a name it does not hold does not exist. */
function resolver(table: Record<string, string[]>, failing: readonly string[] = []): DnsResolver {
  const answer = (name: string) => {
    if (failing.includes(name)) return Promise.reject(Object.assign(new Error('timeout'), { code: 'ETIMEOUT' }));
    const rows = table[name];
    return rows ? Promise.resolve(rows) : Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }));
  };
  return { resolveTxt: async (n) => (await answer(n)).map((r) => [r]), resolveCname: answer };
}

const section = <T>(value: T) => ({ ok: true as const, value, endpoint: 'test', readAt: '2026-06-01T00:00:00Z' });

async function readOf(live: LiveState, table: Record<string, string[]>, domains: string[]): Promise<ImportRead> {
  const r = resolver(table);
  const dns = new Map(await Promise.all(domains.map(async (d) => [d, await readDomainDns(d, r)] as const)));
  return { live, domains, dns };
}

const BG = { id: '11111111-1111-1111-1111-111111111111', userPrincipalName: 'bg@contoso.example' };
const policy = (displayName: string, extra: Record<string, unknown>) => ({
  id: `${displayName}-id`,
  displayName,
  state: 'enabled',
  sessionControls: null,
  conditions: {
    userRiskLevels: [], signInRiskLevels: [], clientAppTypes: ['all'], servicePrincipalRiskLevels: [],
    applications: { includeApplications: ['All'], excludeApplications: [], includeUserActions: [], includeAuthenticationContextClassReferences: [], applicationFilter: null },
    users: { includeUsers: ['All'], excludeUsers: [BG.id], includeGroups: [], excludeGroups: [], includeRoles: [], excludeRoles: [] },
    ...(extra['conditions'] as object),
  },
  grantControls: { operator: 'OR', builtInControls: ['block'], customAuthenticationFactors: [], termsOfUse: [], authenticationStrength: null },
  ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'conditions')),
});

describe('derivePosture', () => {
  const live: LiveState = {
    users: section([BG]),
    groups: section([]),
    domains: section([{ id: 'contoso.example', isDefault: true, isVerified: true }]),
    acceptedDomains: section([{ DomainName: 'contoso.example' }]),
    dkim: section([]),
    remoteDomains: section([{ DomainName: '*', AutoForwardEnabled: true }]),
    outboundSpam: section([{ Name: 'Default', AutoForwardingMode: 'Automatic' }]),
    antiPhish: section([{ IsDefault: true, HonorDmarcPolicy: false, DmarcRejectAction: 'Quarantine', DmarcQuarantineAction: 'Quarantine' }]),
    authorizationPolicy: section({ permissionGrantPolicyIdsAssignedToDefaultUserRole: ['ManagePermissionGrantsForSelf.microsoft-user-default-legacy'], defaultUserRolePermissions: { allowedToCreateApps: true } }),
    adminConsentRequestPolicy: section({ isEnabled: false, reviewers: [] }),
    caPolicies: section([
      policy('Corp - Block legacy authentication', { conditions: { clientAppTypes: ['exchangeActiveSync', 'other'] } }),
      policy('Corp - User risk high: block', { conditions: { userRiskLevels: ['high'] } }),
      policy('Trusted office only', { conditions: { locations: { includeLocations: ['All'] } } }),
    ]),
  };
  const table = {
    '_dmarc.contoso.example': ['v=DMARC1; p=none; sp=none; pct=50; t=y; rua=mailto:d@contoso.example'],
    'contoso.example': ['v=spf1 ip4:192.0.2.1 ?all'],
  };

  it('declares the catalogue minimum below it, saying the plan will show the gap, and what needs a person', async () => {
    const posture = derivePosture(await readOf(live, table, ['contoso.example']), { stack: 'contoso' });
    const text = renderStack(posture, { tenant: 'contoso.onmicrosoft.example' });
    expect(unsafe(text)).toBe(false);
    for (const gap of [
      /p=none \(monitoring only\), below the catalogue minimum: p=reject is declared and the plan will show the gap/,
      /sp=none, below the catalogue minimum/,
      /pct=50/,
      /testing mode \(t=y\)/,
      /does not end in a fail/,
      /does not DKIM-sign/,
      /default remote domain \("\*"\) allows automatic forwarding/,
      /"Default" allows automatic forwarding \("Automatic"\)/,
      /does not honour senders' DMARC policies/,
      /Users may consent apps by themselves/,
      /Any user can register applications/,
      /admin consent workflow is off/,
      /No policy of the tenant is the sign-in-risk policy/,
      /"Trusted office only": it has a locations condition/,
    ]) expect(text).toMatch(gap);
    expect(text).toContain('dmarcRejectAction: "Quarantine"');
    expect(text).toContain('namePrefix: "Corp"');
    expect(text).toContain('userRisk: { levels: ["high"], response: "block" }');
    expect(text).toContain('TODO: name who reviews admin consent requests');
    expect(text).toContain('contact: "owner-required@posture-import.invalid"');
    expect(text).toContain('// Every enabled conditional access policy excludes: "bg@contoso.example".');
    expect(text).not.toMatch(/policy: "none"|subdomainPolicy|pct:|testing:/);
  });

  it('writes the confirmed break-glass accounts and warns of one no policy excludes everywhere', async () => {
    const posture = derivePosture(await readOf(live, table, ['contoso.example']), { stack: 'contoso', breakGlass: ['bg@contoso.example', 'other@contoso.example'], owner: { name: 'Lead', team: 'Mail', contact: 'lead@contoso.example' } });
    expect(posture.breakGlass.users).toEqual(['bg@contoso.example', 'other@contoso.example']);
    expect(posture.warnings).toEqual([expect.stringContaining('"other@contoso.example" is not excluded by every enabled conditional access policy')]);
  });
});

describe('reads', () => {
  it('names every section the manifest needs that was not read, and DNS lookups that failed', async () => {
    const m = readManifest();
    const missing = unreadSections(m, { users: { ok: false, endpoint: '/users', readAt: '', error: 'HTTP 403', reason: 'permission-missing', permission: 'User.Read.All' } });
    expect(missing).toEqual(expect.arrayContaining([expect.stringMatching(/\(\/users\): HTTP 403 \(needs User\.Read\.All\)/), expect.stringMatching(/: not read$/)]));
    const dns = await readDomainDns('contoso.example', resolver({}, ['_dmarc.contoso.example']));
    expect(dnsFailures(dns, 'contoso.example')).toEqual(['DNS TXT _dmarc.contoso.example: ETIMEOUT']);
    // An MX query that failed is inside a section that was read: still a failure, never "no MX".
    expect(mxFailures({ mxRecords: section([{ domain: 'contoso.example', records: [] }, { domain: 'fabrikam.example', error: 'ESERVFAIL' }]) })).toEqual(['DNS MX fabrikam.example: ESERVFAIL']);
  });
});

describe('break-glass groups', () => {
  const GROUP = { id: '22222222-2222-2222-2222-222222222222', displayName: 'Emergency Access' };
  const OTHER = { id: '33333333-3333-3333-3333-333333333333', displayName: 'Travel Exempt' };
  const withGroups = (p: ReturnType<typeof policy>, groups: string[]) => ({ ...p, conditions: { ...p.conditions, users: { ...p.conditions.users, excludeGroups: groups } } });
  const live: LiveState = {
    users: section([BG]),
    groups: section([GROUP, OTHER]),
    domains: section([{ id: 'contoso.example', isDefault: true, isVerified: true }]),
    acceptedDomains: section([{ DomainName: 'contoso.example' }]),
    caPolicies: section([
      withGroups(policy('Corp - Block legacy authentication', { conditions: { clientAppTypes: ['exchangeActiveSync', 'other'] } }), [GROUP.id, OTHER.id]),
      withGroups(policy('Corp - User risk high: block', { conditions: { userRiskLevels: ['high'] } }), [GROUP.id, OTHER.id]),
    ]),
  };
  const owner = { name: 'Lead', team: 'Mail', contact: 'lead@contoso.example' };

  it('proposes the groups every enabled policy excludes, declared as exclusions until confirmed', async () => {
    const posture = derivePosture(await readOf(live, {}, ['contoso.example']), { stack: 'contoso', owner, breakGlass: ['bg@contoso.example'] });
    expect(posture.breakGlass.proposedGroups).toEqual(['Emergency Access', 'Travel Exempt']);
    expect(posture.breakGlass.groups).toEqual([]);
    const text = renderStack(posture, { tenant: 'contoso.example' });
    expect(text).toMatch(/also excludes the groups "Emergency Access", "Travel Exempt": if they hold emergency-access accounts, confirm with --break-glass-group/);
    expect(text).toContain('groups: ["Emergency Access", "Travel Exempt"]');
    expect(text).not.toMatch(/breakGlass: \{[^}]*groups/);
  });

  it('refuses a group that is not excluded everywhere, or whose name two groups share', async () => {
    const partly: LiveState = {
      ...live,
      groups: section([GROUP, OTHER, { id: '77777777-7777-7777-7777-777777777777', displayName: 'All Employees' }, { id: '88888888-8888-8888-8888-888888888888', displayName: 'TRAVEL EXEMPT' }]),
    };
    const posture = derivePosture(await readOf(partly, {}, ['contoso.example']), { stack: 'contoso', owner, breakGlass: ['bg@contoso.example'], breakGlassGroups: ['All Employees', 'Travel Exempt'] });
    expect(posture.breakGlass.groups).toEqual([]);
    // "Travel Exempt" is excluded everywhere, but another group has its name: not proposed either.
    expect(posture.breakGlass.proposedGroups).toEqual(['Emergency Access']);
    expect(posture.warnings).toEqual([
      expect.stringContaining('"All Employees" is not excluded by every enabled conditional access policy; it is not declared'),
      expect.stringContaining('"Travel Exempt" is the name of 2 groups of the directory'),
    ]);
  });

  it('declares a confirmed group as break-glass, not as an exclusion, and warns of one that is no group', async () => {
    const posture = derivePosture(await readOf(live, {}, ['contoso.example']), { stack: 'contoso', owner, breakGlass: ['bg@contoso.example'], breakGlassGroups: ['emergency access', 'Nobody'] });
    expect(posture.breakGlass.groups).toEqual(['Emergency Access']);
    expect(posture.warnings).toEqual([expect.stringContaining('"Nobody" is no group of the directory')]);
    const text = renderStack(posture, { tenant: 'contoso.example' });
    expect(text).toMatch(/breakGlass: \{\s*users: \["bg@contoso\.example"\],\s*groups: \["Emergency Access"\]/);
    expect(text).toContain('groups: ["Travel Exempt"]');
    expect(text).not.toMatch(/groups: \["Emergency Access", "Travel Exempt"\]/);
  });
});

describe('incident response', () => {
  const WATCH = { id: '44444444-4444-4444-4444-444444444444', displayName: 'Watchlist - sign-in every time', securityEnabled: true, groupTypes: [] };
  const watchPolicy = (extra: Record<string, unknown> = {}, group: string = WATCH.id) => {
    const p = policy('Watchlist: sign in every time', {}) as Record<string, unknown> & { conditions: Record<string, unknown> & { users: Record<string, unknown> } };
    p['sessionControls'] = { signInFrequency: { value: null, type: null, authenticationType: 'primaryAndSecondaryAuthentication', frequencyInterval: 'everyTime', isEnabled: true } };
    p['grantControls'] = { operator: 'OR', builtInControls: ['mfa'], customAuthenticationFactors: [], termsOfUse: [], authenticationStrength: null };
    p.conditions = { ...p.conditions, users: { ...p.conditions.users, includeUsers: [], includeGroups: [group] } };
    return { ...p, ...extra };
  };
  const liveWith = (policies: Record<string, unknown>[], groups: Record<string, unknown>[] = [WATCH]): LiveState => ({
    users: section([BG]),
    groups: section([...groups, { id: '55555555-5555-5555-5555-555555555555', displayName: 'Finance', securityEnabled: true, groupTypes: [] }]),
    domains: section([{ id: 'contoso.example', isDefault: true, isVerified: true }]),
    acceptedDomains: section([{ DomainName: 'contoso.example' }]),
    caPolicies: section(policies),
    antiPhishRules: section([{ Name: 'Finance phish', State: 'Enabled', SentToMemberOf: ['Finance'] }]),
  });
  const responseOf = async (live: LiveState) => {
    const posture = derivePosture(await readOf(live, {}, ['contoso.example']), { stack: 'contoso' });
    return { posture, response: posture.areas.find((a) => a.construct === 'IncidentResponse')! };
  };

  it('proposes the signal rules at low confidence for its own findings, and the tiers the tenant shows', async () => {
    const { posture, response } = await responseOf(liveWith([watchPolicy()]));
    expect(response.group).toBe('all');
    expect(JSON.parse(JSON.stringify(response.props['tiers']))).toEqual({ highValueGroups: ['Finance'] });
    const findings = (response.props['signals'] as Array<Record<string, unknown>>).filter((r) => r['source'] === 'finding');
    expect(findings.map((r) => r['confidence'])).toEqual(['low', 'low']);
    const text = renderStack(posture, { tenant: 'contoso.example' });
    expect(text).toMatch(/new IncidentResponse\(posture, "IncidentResponse", \{\s*owner,/);
    expect(text).toContain('TODO: name the service accounts');
    // The watchlist is proposed in a comment, never declared: respond adds users to it on its own.
    expect(response.props['watchlist']).toBeUndefined();
    expect(text).toContain('declare it as the watchlist (watchlist: { group: "Watchlist - sign-in every time" })');
  });

  it('proposes no watchlist from a policy that blocks, is report-only, has other conditions, or targets a group that grants more', async () => {
    const cases: Array<[string, LiveState]> = [
      ['report-only', liveWith([watchPolicy({ state: 'enabledForReportingButNotEnforced' })])],
      ['block', liveWith([watchPolicy({ grantControls: { operator: 'OR', builtInControls: ['block'], customAuthenticationFactors: [], termsOfUse: [], authenticationStrength: null } })])],
      ['a location condition', liveWith([(() => { const p = watchPolicy(); return { ...p, conditions: { ...p.conditions, locations: { includeLocations: ['All'] } } }; })()])],
      ['a Microsoft 365 group', liveWith([watchPolicy()], [{ ...WATCH, groupTypes: ['Unified'] }])],
      ['a role-assignable group', liveWith([watchPolicy()], [{ ...WATCH, isAssignableToRole: true }])],
      ['a name two groups share', liveWith([watchPolicy()], [WATCH, { ...WATCH, id: '66666666-6666-6666-6666-666666666666', displayName: 'watchlist - SIGN-IN every time' }])],
    ];
    for (const [why, live] of cases) {
      const { posture } = await responseOf(live);
      expect(renderStack(posture, { tenant: 'contoso.example' }), why).not.toContain('declare it as the watchlist');
    }
  });
});

describe('an inherited DMARC record', () => {
  it('is a gap of its policy, not of a missing record', async () => {
    const live: LiveState = {
      users: section([BG]), groups: section([]),
      domains: section([{ id: 'contoso.example', isDefault: true, isVerified: true }, { id: 'mail.contoso.example', isDefault: false, isVerified: true }]),
      acceptedDomains: section([{ DomainName: 'contoso.example' }, { DomainName: 'mail.contoso.example' }]),
    };
    const table = { '_dmarc.contoso.example': ['v=DMARC1; p=none; rua=mailto:d@contoso.example'], 'contoso.example': ['v=spf1 -all'], 'mail.contoso.example': ['v=spf1 -all'] };
    const read = await readOf(live, table, ['contoso.example', 'mail.contoso.example']);
    expect(read.dns.get('mail.contoso.example')!.dmarc.source).not.toBe('domain');
    const posture = derivePosture(read, { stack: 'contoso' });
    const mine = posture.gaps.filter((g) => g.scope.value === 'mail.contoso.example').map((g) => g.control);
    expect(mine).toEqual(['MAIL.DMARC.2']);
    expect(renderStack(posture, { tenant: 'contoso.example' })).toMatch(/publishes no DMARC record of its own \(one is inherited from "contoso\.example"\)/);
  });
});

describe('gapExpiry', () => {
  it('defaults to 90 days from today, and refuses a day past, today or beyond the exception limit', () => {
    expect(gapExpiry(undefined, '2026-06-01')).toBe('2026-08-30');
    expect(gapExpiry('2026-11-28', '2026-06-01')).toBe('2026-11-28');
    expect(() => gapExpiry('2026-06-01', '2026-06-01')).toThrow(/must be after today \(2026-06-01\)/);
    expect(() => gapExpiry('2026-05-01', '2026-06-01')).toThrow(/must be after today/);
    expect(() => gapExpiry('2026-11-29', '2026-06-01')).toThrow(/at most 180 days \(latest allowed: 2026-11-28\)/);
  });
});

describe('gaps', () => {
  it('names each gap by control and scope once, and excepts none of a control that accepts no exception', async () => {
    const live: LiveState = {
      users: section([BG]),
      groups: section([]),
      domains: section([{ id: 'contoso.example', isDefault: true, isVerified: true }]),
      acceptedDomains: section([{ DomainName: 'contoso.example' }]),
      outboundSpam: section([{ Identity: 'Default', AutoForwardingMode: 'On' }]),
      authorizationPolicy: section({ permissionGrantPolicyIdsAssignedToDefaultUserRole: ['ManagePermissionGrantsForSelf.microsoft-user-default-legacy'] }),
      mailboxes: section([{ UserPrincipalName: 'morgan@contoso.example', ForwardingSmtpAddress: 'smtp:morgan@elsewhere.example', RecipientTypeDetails: 'UserMailbox' }]),
    };
    const table = { '_dmarc.contoso.example': ['v=DMARC1; p=none; pct=50; rua=mailto:d@contoso.example'], 'contoso.example': ['v=spf1 -all'] };
    const posture = derivePosture(await readOf(live, table, ['contoso.example']), { stack: 'contoso' });
    expect(posture.gaps.map((g) => `${g.control} ${g.scope.type}:${g.scope.value}${g.scope.destinations ? ` → ${g.scope.destinations.join(',')}` : ''}`)).toEqual([
      'MAIL.DMARC.2 domain:contoso.example',
      'MAIL.FWD.1 policy:Default',
      'MAIL.FWD.3 user:morgan@contoso.example → morgan@elsewhere.example',
      // No anti-phishing policy was read: failing mail on the direct path is not quarantined.
      'MAIL.PATH.1 path:contoso.example/eop',
    ]);
    expect(posture.gaps[0]!.reason).toBe('DMARC is published at p=none; DMARC applies to pct=50 of failing mail');
    // Users' consent is a gap the plan shows, but APP.CONSENT.1 accepts no exception.
    expect(posture.gaps.some((g) => g.control.startsWith('APP.CONSENT'))).toBe(false);
    const text = renderStack(posture, { tenant: 'contoso.example', acceptGapsUntil: '2026-08-30' });
    expect(text).toContain('approvedBy: "approver-required@posture-import.invalid"');
    expect(text).toMatch(/type: "user",\s*value: "morgan@contoso\.example",\s*destinations: \["morgan@elsewhere\.example"\]/);
    // A path exception needs its compensating control: left for a person, so synth refuses it until named.
    expect(text).toMatch(/TODO: name the compensating control[^\n]*\n\s*\{\s*control: "MAIL.PATH.1"/);
    expect(renderStack(posture, { tenant: 'contoso.example' })).not.toContain('exceptions:');
  });
});

describe('what import reads', () => {
  it('reads no inbox rules, and every other type the imported areas govern', () => {
    const read = new Set(typesToRead(readManifest()).map((t) => t.key));
    expect(read.has('inboxRule')).toBe(false);
    const areas = new Set<string>(IMPORTED_AREAS);
    const governed = CATALOGUE.filter((c) => areas.has(c.area)).flatMap((c) => c.resources.read).filter((k) => !NOT_READ_FOR_IMPORT.has(k));
    expect(governed.filter((k) => !read.has(k))).toEqual([]);
    expect(read.has('mailbox')).toBe(true);
  });
});

describe('registration', () => {
  it('gives the lines that register the stack in the stacks/main.ts posture init writes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'posture-import-main-'));
    mkdirSync(join(dir, 'stacks'));
    writeFileSync(join(dir, 'stacks', 'main.ts'), "import { runSynth } from 'email-posture';\nimport { PostureStack } from './posture.js';\n\nrunSynth((app) => {\n  new PostureStack(app, \"contoso\");\n});\n");
    expect(registration(join(dir, 'stacks', 'contoso-prod.ts'), 'contoso-prod')?.lines).toEqual([
      'import { ContosoProdStack } from "./contoso-prod.js";',
      '  new ContosoProdStack(app, "contoso-prod");',
    ]);
    expect(registration(join(dir, 'other', 'x.ts'), 'x')).toBeUndefined();
    // init's PostureStack already builds "contoso": registering a second stack of that name would stop synth.
    expect(registration(join(dir, 'stacks', 'contoso.ts'), 'contoso')?.clash).toBe('PostureStack');
    expect(registration(join(dir, 'stacks', 'contoso-prod.ts'), 'contoso-prod')?.clash).toBeUndefined();
  });
});

describe('withRegistration', () => {
  const lines = ['import { BStack } from "./b.js";', '  new BStack(app, "b");'];
  it('adds the import after the last import and the stack as the last line of runSynth', () => {
    const text = "import { runSynth } from 'email-posture';\nimport { A } from './a.js';\n\n// the app\nrunSynth((app) => {\n  new A(app, 'a');\n});\n";
    expect(withRegistration(text, lines)).toBe("import { runSynth } from 'email-posture';\nimport { A } from './a.js';\nimport { BStack } from \"./b.js\";\n\n// the app\nrunSynth((app) => {\n  new A(app, 'a');\n  new BStack(app, \"b\");\n});\n");
  });
  it('guesses nothing in a file of another layout', () => {
    expect(withRegistration("runSynth((app) => {\n});\n", lines), 'no import line').toBeUndefined();
    expect(withRegistration("import x from 'x';\nrunSynth((app) => { new A(app); });\n", lines), 'one-line body').toBeUndefined();
    expect(withRegistration("import x from 'x';\nrunSynth((app) => {\n  new A(app);\n", lines), 'unclosed').toBeUndefined();
    expect(withRegistration("import x from 'x';\nsynthesize((app) => {\n});\n", lines), 'not runSynth').toBeUndefined();
  });
});

describe('derivePosture beyond mail flow and consent', () => {
  const GRAPH_SP = { id: 'sp-graph', appId: '00000003-0000-0000-c000-000000000000', displayName: 'Microsoft Graph', appOwnerOrganizationId: 'f8cdef31-a31e-4b4a-93e4-5f571e91255a' };
  const EXO_SP = { id: 'sp-exo', appId: '00000002-0000-0ff1-ce00-000000000000', displayName: 'Office 365 Exchange Online', appOwnerOrganizationId: 'f8cdef31-a31e-4b4a-93e4-5f571e91255a' };
  const graphRoles = [{ id: 'role-send', value: 'Mail.Send' }, { id: 'role-user', value: 'User.Read.All' }];
  const exoRoles = [{ id: 'role-full', value: 'full_access_as_app' }];
  const app = (id: string, appId: string, displayName: string) => ({ id, appId, displayName, appOwnerOrganizationId: '0c4d1e2f-0000-4000-8000-000000000001' });
  const assign = (principalId: string, appRoleId: string, resourceId: string) => ({ id: `${principalId}-${appRoleId}`, principalId, principalType: 'ServicePrincipal', appRoleId, resourceId });
  const HOSTILE_APP = 'Mailer */ \u202e\n// run();';
  const live: LiveState = {
    users: section([BG, { id: 'u-owner', userPrincipalName: 'owner@contoso.example', displayName: 'Ola Owner' }, { id: 'u-exec', userPrincipalName: 'exec@contoso.example', displayName: 'Eve Exec' }, { id: 'u-fin', userPrincipalName: 'fin@contoso.example', displayName: 'Fin Ance' }]),
    groups: section([{ id: 'g-1', displayName: 'Finance Team', mail: 'finance@contoso.example', mailNickname: 'finance' }]),
    domains: section([{ id: 'contoso.example', isDefault: true, isVerified: true }]),
    acceptedDomains: section([{ DomainName: 'contoso.example' }]),
    servicePrincipals: section([GRAPH_SP, EXO_SP, app('sp-a', '11111111-2222-4333-8444-555555555555', HOSTILE_APP), app('sp-b', '66666666-7777-4888-9999-000000000000', 'Archiver'), app('sp-c', '12121212-3434-4565-8787-909090909090', 'Directory Reader')]),
    appPermissions: section({
      resources: [{ ...GRAPH_SP, appRoles: graphRoles }, { ...EXO_SP, appRoles: exoRoles }],
      assignments: [assign('sp-a', 'role-send', 'sp-graph'), assign('sp-b', 'role-full', 'sp-exo'), assign('sp-c', 'role-user', 'sp-graph')],
    }),
    mailAppOwners: section({ 'sp-a': [{ id: 'u-owner', displayName: 'Ola Owner', userPrincipalName: 'owner@contoso.example' }], 'sp-b': [] }),
    applications: { ...section([
      { appId: '11111111-2222-4333-8444-555555555555', passwordCredentials: [{ keyId: 'k1', startDateTime: '2025-01-01T00:00:00Z', endDateTime: '2027-01-01T00:00:00Z', hint: 'abc' }], keyCredentials: [{ keyId: 'k2', usage: 'Verify', endDateTime: '2020-01-01T00:00:00Z', customKeyIdentifier: 'THUMB' }] },
      { appId: '66666666-7777-4888-9999-000000000000', passwordCredentials: [], keyCredentials: [] },
    ]), readAt: '2026-06-01T00:00:00Z' },
    applicationAccessPolicies: section([{ AppId: '11111111-2222-4333-8444-555555555555', AccessRight: 'RestrictAccess', ScopeName: 'Finance Team', ScopeIdentity: 'finance' }]),
    externalInOutlook: section([{ Identity: 'ExternalInOutlook', Enabled: false, AllowList: [] }]),
    transportRules: section([{ Name: 'External banner', State: 'Enabled', Mode: 'Enforce', FromScope: 'NotInOrganization', ApplyHtmlDisclaimerLocation: 'Prepend', ApplyHtmlDisclaimerText: 'External' }]),
    sharingPolicies: section([{ Identity: 'Default Sharing Policy', Enabled: true, Domains: ['*:CalendarSharingFreeBusyDetail', 'partner.example:ContactsSharing'] }]),
    organizationConfig: section([{ AuditDisabled: false }]),
    authMethodsPolicy: section({ authenticationMethodConfigurations: [{ id: 'Sms', state: 'enabled' }, { id: 'Voice', state: 'disabled' }, { id: 'Email', state: 'enabled' }] }),
    antiPhish: section([
      { Name: 'Default', IsDefault: true, EnableTargetedUserProtection: true, TargetedUsersToProtect: ['Eve Exec;exec@contoso.example', 'Fin Ance;fin@contoso.example'], EnableTargetedDomainsProtection: true, TargetedDomainsToProtect: ['partner.example', 'contoso.example'] },
      { Name: 'Finance', IsDefault: false, EnableTargetedUserProtection: true, TargetedUsersToProtect: ['Eve Exec;exec@contoso.example'], EnableTargetedDomainsProtection: true, TargetedDomainsToProtect: ['partner.example'] },
    ]),
    antiPhishRules: section([{ Name: 'Finance', State: 'Enabled', AntiPhishPolicy: 'Finance', SentToMemberOf: ['Finance Team'], Priority: 0 }]),
    safeLinks: section([{ Name: 'Links', EnableSafeLinksForTeams: false, EnableSafeLinksForOffice: true, EnableForInternalSenders: true }]),
    safeAttachments: section([{ Name: 'Attachments', Action: 'DynamicDelivery', QuarantineTag: 'AdminOnlyAccessPolicy' }]),
    malwareFilter: section([{ Name: 'Default', IsDefault: true, FileTypes: ['exe', 'one', 'ONE'], FileTypeAction: 'Reject' }]),
  };

  it('declares the mail apps with their permissions, owner, scope and credential kinds, never a credential', async () => {
    const posture = derivePosture(await readOf(live, {}, []), { stack: 'contoso', identityOwner: { name: 'Id', team: 'Identity', contact: 'id@contoso.example' } });
    const text = renderStack(posture, { tenant: 'contoso.onmicrosoft.example' });
    expect(unsafe(text)).toBe(false);
    expect(text).toMatch(/new MailApplications\(posture, "MailApplications", \{\n {6}owner: identityOwner,/);
    // Only the apps holding a mail permission; the hostile name a literal that means exactly it.
    expect(text).not.toContain('Directory Reader');
    expect(text).toContain(`displayName: ${literal(HOSTILE_APP)}`);
    expect(text).not.toMatch(/^\s*\/\/ run\(\);/m);
    expect(text).toMatch(/owner: \{ name: "Ola Owner", team: identityOwner\.team, contact: "owner@contoso\.example" \}/);
    expect(text).toContain('permissions: { graph: ["Mail.Send"] }');
    expect(text).toContain('scope: { group: "finance@contoso.example" }');
    // The expired certificate does not count; the secret does, with its kind only.
    expect(text).toContain('credentials: ["secret"]');
    expect(text).toMatch(/lives or has lived longer than the catalogue's 180 days/);
    expect(text).not.toMatch(/k1|k2|THUMB|abc/);
    // The Exchange app: no owner, no access policy: placeholders synth refuses.
    expect(text).toContain('permissions: { exchange: ["full_access_as_app"] }');
    expect(text).toMatch(/TODO: the app has no owner in Entra ID[^\n]*\n\s+owner: identityOwner,/);
    expect(text).toMatch(/TODO: no application access policy restricts the app[^\n]*\n\s+scope: \{ mailboxes: \[\] \}/);
    expect(posture.todo).toEqual(['the mailboxes each mail application may reach']);
  });

  it('declares exposure and authentication strength as the tenant has them, naming the gaps', async () => {
    const posture = derivePosture(await readOf(live, {}, []), { stack: 'contoso' });
    const text = renderStack(posture, { tenant: 'contoso.onmicrosoft.example' });
    expect(text).toMatch(/new ExternalExposure\(posture, "ExternalExposure", \{[^)]*bannerRule: "External banner"/);
    // Details shared with every domain are below the catalogue: nothing of it is declared.
    expect(text).not.toMatch(/allowFreeBusyWithAllDomains/);
    expect(text).toMatch(/shares calendar details or contacts with every domain[^\n]*the plan will show the gap/);
    expect(text).toMatch(/new AuthenticationStrength\(posture, "AuthenticationStrength", \{ owner, disabledMethods: \["voice"\] \}\)/);
    expect(text).toMatch(/SMS or voice codes are enabled/);
  });

  it('declares threat protection as every policy applying to a mailbox holds it', async () => {
    const posture = derivePosture(await readOf(live, {}, []), { stack: 'contoso', mailOwner: { name: 'Mail', team: 'Mail', contact: 'mail@contoso.example' } });
    const text = renderStack(posture, { tenant: 'contoso.onmicrosoft.example' });
    expect(text).toMatch(/new ThreatProtection\(posture, "ThreatProtection", \{\n {6}owner: mailOwner,/);
    expect(text).toContain('populations: { highValueGroups: ["Finance Team"] }');
    // Without the mailboxes, every policy counts: exec is protected by both, fin by one; the own domain is always protected.
    expect(text).toContain('impersonation: { protectedUsers: ["exec@contoso.example"], partnerDomains: ["partner.example"] }');
    expect(text).toMatch(/Protected by some anti-phishing policies only, so not declared: "fin@contoso\.example"/);
    expect(text).toContain('links: { teams: false }');
    expect(text).toContain('attachments: { action: "DynamicDelivery", additionalFileTypes: ["one"] }');
    expect(text).toMatch(/Not imported: the privileged roles/);
  });

  it('gives every area the owner variable of its group', async () => {
    const posture = derivePosture(await readOf(live, {}, []), { stack: 'contoso' });
    expect(Object.fromEntries(posture.areas.map((a) => [a.construct, a.group]))).toEqual({
      SenderAuthentication: 'mail', InboundEnforcement: 'mail', ForwardingLockdown: 'mail', ThreatProtection: 'mail', ExternalExposure: 'mail', InboundPaths: 'mail',
      ConsentGovernance: 'identity', RiskBasedAccess: 'identity', AuthenticationStrength: 'identity', MailApplications: 'identity', IncidentResponse: 'all',
    });
  });
});
