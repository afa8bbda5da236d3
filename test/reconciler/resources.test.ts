import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CATALOGUE } from '../../policies/catalogue.js';
import { COMMANDS_WITH_PERMISSIONS, permissionsFor } from '../../reconciler/cli/permissions.js';
import { ApplyRefused, checkShape } from '../../reconciler/apply/apply.js';
import { writeProblem } from '../../reconciler/apply/writes.js';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { Evaluation } from '../../reconciler/evaluate/context.js';
import { build, declareAll } from '../stacks/helpers.js';
import { EXCHANGE_WRITES, GRAPH_WRITES, isRespondable, isResourceType, isReversible, isWritable, RESOURCES, resourceType, UnknownResourceType } from '../../reconciler/resources/registry.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('the resource registry', () => {
  it('refuses a key it does not know, with a clear message, and never guesses', () => {
    expect(() => resourceType('inboxRules')).toThrow(UnknownResourceType);
    expect(() => resourceType('inboxRules')).toThrow(/^unknown resource type "inboxRules": this version knows user, group, /);
    expect(() => resourceType(undefined)).toThrow(/^unknown resource type undefined/);
    expect(() => resourceType('__proto__')).toThrow(UnknownResourceType);
    expect(resourceType('inboxRule').key).toBe('inboxRule');
  });

  it('a plan naming a type this version does not know is refused before anything is read', () => {
    const plan = JSON.parse(readFileSync(join(root, 'test/fixtures/released-apply/plan.json'), 'utf8')) as PlanDocument;
    expect(() => checkShape(plan)).not.toThrow();
    const renamed = { ...plan, changes: plan.changes.map((c, i) => (i === 0 ? { ...c, resource: { ...c.resource, type: 'transportRules' } } : c)) };
    expect(() => checkShape(renamed)).toThrow(ApplyRefused);
    expect(() => checkShape(renamed)).toThrow('the plan holds a change to "transportRules", a resource type this version does not know; nothing was written');
  });

  it('every key the catalogue names is registered, and a control writes only writable types', () => {
    for (const c of CATALOGUE) {
      for (const k of c.resources.read) expect(isResourceType(k), `${c.id} reads ${k}`).toBe(true);
      for (const k of c.resources.write ?? []) {
        expect(isResourceType(k), `${c.id} writes ${k}`).toBe(true);
        expect(isWritable(resourceType(k)), `${c.id} writes ${k}`).toBe(true);
        expect(c.resources.read, `${c.id} writes ${k} without reading it`).toContain(k);
      }
    }
  });

  it('every writable registered type is written by some remediable control, or by a response action', () => {
    const written = new Set(CATALOGUE.filter((c) => c.remediation.automatic).flatMap((c) => c.resources.write ?? []));
    for (const t of RESOURCES.filter(isWritable)) expect(written.has(t.key) || (isRespondable(t) && t.responds.length > 0), t.key).toBe(true);
    expect(RESOURCES.filter(isRespondable).map((t) => t.key)).toEqual(['oauth2PermissionGrant', 'mailbox', 'inboxRule', 'signInSessions', 'riskyUser', 'userAccount', 'groupMember', 'authenticationMethod', 'mailboxDelegate', 'analyzedEmail', 'calendarEvent']);
  });

  it('every read type is read by some control, and every type has a read or a write', () => {
    const read = new Set(['user', 'group', ...CATALOGUE.flatMap((c) => c.resources.read)]);
    for (const t of RESOURCES) {
      if (t.read) expect(read.has(t.key), `${t.key} is read by no control`).toBe(true);
      expect(t.read ?? isWritable(t), t.key).toBeTruthy();
    }
  });

  it('the writes apply accepts are exactly those the writable types declare', () => {
    for (const [method, route] of GRAPH_WRITES) expect(writeProblem({ api: 'graph', method, path: route.replaceAll('{id}', 'x1') }), `${method} ${route}`).toBeUndefined();
    for (const cmdlet of EXCHANGE_WRITES.keys()) expect(writeProblem({ api: 'exchange', cmdlet, parameters: { Identity: 'x' } }), cmdlet).toBeUndefined();
    // The same writes as the hand-written list the types' declarations replaced.
    expect(GRAPH_WRITES.map(([m, r]) => `${m} ${r}`).sort()).toEqual([
      'DELETE /identity/conditionalAccess/policies/{id}', 'DELETE /oauth2PermissionGrants/{id}', 'DELETE /servicePrincipals/{id}/appRoleAssignedTo/{id}', 'DELETE /users/{id}/mailFolders/inbox/messageRules/{id}',
      'PATCH /identity/conditionalAccess/policies/{id}', 'PATCH /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/{id}', 'PATCH /policies/authorizationPolicy', 'POST /identity/conditionalAccess/policies', 'POST /oauth2PermissionGrants',
      'POST /users/{id}/mailFolders/inbox/messageRules', 'PUT /policies/adminConsentRequestPolicy',
      // Written by posture respond only.
      'DELETE /groups/{id}/members/{id}/$ref', 'PATCH /users/{id}', 'POST /groups/{id}/members/$ref', 'POST /identityProtection/riskyUsers/confirmCompromised', 'POST /users/{id}/revokeSignInSessions',
      'POST /security/collaboration/analyzedEmails/remediate', 'DELETE /users/{id}/events/{id}', 'POST /users/{id}/events/{id}/cancel',
      ...['microsoftAuthenticatorMethods', 'phoneMethods', 'fido2Methods', 'softwareOathMethods', 'emailMethods', 'windowsHelloForBusinessMethods', 'temporaryAccessPassMethods'].map((m) => `DELETE /users/{id}/authentication/${m}/{id}`),
    ].sort());
    expect([...EXCHANGE_WRITES.keys()].sort()).toEqual([
      'Disable-TransportRule', 'Enable-TransportRule', 'New-DkimSigningConfig', 'Set-AntiPhishPolicy', 'Set-DkimSigningConfig', 'Set-HostedConnectionFilterPolicy', 'Set-HostedContentFilterPolicy', 'Set-HostedOutboundSpamFilterPolicy', 'Set-Mailbox',
      'Set-RemoteDomain', 'Set-TransportConfig', 'Set-MalwareFilterPolicy', 'Set-SafeAttachmentPolicy', 'Set-SafeLinksPolicy', 'Set-ExternalInOutlook', 'Set-SharingPolicy', 'Set-OrganizationConfig',
      // Written by posture respond only.
      'Add-MailboxPermission', 'Add-RecipientPermission', 'Remove-MailboxPermission', 'Remove-RecipientPermission',
    ].sort());
  });

  it('a type read after another comes after it in the registry (reads start in registry order)', () => {
    for (const [i, t] of RESOURCES.entries()) for (const dep of t.read?.after ?? []) expect(RESOURCES.findIndex((r) => r.key === dep), `${t.key} after ${dep}`).toBeLessThan(i);
  });

  it('irreversible types are so by construction: they have no inverse', () => {
    // A revoked session and a confirmed compromise have no undo in the service; a purged phish and a cancelled meeting are not put back.
    expect(RESOURCES.filter(isWritable).filter((t) => !isReversible(t)).map((t) => t.key)).toEqual(['appRoleAssignment', 'signInSessions', 'riskyUser', 'authenticationMethod', 'analyzedEmail', 'calendarEvent']);
  });
});

describe('checks read what their controls name', () => {
  it('a check that reads a type its control does not name in resources.read is an error, not a silent extra read', () => {
    const ok = { ok: true as const, value: [], endpoint: '', readAt: '' };
    const ev = new Evaluation(build(declareAll).posture.toManifest(), { users: ok, groups: ok, outboundSpam: ok }, '2026-06-01');
    expect(ev.need('MAIL.FWD.1', ['hostedOutboundSpamFilterPolicy'])).toEqual([[]]);
    expect(() => ev.need('MAIL.FWD.1', ['inboxRule'])).toThrow('a check of MAIL.FWD.1 reads inboxRule, which its catalogue entry does not name in resources.read');
  });
});

describe('permissions come from the resource types', () => {
  it('each command needs exactly the permissions it needed before they were derived (regression)', () => {
    const before = JSON.parse(readFileSync(join(root, 'test/fixtures/released-apply/permissions.json'), 'utf8')) as Record<string, unknown>;
    // The authentication area (ID.AUTH.1-3) and the inbound paths' evidence (MAIL.PATH.2) came later: their types' permissions are the only additions.
    const later = new Set(['AuditLog.Read.All', 'Policy.Read.AuthenticationMethod', 'Policy.ReadWrite.AuthenticationMethod', 'SecurityAnalyzedMessage.Read.All']);
    expect(Object.fromEntries(Object.keys(before).map((c) => [c, permissionsFor(c).filter((p) => !later.has(p.name))]))).toEqual(before);
    expect(COMMANDS_WITH_PERMISSIONS.filter((c) => !(c in before))).toEqual(['respond', 'probe']);
  });
});

describe('no switch or regex on resource type outside the registry and the resource files', () => {
  const files = (dir: string): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
  // What decides per type: its key, or the routes and cmdlets of its writes.
  // (`user`, `group` and `domain` are words of their own elsewhere: an actor is a user.)
  const keys = RESOURCES.map((t) => t.key).filter((k) => !['user', 'group', 'domain'].includes(k));
  const routes = /\/messageRules|\/conditionalAccess|\/oauth2PermissionGrants|appRoleAssignedTo|\/policies\/(?:authorization|adminConsent|authenticationMethods)|-(?:TransportRule|DkimSigningConfig|RemoteDomain|AntiPhishPolicy|HostedOutboundSpamFilterPolicy|Mailbox)\b/;
  for (const dir of ['reconciler/apply', 'reconciler/plan', 'reconciler/read', 'reconciler/cli', 'reconciler/evidence', 'reconciler/model']) {
    it(`${dir} dispatches through the registry`, () => {
      for (const file of files(dir)) {
        const text = readFileSync(join(root, file), 'utf8').replace(/^\s*(\/\/|\*|\/\*\*).*$/gm, '');
        for (const key of keys) expect(text.includes(`'${key}'`) || text.includes(`"${key}"`), `${file} names ${key}`).toBe(false);
        expect(routes.exec(text)?.[0], file).toBeUndefined();
      }
    });
  }
});

describe('took: one rule per type', () => {
  it('the admin consent request policy took when its values read back and its reviewers are the same users and groups, whatever API version their queries carry', () => {
    const t = resourceType('adminConsentRequestPolicy');
    if (!isWritable(t)) throw new Error('not writable');
    const w = { api: 'graph' as const, method: 'PUT' as const, path: '/policies/adminConsentRequestPolicy', body: { isEnabled: true, requestDurationInDays: 30, reviewers: [{ query: '/users/U1', queryType: 'MicrosoftGraph', queryRoot: null }] } };
    expect(t.took(w, { isEnabled: true, requestDurationInDays: 30, reviewers: [{ query: '/v1.0/users/u1', queryType: 'MicrosoftGraph', queryRoot: null }] })).toBeUndefined();
    expect(t.took(w, { isEnabled: true, requestDurationInDays: 30, reviewers: [{ query: '/users/u2', queryType: 'MicrosoftGraph' }] })).toBe('reviewers are ["users/u2"]');
    expect(t.took(w, { isEnabled: false, requestDurationInDays: 30, reviewers: [] })).toBe('isEnabled is false');
  });

  it('a delete took when the target is gone; a conditional access policy took when its governed fields read back as written', () => {
    const grant = resourceType('oauth2PermissionGrant');
    const ca = resourceType('conditionalAccessPolicy');
    if (!isWritable(grant) || !isWritable(ca)) throw new Error('not writable');
    expect(grant.took({ api: 'graph', method: 'DELETE', path: '/oauth2PermissionGrants/g1' }, null)).toBeUndefined();
    expect(grant.took({ api: 'graph', method: 'DELETE', path: '/oauth2PermissionGrants/g1' }, { id: 'g1' })).toBe('it still exists');
    const patch = { api: 'graph' as const, method: 'PATCH' as const, path: '/identity/conditionalAccess/policies/p1', body: { state: 'enabled' } };
    expect(ca.took(patch, { id: 'p1', displayName: 'x', state: 'Enabled', modifiedDateTime: '2026-06-01T00:00:00Z' })).toBeUndefined();
    expect(ca.took(patch, { id: 'p1', displayName: 'x', state: 'disabled' })).toBe('1 differences remain');
  });
});
