import { CATALOGUE } from '../../policies/catalogue.js';
import type { Evaluation } from '../evaluate/context.js';
import type { NearMiss } from '../model/finding.js';
import { diffPolicy, matchLive, project, resolvePolicy } from '../resources/conditional-access-policy.js';
import { closestPolicy, nearMissReasons, nearMissSentence } from './near-miss.js';

type Obj = Record<string, unknown>;
const firstCheck = (id: string) => CATALOGUE.find((c) => c.id === id)!.checks[0]!.id;

/**
 * ID.CA.1–4: each declared policy exists and matches. ID.CA.5: whoever wrote a policy, an enabled or
 * report-only policy excludes every break-glass account and nothing undeclared. A managed policy's
 * difference that concerns its exclusions is reported once, under ID.CA.5.
 */
export function checkConditionalAccess(ev: Evaluation): void {
  const ca = ev.manifest.desired.conditionalAccess;
  if (!ca) return;
  const controls = [...new Set([...ca.policies.map((p) => p.control.replace(/v\d+$/, '')), 'ID.CA.5'])];
  let policies: Obj[] | undefined;
  for (const c of controls) {
    const got = ev.need<[Obj[], Obj[], Obj[]]>(c, [
      'conditionalAccessPolicy',
      'user',
      'group',
    ]);
    if (got) policies = got[0];
  }
  if (!policies || !ev.live.caPolicies?.ok) return;
  const section = ev.live.caPolicies;
  const evidence = (live: unknown, nearMiss?: NearMiss) => ({ endpoint: '/identity/conditionalAccess/policies', readAt: section.readAt, live, ...(nearMiss ? { nearMiss } : {}) });
  const nearMissContext = { dir: ev.directory, breakGlass: ev.manifest.breakGlass };

  const bgUsers = ev.manifest.breakGlass.users.map((u) => ({ upn: u, id: ev.directory.userByUpn(u)?.['id'] as string | undefined }));
  const bgGroups = ev.manifest.breakGlass.groups.map((g) => ({ name: g, id: ev.directory.groupByName(g)?.['id'] as string | undefined }));
  const allowedUsers = new Set([...bgUsers.map((b) => b.id), ...ca.exclusions.users.map((u) => ev.directory.userByUpn(u)?.['id'] as string | undefined)].filter(Boolean).map((x) => String(x).toLowerCase()));
  const allowedGroups = new Set([...bgGroups.map((b) => b.id), ...ca.exclusions.groups.map((g) => ev.directory.groupByName(g)?.['id'] as string | undefined)].filter(Boolean).map((x) => String(x).toLowerCase()));
  const nameOf = (id: string) => String(ev.directory.userById(id)?.['userPrincipalName'] ?? ev.directory.groupById(id)?.['displayName'] ?? id);

  /** Break-glass accounts a policy fails to exclude, and exclusions nobody declared. */
  const exclusionProblems = (p: Obj) => {
    const users = ((p['conditions'] as Obj)?.['users'] ?? {}) as Obj;
    const exUsers = new Set(((users['excludeUsers'] as string[]) ?? []).map((x) => x.toLowerCase()));
    const exGroups = new Set(((users['excludeGroups'] as string[]) ?? []).map((x) => x.toLowerCase()));
    const missing = [
      ...bgUsers.filter((b) => !b.id || !exUsers.has(b.id.toLowerCase())).map((b) => b.upn),
      ...bgGroups.filter((b) => !b.id || !exGroups.has(b.id.toLowerCase())).map((b) => `group ${b.name}`),
    ];
    const undeclared = [
      ...[...exUsers].filter((x) => x !== 'guestsorexternalusers' && !allowedUsers.has(x)).map(nameOf),
      ...[...exGroups].filter((x) => !allowedGroups.has(x)).map((x) => `group ${nameOf(x)}`),
    ];
    return { missing, undeclared };
  };

  const matched = matchLive(ca.policies, policies);
  const managedIds = new Set<string>();
  for (const desired of ca.policies) {
    const control = desired.control.replace(/v\d+$/, '');
    const live = matched.get(desired.key);
    const resolved = resolvePolicy(desired, ev.directory, { ...(live ? { live } : {}), breakGlass: ev.manifest.breakGlass });
    const resource = { type: 'conditionalAccessPolicy', id: (live?.['id'] as string | undefined) ?? null, name: desired.displayName };
    const scopes = [{ type: 'policy' as const, value: desired.displayName }];
    if (resolved.unresolved.length) {
      ev.add({
        control, check: firstCheck(control), resource, key: desired.key, status: 'violation', action: 'none', scopes,
        summary: `Policy "${desired.displayName}" names ${resolved.unresolved.join(', ')}, which do not exist in the tenant; it cannot be compared or applied.`,
        evidence: evidence(null),
        remediation: 'Create the missing users or groups, or correct the posture.',
      });
      continue;
    }
    if (!live) {
      // Explains the failure only: the closest live policy, and why it does not count.
      const nearMiss = closestPolicy(desired, policies, nearMissContext);
      ev.add({
        control, check: firstCheck(control), resource, key: desired.key, status: 'missing', action: 'create', scopes,
        summary: `Conditional access policy "${desired.displayName}" does not exist${desired.staged ? ' (it will be created in report-only state)' : ''}.${nearMiss ? ` ${nearMissSentence(nearMiss)}` : ''}`,
        patch: [{ op: 'add', path: '', value: project(resolved.body) } as never],
        evidence: evidence(null, nearMiss),
      });
      continue;
    }
    managedIds.add(String(live['id']));
    const patch = diffPolicy(resolved, live);
    if (patch.length === 0) continue;
    const { missing, undeclared } = exclusionProblems(live);
    const aboutExclusions = patch.some((op) => /^\/conditions\/users\/exclude(Users|Groups)/.test(op.path)) && (missing.length > 0 || undeclared.length > 0);
    const changed = [...new Set(patch.map((op) => op.path.split('/').slice(1, 3).join('.')))].join(', ');
    const reasons = aboutExclusions ? [] : nearMissReasons(desired, live, nearMissContext);
    const nearMiss: NearMiss | undefined = reasons.length ? { basis: 'same-name', policy: { id: String(live['id']), displayName: String(live['displayName']), state: String(live['state']) }, reasons, score: reasons.length, compared: 1 } : undefined;
    ev.add({
      control: aboutExclusions ? 'ID.CA.5' : control,
      check: aboutExclusions ? (missing.length ? 'ca-break-glass-excluded' : 'ca-no-undeclared-exclusions') : firstCheck(control),
      resource, key: desired.key, status: 'drift', action: 'update', patch, scopes,
      summary: aboutExclusions
        ? missing.length
          ? `Policy "${desired.displayName}" no longer excludes break-glass account${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; it could lock the organisation out.`
          : `Policy "${desired.displayName}" excludes ${undeclared.join(', ')}, which the posture does not declare.`
        : `Policy "${desired.displayName}" differs from the posture in ${changed}.${nearMiss ? ` ${nearMissSentence(nearMiss)}` : ''}`,
      evidence: evidence(project(live), nearMiss),
    });
  }

  for (const p of policies) {
    if (managedIds.has(String(p['id'])) || p['state'] === 'disabled') continue;
    const { missing, undeclared } = exclusionProblems(p);
    const resource = { type: 'conditionalAccessPolicy', id: String(p['id']), name: String(p['displayName']) };
    const scopes = [{ type: 'policy' as const, value: String(p['displayName']) }];
    if (missing.length) {
      ev.add({
        control: 'ID.CA.5', check: 'ca-break-glass-excluded', resource, status: 'violation', action: 'none', scopes,
        summary: `Policy "${p['displayName']}" (not managed by the posture) applies to break-glass account${missing.length > 1 ? 's' : ''} ${missing.join(', ')}.`,
        evidence: evidence(project(p)),
        remediation: `Add ${missing.join(', ')} to the policy's excluded users.`,
      });
    }
    if (undeclared.length) {
      ev.add({
        control: 'ID.CA.5', check: 'ca-no-undeclared-exclusions', resource, key: `${p['id']}/exclusions`, status: 'violation', action: 'none', scopes,
        summary: `Policy "${p['displayName']}" excludes ${undeclared.join(', ')}, which the posture does not declare.`,
        evidence: evidence(project(p)),
        remediation: 'Remove the exclusion, or declare it (with an exception that expires) in the posture.',
      });
    }
  }
}

/**
 * MAIL.SMTP.1: SMTP AUTH client submission is off for the organisation. It takes a password alone,
 * so conditional access and MFA never see a stolen one used to send mail.
 */
export function checkSmtpAuth(ev: Evaluation): void {
  if (!ev.entry('MAIL.SMTP.1')) return;
  const got = ev.need<[Obj[]]>('MAIL.SMTP.1', ['transportConfig']);
  if (!got || !ev.live.transportConfig?.ok) return;
  const { readAt } = ev.live.transportConfig;
  for (const t of got[0]) {
    if (t['SmtpClientAuthenticationDisabled'] === true) continue;
    const name = String(t['Identity'] ?? t['Name']);
    ev.add({
      control: 'MAIL.SMTP.1', check: 'smtp-client-auth-disabled', resource: { type: 'transportConfig', id: String(t['Guid'] ?? name), name },
      status: 'violation', action: 'update',
      patch: [{ op: 'replace', path: '/SmtpClientAuthenticationDisabled', value: true }],
      summary: 'SMTP AUTH client submission is on for the whole organisation: a stolen password sends mail as its mailbox without MFA.',
      evidence: { endpoint: 'Exchange Get-TransportConfig', readAt, live: { Identity: name, SmtpClientAuthenticationDisabled: t['SmtpClientAuthenticationDisabled'] ?? null } },
      remediation: 'Set-TransportConfig -SmtpClientAuthenticationDisabled $true; a device that must submit with SMTP AUTH gets it back per mailbox (Set-CASMailbox -SmtpClientAuthenticationDisabled $false) under a declared exception.',
      scopes: [{ type: 'policy', value: name }],
    });
  }
}
