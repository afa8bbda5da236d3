import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../reconciler/manifest/parse.js';
import { ACTIONS, CONFIDENCES, TIERS, responseSchema } from '../../reconciler/manifest/response.js';
import { buildApp } from '../../stacks/app.js';
import {
  DEFAULT_PRIVILEGED_ROLES,
  type EmailSecurityPosture,
  IncidentResponse,
  TODAY_CONTEXT_KEY,
  defaultMatrix,
  synthesize,
  type IncidentResponseProps,
} from '../../stacks/index.js';
import { TODAY, build, declareAll, errorLines, owner, postureProps } from './helpers.js';

const PATH = 'test/Posture/Response';
const signals: IncidentResponseProps['signals'] = [{ source: 'riskyUser', riskLevels: ['high'], confidence: 'high' }];
const respond = (props: Partial<IncidentResponseProps> = {}) => (p: EmailSecurityPosture) =>
  new IncidentResponse(p, 'Response', { owner, signals, ...props } as IncidentResponseProps);
const lines = (props: Partial<IncidentResponseProps> | Record<string, unknown>, posture = postureProps()) =>
  errorLines(build((p) => { declareAll(p); respond(props as Partial<IncidentResponseProps>)(p); }, posture));

describe('IncidentResponse: defaults', () => {
  const built = build((p) => { declareAll(p); respond()(p); });
  const policy = built.posture.toManifest().desired.response!;

  it('validates, and its section passes the manifest schema the respond command parses', () => {
    expect(errorLines(built)).toEqual([]);
    expect(responseSchema.safeParse(policy).success).toBe(true);
  });

  it('fills windows, tiers, circuit breaker and action owners', () => {
    expect(policy).toMatchObject({
      owner,
      lookbackHours: 72,
      windowHours: 24,
      signals,
      tiers: { privilegedRoles: [...DEFAULT_PRIVILEGED_ROLES], highValueGroups: [], serviceAccounts: { users: [], groups: [] } },
      circuitBreaker: { maxIdentities: 5, maxShare: 0.01 },
    });
    expect(policy).not.toHaveProperty('watchlist');
    // Every action has an owner: the incident owner unless another is named.
    expect(Object.keys(policy.actionOwners).sort()).toEqual([...ACTIONS].sort());
    for (const a of ACTIONS) expect(policy.actionOwners[a]).toEqual(owner);
  });

  it('fills every tier × confidence cell, and no action sits in two lists of one cell', () => {
    expect(Object.keys(policy.matrix).sort()).toEqual([...TIERS].sort());
    for (const tier of TIERS) {
      expect(Object.keys(policy.matrix[tier]).sort()).toEqual([...CONFIDENCES].sort());
      for (const c of CONFIDENCES) {
        const { automatic, approval, never } = policy.matrix[tier][c];
        const all = [...automatic, ...approval, ...never];
        expect(new Set(all).size, `${tier}/${c}`).toBe(all.length);
      }
    }
  });

  it('is conservative: service accounts and shared mailboxes are never disabled automatically, low confidence only notifies; a chain\u2019s message and invites go at once only when sure', () => {
    for (const tier of ['serviceAccount', 'sharedMailbox'] as const) {
      for (const c of CONFIDENCES) {
        expect(policy.matrix[tier][c].automatic, `${tier}/${c}`).toEqual(c === 'high' ? ['notify', 'purgeMessage', 'removeInvites'] : ['notify']);
        expect(policy.matrix[tier][c].never, `${tier}/${c}`).toContain('watchlist');
      }
      expect(policy.matrix[tier].medium.never).toContain('disableAccount');
    }
    for (const tier of TIERS) {
      expect(policy.matrix[tier].low.automatic, tier).toEqual(['notify']);
      for (const c of ['medium', 'low'] as const) expect(policy.matrix[tier][c].approval, `${tier}/${c}`).toEqual(expect.arrayContaining(['purgeMessage', 'removeInvites']));
      for (const c of CONFIDENCES) expect(policy.matrix[tier][c].automatic, `${tier}/${c}`).not.toContain('disableAccount');
    }
    for (const tier of ['privileged', 'highValue', 'standard'] as const) {
      expect(policy.matrix[tier].high.automatic).toEqual(['revokeSessions', 'confirmCompromised', 'notify', 'purgeMessage', 'removeInvites']);
      expect(policy.matrix[tier].high.approval).toContain('disableAccount');
    }
    // Without a watchlist no cell takes the watchlist action.
    for (const tier of TIERS) for (const c of CONFIDENCES) {
      expect([...policy.matrix[tier][c].automatic, ...policy.matrix[tier][c].approval]).not.toContain('watchlist');
    }
  });

  it('with a watchlist, standard and high-value users at low confidence are watchlisted and notified', () => {
    const withWatchlist = build((p) => respond({ watchlist: { group: 'Watchlist' } })(p));
    expect(errorLines(withWatchlist)).toEqual([]);
    const r = withWatchlist.posture.toManifest().desired.response!;
    expect(r.watchlist).toEqual({ group: 'Watchlist', days: 14 });
    expect(r.matrix.standard.low.automatic).toEqual(['watchlist', 'notify']);
    expect(r.matrix.highValue.low.automatic).toEqual(['watchlist', 'notify']);
    expect(r.matrix.serviceAccount.low.automatic).toEqual(['notify']);
    expect(r.matrix).toEqual(defaultMatrix(true));
  });

  it('a declared cell replaces its default whole; the other cells keep theirs', () => {
    const b = build((p) => respond({ matrix: { standard: { high: { automatic: ['revokeSessions', 'removeMailRules'], never: ['disableAccount'] } } } })(p));
    expect(errorLines(b)).toEqual([]);
    const r = b.posture.toManifest().desired.response!;
    expect(r.matrix.standard.high).toEqual({ automatic: ['revokeSessions', 'removeMailRules'], approval: [], never: ['disableAccount'] });
    expect(r.matrix.standard.medium).toEqual(defaultMatrix(false).standard.medium);
    expect(r.matrix.privileged).toEqual(defaultMatrix(false).privileged);
  });

  it('normalises what it writes: UPNs lower-cased, values trimmed, finding controls unversioned', () => {
    const b = build((p) =>
      respond({
        signals: [
          { source: 'finding', controls: ['MAIL.FWD.4v1', 'APP.CONSENT.4'], confidence: 'high' },
          { source: 'external', sourceNames: [' mail-gateway '], types: ['phish'], minReportedConfidence: 'medium', confidence: 'medium' },
        ],
        tiers: { serviceAccounts: { users: ['Svc-Scanner@Contoso.example'], groups: ['Service Accounts'] }, highValueGroups: ['Finance'] },
        lookbackHours: 168,
        windowHours: 12,
        circuitBreaker: { maxIdentities: 20 },
      })(p),
    );
    expect(errorLines(b)).toEqual([]);
    const r = b.posture.toManifest().desired.response!;
    expect(r.signals).toEqual([
      { source: 'finding', controls: ['MAIL.FWD.4', 'APP.CONSENT.4'], confidence: 'high' },
      { source: 'external', sourceNames: ['mail-gateway'], types: ['phish'], minReportedConfidence: 'medium', confidence: 'medium' },
    ]);
    expect(r.tiers.serviceAccounts).toEqual({ users: ['svc-scanner@contoso.example'], groups: ['Service Accounts'] });
    expect(r).toMatchObject({ lookbackHours: 168, windowHours: 12, circuitBreaker: { maxIdentities: 20, maxShare: 0.01, windowHours: 24 } });
  });

  it('a posture without an IncidentResponse has no desired.response', () => {
    const desired = build(declareAll).posture.toManifest().desired;
    expect(Object.keys(desired).sort()).toEqual(['authentication', 'conditionalAccess', 'consent', 'exposure', 'forwarding', 'inbound', 'inboundPaths', 'mailApps', 'senderAuthentication', 'threatProtection']);
    expect(desired).not.toHaveProperty('response');
  });
});

describe('IncidentResponse: validation at synth names the construct path and the property', () => {
  it('at least one signal rule', () => {
    const message = `${PATH}: signals: declare at least one authoritative signal rule: without one, respond acts on nothing`;
    expect(lines({ signals: [] })).toEqual([message]);
    expect(lines({ signals: undefined })).toEqual([message]);
  });

  it('an owner, and well-formed action owners', () => {
    expect(lines({ owner: undefined })).toEqual([expect.stringMatching(new RegExp(`^${PATH}: owner: is required`))]);
    expect(lines({ actionOwners: { disableAccount: { name: 'Identity', team: 'Identity', contact: 'not-an-address' } } })).toEqual([
      expect.stringMatching(new RegExp(`^${PATH}: actionOwners\\.disableAccount\\.contact: "not-an-address" must be a user principal name`)),
    ]);
    expect(lines({ actionOwners: { disable: owner } })).toEqual([expect.stringMatching(new RegExp(`^${PATH}: actionOwners\\.disable: unknown property`))]);
  });

  it('no unknown action, tier or confidence in the matrix', () => {
    expect(lines({ matrix: { standard: { high: { automatic: ['disable'] } } } })).toEqual([
      expect.stringMatching(new RegExp(`^${PATH}: matrix\\.standard\\.high\\.automatic\\[0\\]: "disable" is not allowed: use revokeSessions, .*notify, purgeMessage or removeInvites$`)),
    ]);
    expect(lines({ matrix: { admins: { high: {} } } })).toEqual([expect.stringMatching(new RegExp(`^${PATH}: matrix\\.admins: unknown property`))]);
    expect(lines({ matrix: { standard: { critical: {} } } })).toEqual([expect.stringMatching(new RegExp(`^${PATH}: matrix\\.standard\\.critical: unknown property`))]);
  });

  it('an action in at most one of automatic, approval and never', () => {
    expect(lines({ matrix: { privileged: { medium: { automatic: ['revokeSessions'], approval: ['disableAccount'], never: ['disableAccount', 'revokeSessions'] } } } })).toEqual([
      `${PATH}: matrix.privileged.medium.never[0]: disableAccount is already in approval: an action goes in at most one of automatic, approval and never`,
      `${PATH}: matrix.privileged.medium.never[1]: revokeSessions is already in automatic: an action goes in at most one of automatic, approval and never`,
    ]);
    expect(lines({ matrix: { standard: { low: { automatic: ['notify', 'notify'] } } } })).toEqual([`${PATH}: matrix.standard.low.automatic[1]: notify is listed twice`]);
  });

  it('the watchlist action only with a declared watchlist', () => {
    const matrix = { standard: { low: { automatic: ['watchlist', 'notify'] }, medium: { approval: ['watchlist'], never: [] } }, sharedMailbox: { low: { never: ['watchlist'] } } };
    expect(lines({ matrix })).toEqual([
      `${PATH}: matrix.standard.medium.approval[0]: the watchlist action needs a watchlist: declare watchlist { group, days }, or remove the action`,
      `${PATH}: matrix.standard.low.automatic[0]: the watchlist action needs a watchlist: declare watchlist { group, days }, or remove the action`,
    ]);
    expect(lines({ matrix, watchlist: { group: 'Watchlist', days: 7 } })).toEqual([]);
  });

  it('a break-glass account is no service account, and a break-glass group no tier or watchlist group', () => {
    const posture = postureProps({ breakGlass: { users: ['bg1@contoso.example', 'bg2@contoso.example'], groups: ['Emergency Access'] } });
    expect(
      lines(
        {
          tiers: { serviceAccounts: { users: ['svc@contoso.example', 'BG2@Contoso.example'], groups: ['emergency access'] }, highValueGroups: ['Finance', 'Emergency Access'] },
          watchlist: { group: 'Emergency Access' },
        },
        posture,
      ),
    ).toEqual([
      `${PATH}: tiers.highValueGroups[1]: "Emergency Access" is a break-glass group: break-glass accounts are outside every tier, respond never acts on them`,
      `${PATH}: tiers.serviceAccounts.users[1]: BG2@Contoso.example is a break-glass account: break-glass accounts are outside every tier, respond never acts on them`,
      `${PATH}: tiers.serviceAccounts.groups[0]: "emergency access" is a break-glass group: break-glass accounts are outside every tier, respond never acts on them`,
      `${PATH}: watchlist.group: "Emergency Access" is a break-glass group: respond would add suspected accounts to it`,
      `${PATH}: watchlist.group: "Emergency Access" is also a tier group: adding a user to the watchlist would change the user's tier`,
    ]);
  });

  it('tier members are well formed', () => {
    expect(lines({ tiers: { privilegedRoles: [], serviceAccounts: { users: ['scanner'] }, highValueGroups: [' '] } })).toEqual([
      `${PATH}: tiers.privilegedRoles: name at least one role, or leave privilegedRoles out for DEFAULT_PRIVILEGED_ROLES`,
      `${PATH}: tiers.highValueGroups[0]: is required`,
      expect.stringMatching(new RegExp(`^${PATH}: tiers\\.serviceAccounts\\.users\\[0\\]: "scanner" must be a user principal name`)),
    ]);
    expect(lines({ tiers: { privilegedRoles: ['Global Administrator'] } })).toEqual([
      expect.stringMatching(new RegExp(`^${PATH}: tiers\\.privilegedRoles\\[0\\]: "Global Administrator" must be a GUID`)),
    ]);
  });

  it('windows in range', () => {
    expect(lines({ lookbackHours: 0, windowHours: 721 })).toEqual([
      `${PATH}: lookbackHours: must be a whole number of hours from 1 to 720 (30 days), not 0`,
      `${PATH}: windowHours: must be a whole number of hours from 1 to 720 (30 days), not 721`,
    ]);
    expect(lines({ windowHours: 1.5 })).toEqual([`${PATH}: windowHours: must be a whole number of hours from 1 to 720 (30 days), not 1.5`]);
    expect(lines({ lookbackHours: 720, windowHours: 1 })).toEqual([]);
  });

  it('a sane circuit breaker and watchlist period', () => {
    expect(lines({ circuitBreaker: { maxIdentities: 0, maxShare: 0 } })).toEqual([
      `${PATH}: circuitBreaker.maxIdentities: must be a whole number of at least 1, not 0`,
      `${PATH}: circuitBreaker.maxShare: must be a share above 0 and at most 0.5 (e.g. 0.01 for 1% of the directory), not 0`,
    ]);
    expect(lines({ circuitBreaker: { maxIdentities: 3, windowHours: 0 } })).toEqual([`${PATH}: circuitBreaker.windowHours: must be a whole number of hours from 1 to 168, not 0`]);
    expect(lines({ circuitBreaker: { maxIdentities: 3, windowHours: 200 } })).toEqual([`${PATH}: circuitBreaker.windowHours: must be a whole number of hours from 1 to 168, not 200`]);
    expect(lines({ circuitBreaker: { maxIdentities: 2.5, maxShare: 0.9 } })).toEqual([
      `${PATH}: circuitBreaker.maxIdentities: must be a whole number of at least 1, not 2.5`,
      `${PATH}: circuitBreaker.maxShare: must be a share above 0 and at most 0.5 (e.g. 0.01 for 1% of the directory), not 0.9`,
    ]);
    expect(lines({ circuitBreaker: { maxShare: '5%' } } as never)).toEqual([`${PATH}: circuitBreaker.maxShare: must be a number, not a string ("5%")`]);
    expect(lines({ watchlist: { group: 'Watchlist', days: 91 } })).toEqual([`${PATH}: watchlist.days: must be a whole number of days from 1 to 90, not 91`]);
    expect(lines({ watchlist: { group: '' } })).toEqual([`${PATH}: watchlist.group: is required`]);
  });

  it('signal rules: a known source, the fields of that source, the required ones, controls from the catalogue', () => {
    expect(lines({ signals: [{ source: 'sentinel', confidence: 'high' }] })).toEqual([
      `${PATH}: signals[0].source: "sentinel" is not allowed: use defenderAlert, riskDetection, riskyUser, finding or external`,
    ]);
    expect(lines({ signals: [{ source: 'riskDetection', severities: ['high'], confidence: 'high' }] })).toEqual([
      `${PATH}: signals[0].severities: does not apply to a riskDetection rule (it belongs to defenderAlert); a riskDetection rule matches on riskEventTypes, riskLevels`,
    ]);
    expect(lines({ signals: [{ source: 'riskyUser', confidence: 'high' }, { source: 'external', confidence: 'low' }, { source: 'finding', confidence: 'low' }] })).toEqual([
      `${PATH}: signals[0].riskLevels: is required for a riskyUser rule`,
      `${PATH}: signals[1].sourceNames: is required for an external rule`,
      `${PATH}: signals[2].controls: is required for a finding rule`,
    ]);
    expect(lines({ signals: [{ source: 'finding', controls: ['MAIL.FWD.9', 'MAIL.FWD.4v7', 'forwarding'], confidence: 'high' }] })).toEqual([
      `${PATH}: signals[0].controls[0]: unknown control "MAIL.FWD.9"; see docs/controls.md for the catalogue`,
      `${PATH}: signals[0].controls[1]: control MAIL.FWD.4 is at version 1, not 7 (use MAIL.FWD.4v1)`,
      `${PATH}: signals[0].controls[2]: "forwarding" is not a control id (expected e.g. MAIL.DMARC.2 or MAIL.DMARC.2v1)`,
    ]);
    expect(lines({ signals: [{ source: 'defenderAlert', serviceSources: [], evidenceTypes: [''], confidence: 'high' }] })).toEqual([
      `${PATH}: signals[0].serviceSources: name at least one value, or leave it out to match any`,
      `${PATH}: signals[0].evidenceTypes[0]: must not be empty`,
    ]);
    expect(lines({ signals: [{ source: 'riskyUser', riskLevels: ['severe'], confidence: 'certain' }] })).toEqual([
      `${PATH}: signals[0].riskLevels[0]: "severe" is not allowed: use low, medium or high`,
      `${PATH}: signals[0].confidence: "certain" is not allowed: use high, medium or low`,
    ]);
    expect(lines({ signals: [{ source: 'riskyUser', riskLevels: ['high'] }] })).toEqual([`${PATH}: signals[0].confidence: is required`]);
  });

  it('a rule after a catch-all of its source is never reached', () => {
    expect(
      lines({
        signals: [
          { source: 'riskDetection', confidence: 'low' },
          { source: 'defenderAlert', severities: ['high'], confidence: 'high' },
          { source: 'riskDetection', riskEventTypes: ['anomalousToken'], confidence: 'medium' },
        ],
      }),
    ).toEqual([
      `${PATH}: signals[2]: is never reached: signals[0] already matches every riskDetection signal (rules apply in order; put the catch-all last)`,
    ]);
  });

  it('one IncidentResponse per posture', () => {
    const b = build((p) => {
      respond()(p);
      new IncidentResponse(p, 'Again', { owner, signals });
    });
    expect(errorLines(b)).toEqual(['test/Posture/Again: (posture): a posture holds one IncidentResponse; test/Posture/Response is already declared']);
  });
});

describe('IncidentResponse in the Tailspin example', () => {
  const outdir = join(mkdtempSync(join(tmpdir(), 'posture-response-')), 'cdktf.out');
  const result = synthesize(buildApp, { outdir, context: { [TODAY_CONTEXT_KEY]: TODAY } });
  const read = (stack: string) => {
    const parsed = parseManifest(readFileSync(join(outdir, 'stacks', stack, 'posture.json'), 'utf8'), `${stack}/posture.json`);
    if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
    return parsed.manifest;
  };

  it('synthesizes, and the manifest carries the declared response policy', () => {
    expect(result.ok).toBe(true);
    const response = read('tailspin').desired.response!;
    expect(responseSchema.safeParse(response).success).toBe(true);
    const secOps = { name: 'Security Operations Manager', team: 'SecOps', contact: 'secops@tailspintoys.example' };
    expect(response.owner).toEqual(secOps);
    expect(response.actionOwners.revokeSessions).toEqual(secOps);
    expect(response.actionOwners.removeMailRules!.team).toBe('Messaging');
    expect(response.actionOwners.revokeConsents!.team).toBe('Security Architecture');
    expect(response.signals).toEqual([
      { source: 'defenderAlert', evidenceTypes: ['mailboxConfigurationEvidence'], confidence: 'high' },
      { source: 'defenderAlert', serviceSources: ['microsoftDefenderForOffice365'], severities: ['high'], confidence: 'high' },
      { source: 'defenderAlert', serviceSources: ['microsoftDefenderForOffice365'], severities: ['medium'], confidence: 'medium' },
      { source: 'defenderAlert', serviceSources: ['microsoftDefenderForOffice365'], severities: ['low'], confidence: 'low' },
      { source: 'riskDetection', riskEventTypes: ['suspiciousInboxForwarding', 'mcasSuspiciousInboxManipulationRules'], confidence: 'high' },
      { source: 'riskDetection', riskEventTypes: ['anomalousToken', 'maliciousIPAddress'], confidence: 'medium' },
      { source: 'riskDetection', confidence: 'low' },
      { source: 'riskyUser', riskLevels: ['high'], confidence: 'high' },
      { source: 'finding', controls: ['MAIL.FWD.4'], confidence: 'high' },
      { source: 'finding', controls: ['APP.CONSENT.4'], confidence: 'medium' },
      { source: 'external', sourceNames: ['mail-gateway'], confidence: 'medium' },
    ]);
    expect(response.tiers).toEqual({
      privilegedRoles: [...DEFAULT_PRIVILEGED_ROLES],
      highValueGroups: ['Finance'],
      serviceAccounts: { users: ['svc-scanner@tailspintoys.example'], groups: [] },
    });
    expect(response.watchlist).toEqual({ group: 'Watchlist - sign-in every time', days: 14 });
    // The defaults, but for the two cells the example declares.
    const defaults = defaultMatrix(true);
    expect(response.matrix).toEqual({
      ...defaults,
      highValue: {
        ...defaults.highValue,
        high: { automatic: ['revokeSessions', 'confirmCompromised', 'removeMailRules', 'revokeConsents', 'notify', 'purgeMessage', 'removeInvites'], approval: ['requirePasswordChange', 'requireMfaReregistration', 'removeDelegates', 'disableAccount'], never: [] },
      },
      sharedMailbox: {
        ...defaults.sharedMailbox,
        high: { automatic: ['removeMailRules', 'notify', 'purgeMessage', 'removeInvites'], approval: ['revokeSessions', 'removeDelegates', 'revokeConsents', 'disableAccount'], never: ['watchlist', 'requireMfaReregistration'] },
      },
    });
    expect(response.circuitBreaker).toEqual({ maxIdentities: 10, maxShare: 0.5, windowHours: 24 });
  });

  it('the minimal example declares none', () => {
    expect(read('minimal').desired).not.toHaveProperty('response');
  });
});
