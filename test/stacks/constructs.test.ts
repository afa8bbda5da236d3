import { Testing } from 'cdktf';
import { describe, expect, it } from 'vitest';
import { CATALOGUE, versionedId } from '../../policies/catalogue.js';
import { manifestSchema } from '../../reconciler/manifest/schema.js';
import { ConditionalAccessPolicy, DEFAULT_PRIVILEGED_ROLES, RiskBasedAccess, SenderAuthentication } from '../../stacks/index.js';
import { build, declareAll, errors, owner } from './helpers.js';

const CA = 'azuread_conditional_access_policy';

describe('posture constructs', () => {
  it('a fully declared posture validates with no errors', () => {
    expect(errors(build(declareAll))).toEqual([]);
  });

  it('emits one azuread conditional access policy per risk control, each excluding the break-glass accounts', () => {
    const { stack } = build(declareAll);
    const synth = Testing.synth(stack);
    const tf = JSON.parse(synth) as { resource: Record<string, Record<string, Record<string, unknown>>>; data: Record<string, Record<string, Record<string, unknown>>> };
    const policies = Object.values(tf.resource[CA]!);
    expect(policies).toHaveLength(4);

    const breakGlassRefs = Object.entries(tf.data['azuread_user']!).map(([name]) => `\${data.azuread_user.${name}.object_id}`);
    expect(Object.values(tf.data['azuread_user']!).map((u) => u['user_principal_name']).sort()).toEqual(['bg1@contoso.example', 'bg2@contoso.example']);
    for (const p of policies as Array<{ conditions: { users: { excluded_users: string[] } } }>) {
      expect(p.conditions.users.excluded_users.sort()).toEqual(breakGlassRefs.sort());
    }

    expect(
      Testing.toHaveResourceWithProperties(synth, CA, {
        display_name: 'EP - User risk high: MFA and password change',
        state: 'enabled',
        conditions: { user_risk_levels: ['high'], client_app_types: ['all'], applications: { included_applications: ['All'] }, users: { included_users: ['All'] } },
        grant_controls: { operator: 'AND', built_in_controls: ['mfa', 'passwordChange'] },
        session_controls: { sign_in_frequency_interval: 'everyTime', sign_in_frequency_authentication_type: 'primaryAndSecondaryAuthentication' },
      }),
    ).toBe(true);
    expect(
      Testing.toHaveResourceWithProperties(synth, CA, {
        conditions: { sign_in_risk_levels: ['medium', 'high'] },
        grant_controls: { operator: 'OR', built_in_controls: ['mfa'] },
        session_controls: { sign_in_frequency_interval: 'everyTime' },
      }),
    ).toBe(true);
    expect(
      Testing.toHaveResourceWithProperties(synth, CA, {
        conditions: { user_risk_levels: ['medium', 'high'], users: { included_roles: [...DEFAULT_PRIVILEGED_ROLES] } },
        grant_controls: { built_in_controls: ['block'] },
      }),
    ).toBe(true);
    expect(
      Testing.toHaveResourceWithProperties(synth, CA, {
        display_name: 'EP - Block legacy authentication',
        conditions: { client_app_types: ['exchangeActiveSync', 'other'] },
        grant_controls: { built_in_controls: ['block'] },
      }),
    ).toBe(true);
    expect(Testing.toHaveProvider(synth, 'azuread')).toBe(true);
  });

  it('blocks on user and sign-in risk when the posture says block', () => {
    const { stack } = build((posture) => {
      new RiskBasedAccess(posture, 'RiskBasedAccess', { owner, userRisk: { response: 'block' }, signInRisk: { levels: ['high'], response: 'block' } });
    });
    const synth = Testing.synth(stack);
    expect(Testing.toHaveResourceWithProperties(synth, CA, { conditions: { user_risk_levels: ['high'] }, grant_controls: { built_in_controls: ['block'] } })).toBe(true);
    expect(Testing.toHaveResourceWithProperties(synth, CA, { conditions: { sign_in_risk_levels: ['high'] }, grant_controls: { built_in_controls: ['block'] } })).toBe(true);
    const tf = JSON.parse(synth) as { resource: Record<string, Record<string, { session_controls?: unknown }>> };
    expect(Object.values(tf.resource[CA]!).filter((p) => p.session_controls)).toHaveLength(0);
  });

  it('holds a staged policy in report-only state in Terraform and in the manifest', () => {
    const built = build((posture) => {
      new RiskBasedAccess(posture, 'RiskBasedAccess', { owner, staged: ['privileged-user-risk'] });
    });
    const synth = Testing.synth(built.stack);
    expect(Testing.toHaveResourceWithProperties(synth, CA, { display_name: 'EP - Privileged roles, user risk medium+high: block', state: 'enabledForReportingButNotEnforced' })).toBe(true);
    const policies = built.posture.toManifest().desired.conditionalAccess!.policies;
    expect(policies.find((p) => p.key === 'privileged-user-risk')).toMatchObject({ staged: true, state: 'enabledForReportingButNotEnforced' });
    expect(policies.filter((p) => p.state === 'enabled').map((p) => p.key).sort()).toEqual(['legacy-authentication', 'sign-in-risk', 'user-risk']);
  });

  it('resolves group references through data sources by display name, never through Terraform state', () => {
    const { stack, posture } = build((p) => {
      const area = new RiskBasedAccess(p, 'RiskBasedAccess', { owner, exclusions: { groups: ['Kiosk Devices'] } });
      area.addPolicy('Custom', {
        key: 'custom',
        control: 'ID.CA.2',
        displayName: 'Custom',
        users: { include: [], includeGroups: ['Finance'], exclude: ['bg1@contoso.example', 'bg2@contoso.example'] },
        signInRiskLevels: ['low'],
        grant: { controls: ['mfa'] },
      });
    });
    const synth = Testing.synth(stack);
    expect(Testing.toHaveDataSourceWithProperties(synth, 'azuread_group', { display_name: 'Finance', security_enabled: true })).toBe(true);
    expect(Testing.toHaveDataSourceWithProperties(synth, 'azuread_group', { display_name: 'Kiosk Devices' })).toBe(true);
    const custom = posture.toManifest().desired.conditionalAccess!.policies.find((p) => p.key === 'custom')!;
    expect(custom.conditions.users.includeGroups).toEqual(['group:Finance']);
    expect(custom.conditions.users.excludeUsers).toEqual(['user:bg1@contoso.example', 'user:bg2@contoso.example']);
    expect(custom.terraformAddress).toMatch(/^azuread_conditional_access_policy\.Posture_RiskBasedAccess_Custom_policy_[0-9A-F]{8}$/);
  });

  it('writes the whole desired state, owners and modes into a manifest that satisfies its schema', () => {
    const { posture } = build((p) => {
      declareAll(p);
    });
    const m = posture.toManifest();
    expect(manifestSchema.safeParse(m).success).toBe(true);
    expect(m.breakGlass.users).toEqual(['bg1@contoso.example', 'bg2@contoso.example']);
    expect(m.controls.map((c) => c.id)).toContain('GOV.OWNER.1v1');
    expect(m.controls.map((c) => c.id).sort()).toEqual(CATALOGUE.map(versionedId).sort());
    for (const c of m.controls) expect(c.owner.contact).toMatch(/@contoso\.example$/);
    expect(m.controls.every((c) => c.mode === 'report')).toBe(true);
    expect(m.desired.senderAuthentication!.domains[0]).toEqual({
      name: 'contoso.example',
      sending: true,
      dmarc: { policy: 'reject', subdomainPolicy: 'reject', nonExistentSubdomainPolicy: 'reject', pct: 100, testing: false, rua: ['mailto:dmarc@contoso.example'], ruf: [], adkim: 'r', aspf: 'r' },
      spf: { all: '-all' },
      dkim: { enabled: true },
    });
    expect(m.desired.forwarding).toEqual({ autoForwardingMode: 'Off', allowedRemoteDomains: [] });
    expect(m.desired.inbound).toEqual({ antiPhish: { honorDmarcPolicy: true, dmarcRejectAction: 'Reject', dmarcQuarantineAction: 'Quarantine' } });
    expect(m.desired.consent).toMatchObject({
      userConsent: 'disabled',
      allowUsersToRegisterApps: false,
      adminConsentWorkflow: { reviewers: ['user:reviewer@contoso.example'], notifyReviewers: true, remindersEnabled: true, requestDurationInDays: 30 },
    });
  });

  it('lets a control override the area owner and mode', () => {
    const other = { name: 'SecOps', team: 'SecOps', contact: 'secops@contoso.example' };
    const { posture } = build((p) => {
      new SenderAuthentication(p, 'SenderAuthentication', {
        owner,
        domains: [{ name: 'contoso.example', rua: ['mailto:d@contoso.example'] }],
        controls: { 'MAIL.DKIM.1v1': { owner: other, mode: 'remediate' } },
      });
    });
    const dkim = posture.toManifest().controls.find((c) => c.id === 'MAIL.DKIM.1v1')!;
    expect(dkim).toMatchObject({ owner: other, mode: 'remediate', declaredBy: 'test/Posture/SenderAuthentication' });
    expect(posture.toManifest().controls.find((c) => c.id === 'MAIL.DMARC.1v1')).toMatchObject({ owner, mode: 'report' });
  });

  it('a parked domain publishes no DKIM and a hardfail SPF', () => {
    const { posture } = build((p) => {
      new SenderAuthentication(p, 'SenderAuthentication', { owner, reportAddresses: ['mailto:d@contoso.example'], domains: [{ name: 'parked.example', sending: false }] });
    });
    expect(posture.toManifest().desired.senderAuthentication!.domains[0]).toMatchObject({ sending: false, dkim: { enabled: false }, spf: { all: '-all' } });
  });

  it('ConditionalAccessPolicy outside a posture is a clear error', () => {
    expect(() => build((p) => new ConditionalAccessPolicy(p.node.scope!, 'Stray', {} as never))).toThrow(/not inside an EmailSecurityPosture/);
  });
});
