import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUnsafeCodePoint } from '../../reconciler/core/text.js';
import { permissionsFor } from '../../reconciler/cli/permissions.js';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { loadScenario, startSimulator, type RunningSimulator } from '../../simulator/index.js';
import type { Scenario } from '../../simulator/scenario/scenario.js';
import { synthesize, TODAY_CONTEXT_KEY, type App, type SynthResult } from '../../stacks/index.js';
import { cli, isWrite, planAgainst, TODAY, tokens } from '../reconciler/harness.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
/** The generated stacks import the constructs from the repository's source, as a posture repository imports 'email-posture'. */
const MODULE = join(repo, 'stacks', 'index.js');
const OWNER = ['--owner', 'Mail Platform Lead <mail-platform@tailspintoys.example>', '--team', 'Messaging'];
const BREAK_GLASS = ['--break-glass', 'bg-alpha@tailspintoys.example', 'bg-bravo@tailspintoys.example'];
/** Whether a generated file holds a character that hides or reorders code (a newline only as layout). */
const UNSAFE = { test: (text: string) => [...text].some((ch) => ch !== '\n' && isUnsafeCodePoint(ch.codePointAt(0)!)) };

/** The Graph permissions of the read-only app (`posture permissions plan`). */
const READER = permissionsFor('plan').filter((p) => p.api === 'graph').map((p) => p.name);

const connection = (sim: RunningSimulator) => ['--tenant', sim.tenantId, '--graph-url', sim.graphUrl, '--exchange-url', sim.exoUrl, '--dns-server', `${sim.dns.host}:${sim.dns.port}`];

/** A temporary posture folder: ESM, so the generated stack is compiled and loaded as a posture repository's is. */
function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'posture-import-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  return dir;
}

async function runImport(sim: RunningSimulator, dir: string, extra: readonly string[], env = tokens(sim)) {
  return cli(['import', ...connection(sim), '--stack', 'tailspin', '--module', MODULE, '--out', join(dir, 'stacks', 'tailspin.ts'), ...extra], env, dir);
}

/** Loads the generated class and synthesizes it, as a tiny cdktf app that instantiates it would. */
async function synthGenerated(file: string): Promise<{ result: SynthResult; outdir: string }> {
  const mod = (await import(pathToFileURL(file).href)) as Record<string, new (scope: App, id: string) => unknown>;
  const Stack = mod['TailspinStack']!;
  const outdir = join(dirname(dirname(file)), 'cdktf.out');
  const result = synthesize((app) => void new Stack(app, 'tailspin'), { outdir, context: { [TODAY_CONTEXT_KEY]: TODAY } });
  return { result, outdir };
}

/** Type-checks a generated file with the repository's compiler options. */
function typeErrors(file: string): string[] {
  const config = ts.readConfigFile(join(repo, 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, repo);
  const program = ts.createProgram([file], { ...options, noEmit: true, typeRoots: [join(repo, 'node_modules', '@types')] });
  return ts.getPreEmitDiagnostics(program).map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

const findingLine = (f: PlanDocument['findings'][number]) => `${f.control.versionedId} ${f.status} ${f.resource.type}:${f.resource.name}`;

/**
 * What the round trip against the compliant tenant leaves, each for a reason import cannot remove:
 * nothing of these is drift of an imported value.
 */
const COMPLIANT_KNOWN_GAPS: ReadonlyArray<readonly [finding: string, reason: string]> = [];

/** What a plan of the drifted tenant still shows after --accept-gaps, each for a reason import does not except it. */
const ACCEPT_GAPS_LEFT: ReadonlyArray<readonly [finding: string, reason: string]> = [
  ['APP.CONSENT.1v1 drift authorizationPolicy:Authorization Policy', 'the consent controls accept no exception'],
  ['APP.CONSENT.4v1 violation oauth2PermissionGrant:QuickMail Organizer ← taylor.nguyen@tailspintoys.example', "a user's consent to mail scopes may be the compromise: reviewed one by one, never accepted wholesale"],
  ['ID.AUTH.1v1 violation conditionalAccessPolicy:EP - Privileged roles: phishing-resistant MFA', 'a policy the stack declares and the tenant lacks is created, not excepted'],
  ['ID.AUTH.2v1 violation userRegistrationDetails:enabled member users', 'users without a method are one finding, with no scope of its own'],
  ['ID.CA.5v1 drift conditionalAccessPolicy:EP - Sign-in risk medium+high: MFA every time', 'a break-glass account a policy catches is never excepted'],
  ['MAIL.EXPOSURE.1v1 violation externalInOutlook:ExternalInOutlook', 'the External tag being off has no scope an exception names'],
  ['MAIL.EXPOSURE.3v1 violation mailbox:AuditOwner without MailItemsAccessed, UpdateInboxRules, Send', 'mailbox auditing is restored, not excepted: an incident needs it'],
  ['MAIL.EXPOSURE.3v1 violation organizationConfig:tailspintoys.onmicrosoft.example', 'mailbox auditing is restored, not excepted: an incident needs it'],
  ['MAIL.FWD.4v1 violation inboxRule:morgan.reed@tailspintoys.example: "."', 'import reads no inbox rules; the plan judges each'],
];

describe('posture import against the compliant tenant', () => {
  let sim: RunningSimulator;
  let dir: string;
  let file: string;
  let stdout: string;
  beforeAll(async () => {
    sim = await startSimulator({ scenario: 'compliant' });
    dir = workspace();
    file = join(dir, 'stacks', 'tailspin.ts');
    const r = await runImport(sim, dir, [...OWNER, ...BREAK_GLASS]);
    expect(r.stderr).not.toMatch(/warning|error/i);
    expect(r.code).toBe(0);
    stdout = r.stdout;
    // Read-only: nothing but reads reached the tenant.
    expect(sim.requests.entries.length).toBeGreaterThan(0);
    expect(sim.requests.entries.filter(isWrite)).toEqual([]);
    // Inbox rules are the plan's to judge: import reads none.
    expect(sim.requests.entries.filter((e) => /messageRules/i.test(e.path))).toEqual([]);
  }, 60_000);
  afterAll(() => sim.stop());

  it('writes a stack file without control characters, every tenant string a literal', () => {
    const text = readFileSync(file, 'utf8');
    expect(UNSAFE.test(text)).toBe(false);
    expect(text).toContain('export class TailspinStack extends TerraformStack');
    expect(text).toContain(`from ${JSON.stringify(MODULE)}`);
    expect(text).toContain('primaryDomain: "tailspintoys.example"');
    expect(text).toContain('users: ["bg-alpha@tailspintoys.example", "bg-bravo@tailspintoys.example"]');
    expect(text).toContain('allowedRemoteDomains');
    expect(text).toContain('"payroll-partner.example"');
    expect(text).toContain('reviewers: [{ user: "casey.lee@tailspintoys.example" }, { group: "App Consent Reviewers" }]');
    expect(text).toContain('staged: ["privileged-user-risk"]');
    expect(text).toContain('policy: "quarantine"');
    // The areas beyond mail flow and consent, as the tenant holds them.
    expect(text).toContain('new MailApplications(posture, "MailApplications"');
    expect(text).toContain('appId: "e4a1c9b2-6d3f-4f8a-9b2c-7d1e5f3a8c64"');
    expect(text).toContain('scope: { group: "payroll-senders@tailspintoys.example" }');
    expect(text).toContain('credentials: ["certificate"]');
    expect(text).toContain('new ExternalExposure(posture, "ExternalExposure", { owner, allowFreeBusyWithAllDomains: true })');
    expect(text).toContain('new InboundPaths(posture, "InboundPaths", { owner, routingOwner: owner, policyOwner: owner })');
    expect(text).toMatch(/\/\/ The tenant's inbound paths: [^\n]*"tailspintoys\.example\/eop"/);
    expect(text).toMatch(/\/\/ Proposed, not read: the tenant holds no response policy\.[^\n]*\n[^\n]*\n[^\n]*\n\s*new IncidentResponse\(posture, "IncidentResponse", \{\s*owner,/);
    expect(text).toContain('disabledMethods: ["hardwareOath", "sms", "softwareOath", "voice"]');
    expect(text).toContain('populations: { highValueGroups: ["Security Operations"] }');
    expect(text).toContain('protectedUsers: ["ciso@tailspintoys.example", "casey.lee@tailspintoys.example"]');
    expect(text).toContain('partnerDomains: ["payroll-partner.example"]');
    // Credential kinds only: never a key, its identifier or a thumbprint.
    expect(text).not.toMatch(/keyId|customKeyIdentifier|3f6c8a1e|QTFCMkMz|CN=payroll-mailer/);
    expect(stdout).toContain('new TailspinStack(app, "tailspin")');
    // Nothing about users beyond break-glass accounts, reviewers and the owner.
    expect(text).not.toMatch(/morgan\.reed|taylor\.nguyen|payroll@/);
  });

  it('type-checks against the constructs', () => {
    expect(typeErrors(file)).toEqual([]);
  }, 120_000);

  it('synthesizes, and a plan against the same tenant has no drift on anything imported', async () => {
    const { result, outdir } = await synthGenerated(file);
    expect(result).toMatchObject({ ok: true, stacks: ['tailspin'] });
    const r = await planAgainst(sim, outdir, ['--format', 'json']);
    const plan = JSON.parse(r.stdout) as PlanDocument;
    expect(plan.incomplete).toEqual([]);
    expect(plan.findings.filter((f) => f.status === 'drift').map(findingLine)).toEqual([]);
    // What remains is exactly the known gaps, each with its reason above.
    expect(plan.findings.map(findingLine).sort()).toEqual(COMPLIANT_KNOWN_GAPS.map(([f]) => f).sort());
    expect(plan.summary.changes).toEqual({ create: 0, update: 0, delete: 0 });
  }, 120_000);

  it("registers the stack in posture init's stacks/main.ts, once however often it is imported", async () => {
    const own = workspace();
    mkdirSync(join(own, 'stacks'));
    const main = join(own, 'stacks', 'main.ts');
    writeFileSync(main, "import { runSynth } from 'email-posture';\nimport { PostureStack } from './posture.js';\n\nrunSynth((app) => {\n  new PostureStack(app, 'contoso');\n});\n");
    const first = await runImport(sim, own, [...OWNER, ...BREAK_GLASS]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/registered TailspinStack in .*main\.ts: posture synth builds stack tailspin/);
    const registered = "import { runSynth } from 'email-posture';\nimport { PostureStack } from './posture.js';\nimport { TailspinStack } from \"./tailspin.js\";\n\nrunSynth((app) => {\n  new PostureStack(app, 'contoso');\n  new TailspinStack(app, \"tailspin\");\n});\n";
    expect(readFileSync(main, 'utf8')).toBe(registered);
    const again = await runImport(sim, own, [...OWNER, ...BREAK_GLASS, '--force']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).not.toMatch(/registered|register the stack/);
    expect(readFileSync(main, 'utf8')).toBe(registered);
  }, 60_000);

  it('refuses to replace the file without --force, and writes the same file again with it', async () => {
    const before = readFileSync(file, 'utf8');
    const refused = await runImport(sim, dir, [...OWNER, ...BREAK_GLASS]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/exists: pass --force/);
    const again = await runImport(sim, dir, [...OWNER, ...BREAK_GLASS, '--force']);
    expect(again.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(before);
  }, 60_000);

  it('without --owner and --break-glass writes placeholders that synth refuses', async () => {
    const other = workspace();
    const r = await runImport(sim, other, []);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/synth refuses it until the owner and the break-glass accounts are confirmed/);
    const generated = join(other, 'stacks', 'tailspin.ts');
    const text = readFileSync(generated, 'utf8');
    expect(text).toContain('owner-required@posture-import.invalid');
    expect(text).toContain('breakGlass: { users: [] }');
    // The proposal, from the exclusions every enabled policy shares, is in a comment.
    expect(text).toMatch(/\/\/ Every enabled conditional access policy excludes: "bg-alpha@tailspintoys\.example", "bg-bravo@tailspintoys\.example"\./);
    const { result } = await synthGenerated(generated);
    expect(result.ok).toBe(false);
    const errors = result.ok ? [] : result.errors;
    expect(errors.map((e) => e.message).join('\n')).toMatch(/replace the placeholder owner written by posture import/);
    expect(errors.some((e) => e.constructPath === 'tailspin/Posture' && e.property === 'breakGlass.users')).toBe(true);
  }, 60_000);

  it('fails loudly on a read it cannot make, naming it, and writes nothing', async () => {
    const other = workspace();
    const r = await runImport(sim, other, [...OWNER, ...BREAK_GLASS], tokens(sim, READER.filter((p) => p !== 'Policy.Read.All')));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/could not be read completely, so nothing was written/);
    expect(r.stderr).toMatch(/Policy\.Read\.All/);
    expect(existsSync(join(other, 'stacks', 'tailspin.ts'))).toBe(false);
  }, 60_000);
});

describe('posture import of the areas beyond mail flow and consent', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ scenario: 'compliant' });
  });
  afterAll(() => sim.stop());

  it('stops, naming them, when the mail applications cannot be read', async () => {
    const other = workspace();
    const r = await runImport(sim, other, [...OWNER, ...BREAK_GLASS], tokens(sim, READER.filter((p) => p !== 'Application.Read.All')));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/could not be read completely, so nothing was written/);
    expect(r.stderr).toMatch(/application registrations and their credentials \(\/applications\?.*\(needs Application\.Read\.All\)/);
    expect(r.stderr).toMatch(/application permissions to the mail APIs .*\(needs Application\.Read\.All\)/);
    expect(existsSync(join(other, 'stacks', 'tailspin.ts'))).toBe(false);
  }, 60_000);

  it('stops, naming them, when the Exchange reads of the new areas fail', async () => {
    const failing = await startSimulator({
      scenario: 'compliant',
      faults: ['Get-ApplicationAccessPolicy', 'Get-SharingPolicy', 'Get-SafeLinksPolicy'].map((route) => ({ api: 'exchange' as const, route: `^${route}$`, kind: 'status' as const, status: 400 })),
    });
    try {
      const other = workspace();
      const r = await runImport(failing, other, [...OWNER, ...BREAK_GLASS]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/could not be read completely, so nothing was written/);
      for (const cmdlet of ['Get-ApplicationAccessPolicy', 'Get-SharingPolicy', 'Get-SafeLinksPolicy']) expect(r.stderr).toContain(cmdlet);
      expect(existsSync(join(other, 'stacks', 'tailspin.ts'))).toBe(false);
    } finally {
      await failing.stop();
    }
  }, 60_000);

  it('gives the mail areas and the identity areas the owners --mail-owner and --identity-owner name', async () => {
    const other = workspace();
    const r = await runImport(sim, other, [
      ...OWNER, ...BREAK_GLASS,
      '--mail-owner', 'Mail Platform Lead <mail-platform@tailspintoys.example>',
      '--identity-owner', 'Identity Engineering Lead <identity-team@tailspintoys.example>',
    ]);
    expect(r.code).toBe(0);
    const generated = join(other, 'stacks', 'tailspin.ts');
    const text = readFileSync(generated, 'utf8');
    expect(text).toMatch(/const identityOwner = \{\s+name: "Identity Engineering Lead",\s+team: "Messaging",\s+contact: "identity-team@tailspintoys\.example",\s+\};/);
    for (const area of ['SenderAuthentication', 'InboundEnforcement', 'ForwardingLockdown', 'ThreatProtection', 'ExternalExposure']) expect(text).toMatch(new RegExp(`new ${area}\\(posture, "${area}", \\{\\s*owner: mailOwner\\b`));
    for (const area of ['ConsentGovernance', 'RiskBasedAccess', 'AuthenticationStrength', 'MailApplications']) expect(text).toMatch(new RegExp(`new ${area}\\(posture, "${area}", \\{\\s*owner: identityOwner\\b`));
    expect(text).toContain('team: identityOwner.team');
    expect(typeErrors(generated)).toEqual([]);
    const { result, outdir } = await synthGenerated(generated);
    expect(result.ok).toBe(true);
    const manifest = JSON.parse(readFileSync(join(outdir, 'stacks', 'tailspin', 'posture.json'), 'utf8')) as { controls: Array<{ id: string; owner: { contact: string } }> };
    const ownerOf = (id: string) => manifest.controls.find((c) => c.id.startsWith(`${id}v`))?.owner.contact;
    expect([ownerOf('MAIL.DMARC.1'), ownerOf('MAIL.THREAT.1'), ownerOf('MAIL.EXPOSURE.1')]).toEqual(Array(3).fill('mail-platform@tailspintoys.example'));
    expect([ownerOf('APP.CONSENT.1'), ownerOf('ID.CA.1'), ownerOf('ID.AUTH.3'), ownerOf('MAIL.APPS.1')]).toEqual(Array(4).fill('identity-team@tailspintoys.example'));
  }, 120_000);
});

describe('posture import against the drifted tenant', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ scenario: 'drifted' });
  });
  afterAll(() => sim.stop());

  it('declares the catalogue minimum where the tenant is below it, and the plan shows the gaps', async () => {
    const dir = workspace();
    const r = await runImport(sim, dir, [...OWNER, ...BREAK_GLASS]);
    expect(r.code).toBe(0);
    // bg-bravo was dropped from one policy's exclusions: confirmed anyway, with a warning.
    expect(r.stderr).toMatch(/"bg-bravo@tailspintoys\.example" is not excluded by every enabled conditional access policy/);
    const file = join(dir, 'stacks', 'tailspin.ts');
    const text = readFileSync(file, 'utf8');
    expect(UNSAFE.test(text)).toBe(false);
    expect(text).toMatch(/Published at p=none \(monitoring only\), below the catalogue minimum: p=reject is declared and the plan will show the gap\./);
    expect(text).toMatch(/publishes no DMARC record/);
    expect(text).toMatch(/allows automatic forwarding/);
    // Mail apps are imported with what they hold now: the long-lived secret, the unrestricted scope left to a person.
    expect(text).toContain('permissions: { graph: ["Mail.Send", "MailboxSettings.ReadWrite"] }');
    expect(text).toContain('credentials: ["certificate", "secret"]');
    expect(text).toMatch(/A client secret of the app lives or has lived longer than the catalogue's 180 days/);
    expect(text).toMatch(/no application registration in this tenant/);
    expect(r.stdout).toMatch(/synth refuses it until the mailboxes each mail application may reach are confirmed/);
    expect(typeErrors(file)).toEqual([]);
    const refused = await synthGenerated(file);
    expect(refused.result.ok).toBe(false);
    const errors = refused.result.ok ? [] : refused.result.errors;
    expect(errors.map((e) => `${e.constructPath} ${e.property}`).sort()).toEqual(['tailspin/Posture/MailApplications apps[0].scope.mailboxes', 'tailspin/Posture/MailApplications apps[1].scope.mailboxes']);
    // A person names the mailboxes each app needs, as the TODO asks.
    expect(text.match(/TODO: no application access policy restricts the app/g)).toHaveLength(2);
    // (A file of its own: the module loaded above stays cached under its name.)
    const reviewed = join(dir, 'stacks', 'tailspin-reviewed.ts');
    writeFileSync(reviewed, text.replaceAll('scope: { mailboxes: [] }', 'scope: { mailboxes: ["payroll@tailspintoys.example"] }'));
    const { result, outdir } = await synthGenerated(reviewed);
    expect(result.ok).toBe(true);
    const plan = await planAgainst(sim, outdir, ['--format', 'json']);
    expect(plan.code).toBe(2);
    const findings = (JSON.parse(plan.stdout) as PlanDocument).findings.map(findingLine);
    expect(findings).toEqual(
      expect.arrayContaining([
        'MAIL.DMARC.2v1 violation domain:tailspintoys.example',
        'MAIL.DMARC.1v1 missing domain:tailspin-toys.example',
        'MAIL.FWD.1v1 drift hostedOutboundSpamFilterPolicy:Default',
        'APP.CONSENT.1v1 drift authorizationPolicy:Authorization Policy',
        'MAIL.FWD.4v1 violation inboxRule:morgan.reed@tailspintoys.example: "."',
        'MAIL.APPS.2v1 missing applicationAccessPolicy:Payroll Statement Mailer (e4a1c9b2-6d3f-4f8a-9b2c-7d1e5f3a8c64)',
      ]),
    );
  }, 180_000);
});

describe('posture import --accept-gaps against the drifted tenant', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ scenario: 'drifted' });
  });
  afterAll(() => sim.stop());

  it('declares each gap as an exception synth refuses until approved; approved, the plan shows them excepted, not as findings', async () => {
    const dir = workspace();
    const r = await runImport(sim, dir, [...OWNER, ...BREAK_GLASS, '--accept-gaps', '--today', TODAY, '--expires', '2026-09-01']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/declared \d+ gaps of the tenant as exceptions expiring on 2026-09-01/);
    expect(r.stdout).toMatch(/the approver of each of the \d+ exceptions/);
    const file = join(dir, 'stacks', 'tailspin.ts');
    const text = readFileSync(file, 'utf8');
    expect(UNSAFE.test(text)).toBe(false);
    expect(text).toMatch(/TODO: each exception declares a gap of the tenant as it was imported/);
    expect(text).toContain('control: "MAIL.DMARC.2"');
    expect(text).toContain('reason: "Imported as the tenant is: DMARC is published at p=none."');
    // The connection filter's allow list is excepted entry by entry, so a range added later is still a finding.
    expect(text).toMatch(/control: "MAIL.INBOUND.3",\s*scope: \{ type: "policy", value: "Default\/203\.0\.113\.0\/24" \}/);
    expect(typeErrors(file)).toEqual([]);
    const refused = await synthGenerated(file);
    expect(refused.result.ok).toBe(false);
    const errors = refused.result.ok ? [] : refused.result.errors;
    const count = (text.match(/approvedBy: "approver-required@posture-import\.invalid"/g) ?? []).length;
    expect(count).toBeGreaterThan(3);
    expect(errors.filter((e) => /^exceptions\[\d+\]\.approvedBy$/.test(e.property) && /placeholder \(\.invalid\)/.test(e.message))).toHaveLength(count);

    // A person approves each one and names the mailboxes each app needs.
    const reviewed = join(dir, 'stacks', 'tailspin-approved.ts');
    writeFileSync(reviewed, text.replaceAll('approver-required@posture-import.invalid', 'ciso@tailspintoys.example').replaceAll('scope: { mailboxes: [] }', 'scope: { mailboxes: ["payroll@tailspintoys.example"] }'));
    const { result, outdir } = await synthGenerated(reviewed);
    expect(result.ok ? [] : result.errors).toEqual([]);
    const plan = await planAgainst(sim, outdir, ['--format', 'json']);
    const doc = JSON.parse(plan.stdout) as PlanDocument;
    expect(doc.incomplete).toEqual([]);
    const excepted = doc.findings.filter((f) => f.status === 'excepted').map(findingLine);
    expect(excepted).toEqual(expect.arrayContaining(['MAIL.DMARC.2v1 excepted domain:tailspintoys.example', 'MAIL.FWD.1v1 excepted hostedOutboundSpamFilterPolicy:Default']));
    // What is left the tenant has in ways no exception of import can hold, each for its reason.
    const open = doc.findings.filter((f) => !['excepted', 'pass'].includes(f.status)).map(findingLine).sort();
    expect(open).toEqual(ACCEPT_GAPS_LEFT.map(([f]) => f).sort());
  }, 180_000);
});

describe('posture import --accept-gaps of a setting the stack relaxes', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    const scenario = loadScenario('compliant') as Scenario & { exchange: { SafeLinksPolicy: Array<Record<string, unknown>> } };
    scenario.exchange.SafeLinksPolicy.find((p) => p['Name'] === 'Tailspin Safe Links')!['EnableSafeLinksForTeams'] = false;
    sim = await startSimulator({ scenario });
  });
  afterAll(() => sim.stop());

  it('declares it relaxed and excepts nothing for it: the policy stays judged on everything else', async () => {
    const dir = workspace();
    const r = await runImport(sim, dir, [...OWNER, ...BREAK_GLASS, '--accept-gaps', '--today', TODAY]);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(join(dir, 'stacks', 'tailspin.ts'), 'utf8');
    expect(text).toContain('links: { teams: false }');
    expect(text).not.toContain('"MAIL.THREAT.3"');
    expect(r.stdout).toContain('the tenant has no gap an exception can declare');
  }, 120_000);
});

describe('posture import of hostile tenant text', () => {
  let sim: RunningSimulator;
  // A group name synth accepts (a reviewer is one line), and a policy name that is only ever in a comment.
  const hostile = 'Reviewers */ \u202egnp.exe "quoted" \\ \u0007';
  const hostilePolicy = 'Office */ only\u2028\n// injected();\r\u202e';
  beforeAll(async () => {
    const scenario = loadScenario('compliant') as Scenario & { graph: { groups: Array<Record<string, unknown>>; conditionalAccessPolicies: Array<Record<string, unknown>> } };
    const group = scenario.graph.groups.find((g) => g['displayName'] === 'App Consent Reviewers')!;
    group['displayName'] = hostile;
    // A policy with a location condition, which the constructs do not declare: listed in a comment.
    const legacy = scenario.graph.conditionalAccessPolicies.find((p) => p['displayName'] === 'EP - Block legacy authentication')!;
    const copy = structuredClone(legacy);
    copy['id'] = '0d6f1f0e-7a43-4c1b-9a3e-5b2d8c4e6f10';
    copy['displayName'] = hostilePolicy;
    (copy['conditions'] as Record<string, unknown>)['locations'] = { includeLocations: ['All'], excludeLocations: ['AllTrusted'] };
    scenario.graph.conditionalAccessPolicies.push(copy);
    sim = await startSimulator({ scenario });
  });
  afterAll(() => sim.stop());

  it('writes tenant text only as escaped literals: the file type-checks and the name comes back exactly', async () => {
    const dir = workspace();
    const r = await runImport(sim, dir, [...OWNER, ...BREAK_GLASS]);
    expect(r.code).toBe(0);
    const file = join(dir, 'stacks', 'tailspin.ts');
    const text = readFileSync(file, 'utf8');
    expect(UNSAFE.test(text)).toBe(false);
    expect(text).not.toMatch(/^\s*injected\(\);/m);
    // The policy's name is in the comment as an escaped literal, on one line.
    expect(text).toContain(`//   - ${JSON.stringify(hostilePolicy).replace(/\u2028/g, '\\u2028').replace(/\u202e/g, '\\u202e').replace(/\*\//g, '*\\/')}: it has a locations condition`);
    expect(typeErrors(file)).toEqual([]);
    const { result, outdir } = await synthGenerated(file);
    expect(result.ok).toBe(true);
    const manifest = JSON.parse(readFileSync(join(outdir, 'stacks', 'tailspin', 'posture.json'), 'utf8')) as { desired: { consent: { adminConsentWorkflow: { reviewers: string[] } } } };
    expect(manifest.desired.consent.adminConsentWorkflow.reviewers).toContain(`group:${hostile}`);
  }, 180_000);
});

describe('posture import on the command line', () => {
  it('describes every option, with examples and exit codes', async () => {
    const r = await cli(['import', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter((l) => /^ {2}(--?[\w-]+(?:, --?[\w-]+)*|[a-z][\w-]*) +\[/.test(l))).toEqual([]);
    expect(r.stdout).toMatch(/\nExamples:\n {2}posture import /);
    expect(r.stdout).toMatch(/\nExit codes:\n {2}0 {2}the stack file was written\n {2}1 {2}/);
  });

  it('refuses an owner without a team, or a placeholder owner, before reading anything', async () => {
    const half = await cli(['import', '--tenant', 'contoso.onmicrosoft.example', '--owner', 'Lead <lead@contoso.example>']);
    expect([half.code, half.stderr]).toEqual([1, expect.stringMatching(/--owner and --team go together/)]);
    const placeholder = await cli(['import', '--tenant', 'contoso.onmicrosoft.example', '--owner', 'Lead <owner-required@posture-import.invalid>', '--team', 'T']);
    expect([placeholder.code, placeholder.stderr]).toEqual([1, expect.stringMatching(/\.invalid domain, which synth refuses/)]);
    const noTeam = await cli(['import', '--tenant', 'contoso.onmicrosoft.example', '--identity-owner', 'Identity <id@contoso.example>']);
    expect([noTeam.code, noTeam.stderr]).toEqual([1, expect.stringMatching(/--identity-owner needs --team/)]);
    const badMail = await cli(['import', '--tenant', 'contoso.onmicrosoft.example', '--mail-owner', 'Mail <owner-required@posture-import.invalid>', '--team', 'T']);
    expect([badMail.code, badMail.stderr]).toEqual([1, expect.stringMatching(/--mail-owner: .*\.invalid domain/)]);
  });
});
