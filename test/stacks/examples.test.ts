import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../reconciler/manifest/parse.js';
import { buildApp } from '../../stacks/app.js';
import { TODAY_CONTEXT_KEY, synthesize } from '../../stacks/index.js';
import { TODAY } from './helpers.js';

describe('example postures', () => {
  const outdir = join(mkdtempSync(join(tmpdir(), 'posture-examples-')), 'cdktf.out');
  const result = synthesize(buildApp, { outdir, context: { [TODAY_CONTEXT_KEY]: TODAY } });
  const read = (stack: string, file: string) => readFileSync(join(outdir, 'stacks', stack, file), 'utf8');

  it('both synthesize', () => {
    expect(result).toMatchObject({ ok: true, stacks: ['tailspin', 'minimal'] });
  });

  it('tailspin: a realistic posture on reserved names, every area declared, remediation opted in per area', () => {
    const parsed = parseManifest(read('tailspin', 'posture.json'), 'tailspin/posture.json');
    if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
    const m = parsed.manifest;
    expect(Object.keys(m.desired).sort()).toEqual(['authentication', 'conditionalAccess', 'consent', 'exposure', 'forwarding', 'inbound', 'inboundPaths', 'mailApps', 'response', 'senderAuthentication', 'threatProtection']);
    expect(m.desired.senderAuthentication!.domains.map((d) => d.name)).toEqual(['tailspintoys.example', 'news.tailspintoys.example', 'tailspin-toys.example']);
    for (const d of m.desired.senderAuthentication!.domains) expect(d.name).toMatch(/\.(example|test)$/);
    expect(m.exceptions.map((e) => e.id)).toEqual(['MAIL.FWD.3:user:payroll@tailspintoys.example', 'MAIL.INBOUND.2:rule:marketing platform bypass', 'MAIL.INBOUND.2:rule:phishing simulation vendor']);
    expect(m.controls.find((c) => c.id === 'MAIL.DMARC.2v1')!.mode).toBe('report');
    expect(m.controls.find((c) => c.id === 'MAIL.DKIM.1v1')!.mode).toBe('remediate');
    expect(m.controls.find((c) => c.id === 'MAIL.FWD.4v1')!.owner.team).toBe('SecOps');
    expect(m.desired.mailApps!.apps.map((a) => [a.displayName, a.owner.contact, a.credentials])).toEqual([['Payroll Statement Mailer', 'jordan.patel@tailspintoys.example', ['certificate']]]);
    const tf = JSON.parse(read('tailspin', 'cdk.tf.json')) as { resource: Record<string, object>; terraform: { backend: { local: { path: string } } } };
    expect(Object.keys(tf.resource['azuread_conditional_access_policy']!)).toHaveLength(5);
    // The privileged roles' policy requires the built-in Phishing-resistant MFA strength, in Terraform as in the manifest.
    const strict = Object.values(tf.resource['azuread_conditional_access_policy']!).find((p) => (p as { display_name: string }).display_name === 'EP - Privileged roles: phishing-resistant MFA') as { grant_controls: object };
    expect(strict.grant_controls).toEqual({ operator: 'OR', authentication_strength_policy_id: '/policies/authenticationStrengthPolicies/00000000-0000-0000-0000-000000000004' });
    expect(m.desired.conditionalAccess!.policies.find((p) => p.key === 'privileged-phishing-resistant')!.grantControls).toEqual({ operator: 'OR', builtInControls: [], authenticationStrength: { id: '00000000-0000-0000-0000-000000000004' } });
    expect(m.desired.authentication).toEqual({ privilegedRoles: expect.arrayContaining(['b0f54661-2d74-4c50-afa3-1ec803f12efe']) as string[], disabledMethods: ['sms', 'voice'] });
    expect(m.controls.filter((c) => c.id.startsWith('ID.AUTH.')).map((c) => [c.id, c.mode])).toEqual([['ID.AUTH.1v1', 'report'], ['ID.AUTH.2v1', 'report'], ['ID.AUTH.3v1', 'remediate']]);
    expect(tf.terraform.backend.local.path).toBe('terraform.tailspin.tfstate');
    for (const p of m.desired.conditionalAccess!.policies) expect(tf.resource['azuread_conditional_access_policy']).toHaveProperty(p.terraformAddress.split('.')[1]!);
  });

  it('minimal: one domain and forwarding, all in report mode', () => {
    const parsed = parseManifest(read('minimal', 'posture.json'), 'minimal/posture.json');
    if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
    expect(Object.keys(parsed.manifest.desired).sort()).toEqual(['forwarding', 'senderAuthentication']);
    expect(parsed.manifest.controls.every((c) => c.mode === 'report')).toBe(true);
    expect(JSON.parse(read('minimal', 'cdk.tf.json'))).not.toHaveProperty('resource');
  });
});
