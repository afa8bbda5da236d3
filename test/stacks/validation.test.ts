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

    it('np=none, testing mode and an unknown np without an exception', () => {
      expect(errorLines(build(dmarc([{ name: 'legacy.example', nonExistentSubdomainPolicy: 'none', testing: true }])))).toEqual([
        'test/Posture/Dmarc: domains[0].nonExistentSubdomainPolicy: "none" leaves non-existent subdomains of legacy.example open to spoofing and no MAIL.DMARC.2 exception covers the domain',
        'test/Posture/Dmarc: domains[0].testing: testing mode (t=y) has receivers apply a weaker policy to the failing mail of legacy.example; it needs a MAIL.DMARC.2 exception covering the domain',
      ]);
      expect(errorLines(build(dmarc([{ name: 'legacy.example', nonExistentSubdomainPolicy: 'rejected' as never }])))).toHaveLength(1);
      expect(errorLines(build(dmarc([{ name: 'legacy.example', nonExistentSubdomainPolicy: 'quarantine', testing: false }])))).toEqual([]);
      expect(errorLines(build(dmarc([{ name: 'legacy.example', testing: true, nonExistentSubdomainPolicy: 'none' }]), postureProps({ exceptions: [exception()] })))).toEqual([]);
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

  describe('unknown properties: an error at synth, never dropped', () => {
    const bg = ['bg1@contoso.example', 'bg2@contoso.example'];
    const lines = (declare: (p: EmailSecurityPosture) => unknown, props?: object) =>
      errorLines(build((p) => void declare(p), (props ?? postureProps()) as never));

    it('a misspelled prop: allowedRemoteDomain for allowedRemoteDomains', () => {
      expect(lines((p) => new ForwardingLockdown(p, 'Fwd', { owner, allowedRemoteDomain: ['partner.example'] } as never))).toEqual([
        'test/Posture/Fwd: allowedRemoteDomain: unknown property of ForwardingLockdown; did you mean allowedRemoteDomains?',
      ]);
      // The construct's own checks still run beside it: every problem is reported at once.
      expect(lines((p) => new ForwardingLockdown(p, 'Fwd', { allowedRemoteDomain: ['partner.example'] } as never))).toEqual([
        'test/Posture/Fwd: allowedRemoteDomain: unknown property of ForwardingLockdown; did you mean allowedRemoteDomains?',
        expect.stringMatching(/^test\/Posture\/Fwd: owner: is required/),
      ]);
    });

    it('a name nothing is close to lists the known properties', () => {
      expect(lines((p) => new InboundEnforcement(p, 'Inbound', { owner, quarantineEverything: true } as never))).toEqual([
        'test/Posture/Inbound: quarantineEverything: unknown property of InboundEnforcement (known: owner, mode, controls, dmarcRejectAction, dmarcQuarantineAction)',
      ]);
    });

    it.each<[string, (p: EmailSecurityPosture) => unknown, object | undefined, string[]]>([
      [
        'EmailSecurityPosture, its organization, owner and exceptions',
        () => {},
        postureProps({
          defaultmode: 'report',
          organization: { name: 'C', primaryDomain: 'contoso.example', tenantID: '00000000-0000-0000-0000-000000000001' },
          breakGlass: { users: bg, group: ['Emergency'] },
          ownership: { owner: { ...owner, contakt: 'x@contoso.example' } },
          exceptionPolicy: { maxDay: 30 },
          exceptions: [{ ...exception(), approvedby: 'ciso@contoso.example', scope: { type: 'domain', value: 'legacy.example', note: 'x' } }],
        } as never),
        [
          'test/Posture: organization.tenantID: unknown property; did you mean tenantId?',
          'test/Posture: breakGlass.group: unknown property; did you mean groups?',
          'test/Posture: ownership.owner.contakt: unknown property; did you mean contact?',
          'test/Posture: exceptions[0].scope.note: unknown property (known: type, value, destinations)',
          'test/Posture: exceptions[0].approvedby: unknown property; did you mean approvedBy?',
          'test/Posture: exceptionPolicy.maxDay: unknown property; did you mean maxDays?',
          'test/Posture: defaultmode: unknown property of EmailSecurityPosture; did you mean defaultMode?',
        ],
      ],
      [
        'an exception added with addException',
        (p) => p.addException({ ...exception(), ticekt: 'CHG-1' } as never),
        undefined,
        ['test/Posture: exceptions[0].ticekt: unknown property; did you mean ticket?'],
      ],
      [
        'an area owner and a per-control override',
        (p) => new ForwardingLockdown(p, 'Fwd', { owner: { ...owner, email: 'a@contoso.example' }, controls: { 'MAIL.FWD.3': { mdoe: 'alert' } } } as never),
        undefined,
        [
          'test/Posture/Fwd: owner.email: unknown property (known: name, team, contact)',
          'test/Posture/Fwd: controls["MAIL.FWD.3"].mdoe: unknown property; did you mean mode?',
        ],
      ],
      [
        'SenderAuthentication and its domains entries',
        (p) =>
          new SenderAuthentication(p, 'Dmarc', {
            owner,
            reportAddress: ['mailto:d@contoso.example'],
            reportAddresses: ['mailto:d@contoso.example'],
            domains: [{ name: 'contoso.example' }, { name: 'legacy.example', polcy: 'none', alignment: { dkm: 'strict' } }],
          } as never),
        undefined,
        [
          'test/Posture/Dmarc: domains[1].alignment.dkm: unknown property; did you mean dkim?',
          'test/Posture/Dmarc: domains[1].polcy: unknown property; did you mean policy?',
          'test/Posture/Dmarc: reportAddress: unknown property of SenderAuthentication; did you mean reportAddresses?',
        ],
      ],
      [
        'RiskBasedAccess and its nested objects',
        (p) => new RiskBasedAccess(p, 'Risk', { owner, userRisk: { respones: 'block' }, privileged: { role: [] }, exclusions: { user: [] } } as never),
        undefined,
        [
          'test/Posture/Risk: userRisk.respones: unknown property; did you mean response?',
          'test/Posture/Risk: privileged.role: unknown property; did you mean roles?',
          'test/Posture/Risk: exclusions.user: unknown property; did you mean users?',
        ],
      ],
      [
        'a ConditionalAccessPolicy (addPolicy) and its users, grant and sign-in frequency',
        (p) =>
          new RiskBasedAccess(p, 'Risk', { owner }).addPolicy('Custom', {
            key: 'custom',
            control: 'ID.CA.2',
            displayName: 'Custom',
            users: { include: ['All'], exclude: bg, exlude: ['x@contoso.example'] },
            signInRiskLevels: ['high'],
            grant: { controls: ['mfa'], operater: 'OR' },
            signInFrequency: { value: 4, type: 'hours', unit: 'h' },
            stagged: true,
          } as never),
        undefined,
        [
          'test/Posture/Risk/Custom: users.exlude: unknown property; did you mean exclude?',
          'test/Posture/Risk/Custom: grant.operater: unknown property; did you mean operator?',
          'test/Posture/Risk/Custom: signInFrequency.unit: unknown property (known: value, type)',
          'test/Posture/Risk/Custom: stagged: unknown property of ConditionalAccessPolicy; did you mean staged?',
        ],
      ],
      [
        'ConsentGovernance, its workflow and reviewers',
        (p) => new ConsentGovernance(p, 'Consent', { owner, adminConsentWorkflow: { reviewers: [{ user: 'r@contoso.example', name: 'R' }], notify: true } } as never),
        undefined,
        [
          'test/Posture/Consent: adminConsentWorkflow.reviewers[0].name: unknown property (known: user, group)',
          'test/Posture/Consent: adminConsentWorkflow.notify: unknown property (known: reviewers, notifyReviewers, remindersEnabled, requestDurationInDays)',
        ],
      ],
    ])('%s', (_name, declare, props, expected) => {
      expect(lines(declare, props)).toEqual(expected);
    });

    it('a property name with control characters is shown escaped', () => {
      expect(lines((p) => new ForwardingLockdown(p, 'Fwd', { owner, 'x\u001b[2J': 1 } as never))).toEqual([
        'test/Posture/Fwd: ["x\\u001b[2J"]: unknown property of ForwardingLockdown (known: owner, mode, controls, allowedRemoteDomains)',
      ]);
    });

    it('a value of the wrong type is named, and the construct does not fail on it', () => {
      expect(lines((p) => new ForwardingLockdown(p, 'Fwd', { owner, allowedRemoteDomains: 'partner.example' } as never))).toEqual([
        'test/Posture/Fwd: allowedRemoteDomains: must be an array, not a string ("partner.example")',
      ]);
      expect(
        lines((p) =>
          new RiskBasedAccess(p, 'Risk', { owner }).addPolicy('Custom', {
            key: 'custom', control: 'ID.CA.2', displayName: 'Custom', users: { include: 'All', exclude: bg }, signInRiskLevels: ['high'], grant: { controls: ['mfa'] },
          } as never),
        ),
      ).toEqual(['test/Posture/Risk/Custom: users.include: must be an array, not a string ("All")']);
      expect(lines((p) => new RiskBasedAccess(p, 'Risk', { owner, userRisk: { levels: 'high' } } as never))).toEqual([
        'test/Posture/Risk: userRisk.levels: must be an array, not a string ("high")',
      ]);
      expect(lines(() => {}, postureProps({ exceptions: { control: 'MAIL.FWD.3' } as never, breakGlass: { users: [7] as never } }))).toEqual([
        'test/Posture: breakGlass.users[0]: must be a string, not a number (7)',
        'test/Posture: exceptions: must be an array, not an object',
      ]);
    });

    it('every property the constructs declare is accepted', () => {
      const full = postureProps({
        organization: { name: 'Contoso', primaryDomain: 'contoso.example', tenantId: '00000000-0000-0000-0000-000000000001' },
        breakGlass: { users: bg, groups: ['Emergency Access'] },
        ownership: { owner, mode: 'alert' },
        exceptions: [{ ...exception(), compensatingControl: 'Monitored daily', ticket: 'RISK-1' }],
        exceptionPolicy: { maxDays: 90 },
        defaultMode: 'alert',
      });
      const declare = (p: EmailSecurityPosture) => {
        new SenderAuthentication(p, 'Dmarc', {
          owner,
          mode: 'report',
          controls: { 'MAIL.DKIM.1': { owner, mode: 'remediate' } },
          reportAddresses: ['mailto:d@contoso.example'],
          domains: [
            { name: 'contoso.example', sending: true, policy: 'reject', subdomainPolicy: 'reject', pct: 100, rua: ['mailto:r@contoso.example'], ruf: ['mailto:f@contoso.example'], alignment: { dkim: 'strict', spf: 'relaxed' }, spfAll: '-all', spfRecord: 'v=spf1 include:spf.protection.outlook.com -all', dkim: true },
            { name: 'legacy.example', policy: 'none' },
          ],
        });
        new InboundEnforcement(p, 'Inbound', { owner, dmarcRejectAction: 'Quarantine', dmarcQuarantineAction: 'MoveToJmf' });
        new ForwardingLockdown(p, 'Fwd', { owner, allowedRemoteDomains: ['partner.example'] });
        const risk = new RiskBasedAccess(p, 'Risk', {
          owner,
          namePrefix: 'CA',
          state: 'enabledForReportingButNotEnforced',
          staged: ['user-risk', 'sign-in-risk', 'privileged-user-risk', 'legacy-authentication'],
          userRisk: { levels: ['medium', 'high'], response: 'block' },
          signInRisk: { levels: ['high'], response: 'block' },
          privileged: { roles: ['62e90394-69f5-4237-9190-012177145e10'], userRiskLevels: ['low', 'medium', 'high'] },
          exclusions: { users: ['sync@contoso.example'], groups: ['Sync Accounts'] },
        });
        risk.addPolicy('Custom', {
          key: 'custom',
          control: 'ID.CA.2',
          displayName: 'Custom',
          state: 'enabled',
          staged: true,
          users: { include: ['All'], exclude: bg, includeGroups: ['Staff'], excludeGroups: ['Emergency Access'], includeRoles: [], excludeRoles: [] },
          applications: { include: ['All'], exclude: [] },
          clientAppTypes: ['browser', 'mobileAppsAndDesktopClients'],
          userRiskLevels: ['low'],
          signInRiskLevels: ['low'],
          grant: { operator: 'AND', controls: ['mfa', 'compliantDevice'] },
          signInFrequency: { value: 4, type: 'hours' },
        });
        new ConsentGovernance(p, 'Consent', {
          owner,
          userConsent: 'lowRiskVerifiedPublishers',
          adminConsentWorkflow: { reviewers: [{ user: 'r@contoso.example' }, { group: 'App Reviewers' }], notifyReviewers: false, remindersEnabled: false, requestDurationInDays: 14 },
          additionalHighRiskScopes: ['Files.ReadWrite.All'],
        });
      };
      expect(errorLines(build(declare, full))).toEqual([]);
    });
  });

  describe('enum values: the construct path, the property and the allowed values', () => {
    const bg = ['bg1@contoso.example', 'bg2@contoso.example'];
    const policy = (over: object) => (p: EmailSecurityPosture) =>
      new RiskBasedAccess(p, 'Risk', { owner }).addPolicy('Custom', {
        key: 'custom', control: 'ID.CA.2', displayName: 'Custom', users: { include: ['All'], exclude: bg }, signInRiskLevels: ['high'], grant: { controls: ['mfa'] }, ...over,
      } as never);

    it.each<[string, (p: EmailSecurityPosture) => unknown, object | undefined, string]>([
      ['defaultMode', () => {}, postureProps({ defaultMode: 'enforce' as never }), 'test/Posture: defaultMode: "enforce" is not allowed: use report, alert or remediate'],
      ['ownership.mode', () => {}, postureProps({ ownership: { owner, mode: 'remediate' as never } }), 'test/Posture: ownership.mode: "remediate" is not allowed: use report or alert'],
      ['an area mode', (p) => new ForwardingLockdown(p, 'Fwd', { owner, mode: 'remediat' as never }), undefined, 'test/Posture/Fwd: mode: "remediat" is not allowed: use report, alert or remediate'],
      ['a per-control mode', (p) => new ForwardingLockdown(p, 'Fwd', { owner, controls: { 'MAIL.FWD.3': { mode: 'fix' as never } } }), undefined, 'test/Posture/Fwd: controls["MAIL.FWD.3"].mode: "fix" is not allowed: use report, alert or remediate'],
      ['a DMARC policy', dmarc([{ name: 'contoso.example', policy: 'rejectt' }]), undefined, 'test/Posture/Dmarc: domains[0].policy: "rejectt" is not allowed: use none, quarantine or reject'],
      ['a subdomain policy', dmarc([{ name: 'contoso.example', subdomainPolicy: 'nonee' }]), undefined, 'test/Posture/Dmarc: domains[0].subdomainPolicy: "nonee" is not allowed: use none, quarantine or reject'],
      ['an alignment', dmarc([{ name: 'contoso.example', alignment: { spf: 'strong' } }]), undefined, 'test/Posture/Dmarc: domains[0].alignment.spf: "strong" is not allowed: use relaxed or strict'],
      ['an SPF ending', dmarc([{ name: 'contoso.example', spfAll: '?all' }]), undefined, 'test/Posture/Dmarc: domains[0].spfAll: "?all" is not allowed: use -all or ~all'],
      ['dmarcRejectAction', (p) => new InboundEnforcement(p, 'Inbound', { owner, dmarcRejectAction: 'Delete' as never }), undefined, 'test/Posture/Inbound: dmarcRejectAction: "Delete" is not allowed: use Reject or Quarantine'],
      ['dmarcQuarantineAction', (p) => new InboundEnforcement(p, 'Inbound', { owner, dmarcQuarantineAction: 'Junk' as never }), undefined, 'test/Posture/Inbound: dmarcQuarantineAction: "Junk" is not allowed: use Quarantine or MoveToJmf'],
      ['userRisk.response', (p) => new RiskBasedAccess(p, 'Risk', { owner, userRisk: { response: 'blockk' as never } }), undefined, 'test/Posture/Risk: userRisk.response: "blockk" is not allowed: use block or mfaAndPasswordChange'],
      ['signInRisk.response', (p) => new RiskBasedAccess(p, 'Risk', { owner, signInRisk: { response: 'mfaAndPasswordChange' as never } }), undefined, 'test/Posture/Risk: signInRisk.response: "mfaAndPasswordChange" is not allowed: use mfa or block'],
      ['a risk level', (p) => new RiskBasedAccess(p, 'Risk', { owner, signInRisk: { levels: ['severe' as never] } }), undefined, 'test/Posture/Risk: signInRisk.levels[0]: "severe" is not allowed: use low, medium or high'],
      ['a privileged risk level', (p) => new RiskBasedAccess(p, 'Risk', { owner, privileged: { userRiskLevels: ['none' as never] } }), undefined, 'test/Posture/Risk: privileged.userRiskLevels[0]: "none" is not allowed: use low, medium or high'],
      ['the area state', (p) => new RiskBasedAccess(p, 'Risk', { owner, state: 'disabled' as never }), undefined, 'test/Posture/Risk: state: "disabled" is not allowed: use enabled or enabledForReportingButNotEnforced'],
      ['a staged key', (p) => new RiskBasedAccess(p, 'Risk', { owner, staged: ['user_risk' as never] }), undefined, 'test/Posture/Risk: staged[0]: "user_risk" is not allowed: use user-risk, sign-in-risk, privileged-user-risk or legacy-authentication'],
      ['a policy state', policy({ state: 'on' }), undefined, 'test/Posture/Risk/Custom: state: "on" is not allowed: use enabled, disabled or enabledForReportingButNotEnforced'],
      ['a client app type', policy({ clientAppTypes: ['imap'] }), undefined, 'test/Posture/Risk/Custom: clientAppTypes[0]: "imap" is not allowed: use all, browser, mobileAppsAndDesktopClients, exchangeActiveSync or other'],
      ['a policy risk level', policy({ userRiskLevels: ['High'] }), undefined, 'test/Posture/Risk/Custom: userRiskLevels[0]: "High" is not allowed: use low, medium or high'],
      ['a grant operator', policy({ grant: { operator: 'XOR', controls: ['mfa'] } }), undefined, 'test/Posture/Risk/Custom: grant.operator: "XOR" is not allowed: use AND or OR'],
      ['a grant control', policy({ grant: { controls: ['mfaa'] } }), undefined, 'test/Posture/Risk/Custom: grant.controls[0]: "mfaa" is not allowed: use block, mfa, passwordChange, compliantDevice, domainJoinedDevice, approvedApplication or compliantApplication'],
      ['a sign-in frequency', policy({ signInFrequency: 'sometimes' }), undefined, 'test/Posture/Risk/Custom: signInFrequency: "sometimes" is not allowed: use everyTime or { value, type }'],
      ['a sign-in frequency unit', policy({ signInFrequency: { value: 1, type: 'weeks' } }), undefined, 'test/Posture/Risk/Custom: signInFrequency.type: "weeks" is not allowed: use hours or days'],
      ['userConsent', (p) => new ConsentGovernance(p, 'Consent', { owner, userConsent: 'all' as never, adminConsentWorkflow: { reviewers: [{ user: 'r@contoso.example' }] } }), undefined, 'test/Posture/Consent: userConsent: "all" is not allowed: use disabled or lowRiskVerifiedPublishers'],
    ])('%s', (_name, declare, props, expected) => {
      expect(errorLines(build((p) => void declare(p), (props ?? postureProps()) as never))).toEqual([expected]);
    });

    it('an invalid mode fails validation with its construct path, not with an internal error at synth', () => {
      const outdir = join(mkdtempSync(join(tmpdir(), 'posture-')), 'out');
      const result = synthesize((app) => {
        const p = new EmailSecurityPosture(new TerraformStack(app, 'modes'), 'Posture', postureProps());
        new ForwardingLockdown(p, 'Fwd', { owner, controls: { 'MAIL.FWD.3': { mode: 'remediat' as never } } });
      }, { outdir, context: { [TODAY_CONTEXT_KEY]: TODAY } });
      expect(result).toEqual({
        ok: false,
        errors: [{ constructPath: 'modes/Posture/Fwd', property: 'controls["MAIL.FWD.3"].mode', message: '"remediat" is not allowed: use report, alert or remediate' }],
      });
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
