import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TerraformStack, type App } from 'cdktf';
import { describe, expect, it } from 'vitest';
import {
  ConsentGovernance,
  EmailSecurityPosture,
  ForwardingLockdown,
  InboundEnforcement,
  RiskBasedAccess,
  SenderAuthentication,
  TODAY_CONTEXT_KEY,
  formatErrors,
  synthesize,
} from '../../stacks/index.js';
import { TODAY, build, declareAll, errorLines, owner, postureProps } from './helpers.js';

const run = promisify(execFile);
const exception = (over: Record<string, unknown> = {}) => ({
  control: 'MAIL.DMARC.2',
  scope: { type: 'domain' as const, value: 'legacy.example' },
  reason: 'Legacy ticketing system sends unaligned mail until it is replaced.',
  approvedBy: 'ciso@contoso.example',
  expires: '2026-08-01',
  ...over,
});
const dmarc = (domains: object[], extra: object = {}) => (p: EmailSecurityPosture) =>
  new SenderAuthentication(p, 'Dmarc', { owner, reportAddresses: ['mailto:d@contoso.example'], domains: domains as never, ...extra });

describe('validation at synth: every error names the construct path and the property', () => {
  describe('owners', () => {
    it('an area without an owner', () => {
      const lines = errorLines(build((p) => new ForwardingLockdown(p, 'Forwarding', {})));
      expect(lines).toEqual([
        expect.stringMatching(/^test\/Posture\/Forwarding: owner: is required: MAIL\.FWD\.1v1, MAIL\.FWD\.2v1, MAIL\.FWD\.3v1, MAIL\.FWD\.4v1, MAIL\.FWD\.5v1 have no accountable owner/),
      ]);
    });

    it('a control left without an owner when the others have one', () => {
      const lines = errorLines(
        build((p) => new ForwardingLockdown(p, 'Forwarding', { controls: Object.fromEntries(['MAIL.FWD.1', 'MAIL.FWD.2', 'MAIL.FWD.3', 'MAIL.FWD.5'].map((c) => [c, { owner }])) })),
      );
      expect(lines).toEqual([expect.stringMatching(/^test\/Posture\/Forwarding: owner: is required: MAIL\.FWD\.4v1 has no accountable owner/)]);
    });

    it('the posture without an ownership owner, and an owner with a bad contact', () => {
      const lines = errorLines(build(() => {}, postureProps({ ownership: { owner: undefined as never } })));
      expect(lines).toEqual([expect.stringMatching(/^test\/Posture: ownership\.owner: is required/)]);
      const bad = errorLines(build((p) => new InboundEnforcement(p, 'Inbound', { owner: { name: 'X', team: '', contact: 'not-an-address' } })));
      expect(bad).toEqual([
        'test/Posture/Inbound: owner.team: is required',
        expect.stringMatching(/^test\/Posture\/Inbound: owner\.contact: "not-an-address" must be a user principal name/),
      ]);
    });
  });

  describe('break-glass accounts', () => {
    const custom = (exclude: string[], state?: 'disabled') => (p: EmailSecurityPosture) =>
      new RiskBasedAccess(p, 'Risk', { owner }).addPolicy('Custom', {
        key: 'custom',
        control: 'ID.CA.2',
        displayName: 'Custom MFA',
        ...(state ? { state } : {}),
        users: { include: ['All'], exclude },
        signInRiskLevels: ['low'],
        grant: { controls: ['mfa'] },
      });

    it('a CA policy that does not exclude every break-glass account', () => {
      expect(errorLines(build(custom(['bg1@contoso.example'])))).toEqual([
        'test/Posture/Risk/Custom: users.exclude: does not exclude break-glass account(s) bg2@contoso.example: a policy that applies to them can lock the organisation out of its tenant',
      ]);
    });

    it('matches break-glass UPNs case-insensitively and allows a disabled policy to omit them', () => {
      expect(errorLines(build(custom(['BG1@Contoso.example', 'bg2@contoso.example'])))).toEqual([]);
      expect(errorLines(build(custom([], 'disabled')))).toEqual([]);
    });

    it('a break-glass group must be excluded too', () => {
      const lines = errorLines(
        build(custom(['bg1@contoso.example', 'bg2@contoso.example']), postureProps({ breakGlass: { users: ['bg1@contoso.example', 'bg2@contoso.example'], groups: ['Emergency Access'] } })),
      );
      expect(lines).toEqual(['test/Posture/Risk/Custom: users.excludeGroups: does not exclude break-glass group(s) Emergency Access']);
    });

    it('a posture must declare at least one break-glass account', () => {
      expect(errorLines(build(() => {}, postureProps({ breakGlass: { users: [] } })))).toEqual([
        'test/Posture: breakGlass.users: declare at least one break-glass (emergency access) account',
      ]);
    });

    it('rejects grant combinations Entra would refuse', () => {
      const lines = errorLines(
        build((p) =>
          new RiskBasedAccess(p, 'Risk', { owner }).addPolicy('Bad', {
            key: 'bad',
            control: 'ID.CA.1',
            displayName: 'Bad',
            users: { include: ['All'], exclude: ['bg1@contoso.example', 'bg2@contoso.example'] },
            grant: { controls: ['block', 'passwordChange'] },
            signInFrequency: 'everyTime',
          }),
        ),
      );
      expect(lines).toEqual([
        'test/Posture/Risk/Bad: grant.controls: block cannot be combined with other controls',
        'test/Posture/Risk/Bad: grant.controls: passwordChange needs a user risk condition (userRiskLevels)',
        'test/Posture/Risk/Bad: grant.operator: passwordChange must be combined with mfa under operator AND',
        'test/Posture/Risk/Bad: signInFrequency: everyTime needs a user or sign-in risk condition',
      ]);
    });
  });

  describe('DMARC weaker than the catalogue minimum', () => {
    it('p=none without an exception', () => {
      expect(errorLines(build(dmarc([{ name: 'legacy.example', policy: 'none' }])))).toEqual([
        'test/Posture/Dmarc: domains[0].policy: "none" is weaker than the catalogue minimum for legacy.example (reject, or a declared quarantine) and no MAIL.DMARC.2 exception covers the domain',
      ]);
    });

    it('pct below 100 and sp=none without an exception', () => {
      expect(errorLines(build(dmarc([{ name: 'legacy.example', pct: 50, subdomainPolicy: 'none' }])))).toEqual([
        'test/Posture/Dmarc: domains[0].subdomainPolicy: "none" leaves subdomains of legacy.example open to spoofing and no MAIL.DMARC.2 exception covers the domain',
        'test/Posture/Dmarc: domains[0].pct: 50 exempts part of the failing mail of legacy.example; the catalogue minimum is 100 unless a MAIL.DMARC.2 exception covers the domain',
      ]);
    });

    it('a declared quarantine and a declared ~all are allowed; p=none is allowed under an exception in force', () => {
      expect(errorLines(build(dmarc([{ name: 'news.example', policy: 'quarantine', spfAll: '~all' }])))).toEqual([]);
      expect(errorLines(build(dmarc([{ name: 'legacy.example', policy: 'none', pct: 10 }]), postureProps({ exceptions: [exception()] })))).toEqual([]);
    });

    it('an exception for another domain or another control does not cover it', () => {
      const other = postureProps({ exceptions: [exception({ scope: { type: 'domain', value: 'other.example' } }), exception({ control: 'MAIL.DMARC.3' })] });
      expect(errorLines(build(dmarc([{ name: 'legacy.example', policy: 'none' }]), other))).toHaveLength(1);
    });

    it('missing report addresses and a parked domain with softfail', () => {
      const lines = errorLines(build((p) => new SenderAuthentication(p, 'Dmarc', { owner, domains: [{ name: 'parked.example', sending: false, spfAll: '~all' }] })));
      expect(lines).toEqual([
        'test/Posture/Dmarc: domains[0].rua: needs at least one mailto: address for aggregate reports (or set reportAddresses)',
        'test/Posture/Dmarc: domains[0].spfAll: parked.example sends no mail, so its SPF record must be "v=spf1 -all"',
      ]);
    });
  });

  describe('exceptions', () => {
    const lines = (e: object, extra: object = {}) => errorLines(build(() => {}, postureProps({ exceptions: [e as never], ...extra })));

    it('without an approver', () => {
      expect(lines(exception({ approvedBy: undefined }))).toEqual(['test/Posture: exceptions[0].approvedBy: is required']);
    });
    it('without an expiry', () => {
      expect(lines(exception({ expires: undefined }))).toEqual(['test/Posture: exceptions[0].expires: is required']);
    });
    it('already expired', () => {
      expect(lines(exception({ expires: '2026-05-31' }))).toEqual(['test/Posture: exceptions[0].expires: expired on 2026-05-31; renew it with a new approval or remove it']);
    });
    it('longer than the default maximum of 180 days', () => {
      expect(lines(exception({ expires: '2026-11-28' }))).toEqual([]);
      expect(lines(exception({ expires: '2026-11-29' }))).toEqual(['test/Posture: exceptions[0].expires: 2026-11-29 is more than 180 days ahead (latest allowed: 2026-11-28)']);
    });
    it('longer than a declared maximum', () => {
      expect(lines(exception({ expires: '2026-07-15' }), { exceptionPolicy: { maxDays: 30 } })).toEqual([
        'test/Posture: exceptions[0].expires: 2026-07-15 is more than 30 days ahead (latest allowed: 2026-07-01)',
      ]);
    });
    it('scoped to something the control does not accept', () => {
      expect(lines(exception({ control: 'APP.CONSENT.1', scope: { type: 'app', value: 'Contoso CRM' } }))).toEqual(['test/Posture: exceptions[0].scope.type: APP.CONSENT.1 accepts no exceptions']);
      expect(lines(exception({ control: 'MAIL.FWD.5', scope: { type: 'user', value: 'a@contoso.example' } }))).toEqual([
        'test/Posture: exceptions[0].scope.type: MAIL.FWD.5 accepts exceptions scoped to rule, not "user"',
      ]);
    });
  });

  describe('formats', () => {
    it('an invalid domain', () => {
      expect(errorLines(build(dmarc([{ name: 'not a domain' }])))).toEqual([expect.stringMatching(/^test\/Posture\/Dmarc: domains\[0\]\.name: "not a domain" must be a DNS domain name/)]);
      expect(errorLines(build(dmarc([{ name: 'localhost' }])))).toEqual([expect.stringMatching(/domains\[0\]\.name: "localhost" must be a fully qualified domain name/)]);
      expect(errorLines(build(() => {}, postureProps({ organization: { name: 'C', primaryDomain: 'Contoso.Example' } })))).toEqual([
        'test/Posture: organization.primaryDomain: "Contoso.Example" must be lower case',
      ]);
    });
    it('an invalid UPN', () => {
      expect(errorLines(build(() => {}, postureProps({ breakGlass: { users: ['bg1@contoso.example', 'breakglass'] } })))).toEqual([
        expect.stringMatching(/^test\/Posture: breakGlass\.users\[1\]: "breakglass" must be a user principal name/),
      ]);
    });
    it('an invalid GUID', () => {
      expect(errorLines(build((p) => new RiskBasedAccess(p, 'Risk', { owner, privileged: { roles: ['Global Administrator'] } })))).toEqual([
        expect.stringMatching(/^test\/Posture\/Risk: privileged\.roles\[0\]: "Global Administrator" must be a GUID/),
        expect.stringMatching(/^test\/Posture\/Risk\/PrivilegedUserRisk: users\.includeRoles\[0\]: "Global Administrator" must be a GUID/),
      ]);
      expect(errorLines(build(() => {}, postureProps({ organization: { name: 'C', primaryDomain: 'contoso.example', tenantId: 'contoso' } })))).toEqual([
        expect.stringMatching(/^test\/Posture: organization\.tenantId: "contoso" must be a GUID/),
      ]);
    });
    it('an invalid date', () => {
      expect(errorLines(build(() => {}, postureProps({ exceptions: [exception({ expires: '2026-02-30' })] })))).toEqual([
        'test/Posture: exceptions[0].expires: "2026-02-30" must be a calendar date in the form YYYY-MM-DD',
      ]);
      expect(errorLines(build(() => {}, postureProps({ exceptions: [exception({ expires: '1 July 2026' })] })))).toHaveLength(1);
    });
    it('an invalid report URI and a wildcard forwarding domain', () => {
      expect(errorLines(build(dmarc([{ name: 'contoso.example', rua: ['dmarc@contoso.example'] }])))).toEqual([
        expect.stringMatching(/domains\[0\]\.rua\[0\]: "dmarc@contoso\.example" must be a mailto: URI/),
      ]);
      expect(errorLines(build((p) => new ForwardingLockdown(p, 'Fwd', { owner, allowedRemoteDomains: ['*'] })))).toEqual([
        'test/Posture/Fwd: allowedRemoteDomains[0]: "*" would allow forwarding to every domain; name partner domains one by one',
      ]);
    });
  });

  describe('control ids and modes', () => {
    it('an unknown control id in an exception and in an area override', () => {
      expect(errorLines(build(() => {}, postureProps({ exceptions: [exception({ control: 'MAIL.DMARC.9' })] })))).toEqual([
        'test/Posture: exceptions[0].control: unknown control "MAIL.DMARC.9"; see docs/controls.md for the catalogue',
      ]);
      expect(errorLines(build((p) => new ForwardingLockdown(p, 'Fwd', { owner, controls: { 'MAIL.FWD.9': { mode: 'alert' }, 'MAIL.DMARC.1': { mode: 'alert' } } })))).toEqual([
        'test/Posture/Fwd: controls["MAIL.FWD.9"]: unknown control "MAIL.FWD.9"; see docs/controls.md for the catalogue',
        'test/Posture/Fwd: controls["MAIL.DMARC.1"]: MAIL.DMARC.1 belongs to area "sender-authentication", not "forwarding"',
      ]);
      expect(errorLines(build(() => {}, postureProps({ exceptions: [exception({ control: 'MAIL.DMARC.2v2' })] })))).toEqual([
        'test/Posture: exceptions[0].control: control MAIL.DMARC.2 is at version 1, not 2 (use MAIL.DMARC.2v1)',
      ]);
    });

    it('remediate mode on a control that is never remediated automatically', () => {
      expect(errorLines(build(dmarc([{ name: 'contoso.example' }], { controls: { 'MAIL.SPF.1': { mode: 'remediate' } } })))).toEqual([
        expect.stringMatching(/^test\/Posture\/Dmarc: controls\["MAIL\.SPF\.1"\]\.mode: MAIL\.SPF\.1v1 cannot be remediated automatically/),
      ]);
    });

    it('an area declared twice', () => {
      const lines = errorLines(build((p) => {
        new ForwardingLockdown(p, 'Fwd', { owner });
        new ForwardingLockdown(p, 'Fwd2', { owner });
      }));
      expect(lines).toEqual(['test/Posture: Fwd2: area "forwarding" is already declared by test/Posture/Fwd; declare each area once']);
    });
  });

  it('reports all errors together, across constructs', () => {
    const lines = errorLines(
      build((p) => {
        dmarc([{ name: 'legacy.example', policy: 'none' }])(p);
        new ForwardingLockdown(p, 'Fwd', {});
        new ConsentGovernance(p, 'Consent', { owner, adminConsentWorkflow: { reviewers: [] } });
      }, postureProps({ exceptions: [exception({ approvedBy: '', expires: '2020-01-01' })] })),
    );
    expect(lines.map((l) => l.split(': ').slice(0, 2).join(': '))).toEqual([
      'test/Posture: exceptions[0].approvedBy',
      'test/Posture: exceptions[0].expires',
      'test/Posture/Dmarc: domains[0].policy',
      'test/Posture/Fwd: owner',
      'test/Posture/Consent: adminConsentWorkflow.reviewers',
    ]);
  });
});

describe('synthesize: validate everything, then write', () => {
  const context = { [TODAY_CONTEXT_KEY]: TODAY };
  const invalid = (app: App) => {
    const stack = new TerraformStack(app, 'bad');
    const p = new EmailSecurityPosture(stack, 'Posture', postureProps());
    dmarc([{ name: 'legacy.example', policy: 'none' }])(p);
    new ForwardingLockdown(p, 'Fwd', {});
  };

  it('writes cdk.tf.json and posture.json for every stack when valid', () => {
    const outdir = join(mkdtempSync(join(tmpdir(), 'posture-')), 'out');
    const result = synthesize((app) => {
      for (const id of ['one', 'two']) declareAll(new EmailSecurityPosture(new TerraformStack(app, id), 'Posture', postureProps()));
    }, { outdir, context });
    expect(result).toMatchObject({ ok: true, stacks: ['one', 'two'] });
    for (const id of ['one', 'two']) {
      expect(existsSync(join(outdir, 'stacks', id, 'cdk.tf.json'))).toBe(true);
      expect(JSON.parse(readFileSync(join(outdir, 'stacks', id, 'posture.json'), 'utf8'))).toMatchObject({ kind: 'EmailSecurityPosture', stack: id });
    }
  });

  it('writes nothing when invalid, and leaves an earlier output untouched', () => {
    const parent = mkdtempSync(join(tmpdir(), 'posture-'));
    const outdir = join(parent, 'out');
    const result = synthesize(invalid, { outdir, context });
    expect(result.ok).toBe(false);
    expect(existsSync(outdir)).toBe(false);

    mkdirSync(outdir);
    writeFileSync(join(outdir, 'marker'), 'earlier synth');
    expect(synthesize(invalid, { outdir, context }).ok).toBe(false);
    expect(readFileSync(join(outdir, 'marker'), 'utf8')).toBe('earlier synth');
    expect(existsSync(join(outdir, 'stacks'))).toBe(false);
  });

  it('formats the errors as one message', () => {
    const result = synthesize(invalid, { outdir: join(mkdtempSync(join(tmpdir(), 'posture-')), 'out'), context });
    if (result.ok) throw new Error('expected errors');
    expect(formatErrors(result.errors)).toMatch(/^posture synth: 2 validation errors; nothing was written\.\n {2}bad\/Posture\/Dmarc: domains\[0\]\.policy: /);
  });

  it('the synth command exits 1 with one clear message and no stack trace', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'posture-cli-'));
    const tsx = join(import.meta.dirname, '../../node_modules/.bin/tsx');
    const err = await run(tsx, [join(import.meta.dirname, '../fixtures/invalid-app.ts')], { cwd }).catch((e: { code: number; stderr: string; stdout: string }) => e);
    expect('code' in err && err.code).toBe(1);
    expect(err.stderr).toContain('posture synth: 3 validation errors; nothing was written.');
    expect(err.stderr).toContain('broken/Posture/Dmarc: domains[0].policy: "none" is weaker than the catalogue minimum');
    expect(err.stderr).toContain('broken/Posture/Forwarding: owner: is required');
    expect(err.stderr).toContain('broken/Posture/Forwarding: allowedRemoteDomains[0]: "*" would allow forwarding to every domain');
    expect(err.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(cwd, 'cdktf.out'))).toBe(false);
  });
});
