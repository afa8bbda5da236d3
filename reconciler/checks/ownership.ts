import type { Evaluation } from '../evaluate/context.js';

type Obj = Record<string, unknown>;

/** GOV.OWNER.1: every owner contact is an enabled user or a group; every break-glass account exists and is enabled. */
export function checkOwnership(ev: Evaluation): void {
  const got = ev.need<[Obj[], Obj[]]>('GOV.OWNER.1', [
    'user',
    'group',
  ]);
  if (!got || !ev.live.users?.ok) return;
  const readAt = ev.live.users.readAt;
  const owners = new Map<string, { name: string; controls: string[] }>();
  for (const c of ev.manifest.controls) {
    const key = c.owner.contact.toLowerCase();
    const o = owners.get(key) ?? { name: c.owner.name, controls: [] };
    o.controls.push(c.id);
    owners.set(key, o);
  }
  // The routing and policy owners of inbound paths answer for their paths as control owners do.
  const paths = ev.manifest.desired.inboundPaths;
  const declared = paths
    ? [
        ...[paths.routingOwner, paths.policyOwner].map((owner) => ({ owner, what: 'MAIL.PATH.1 (every path)' })),
        ...paths.paths.flatMap((x) => [x.routingOwner, x.policyOwner].map((owner) => ({ owner, what: `MAIL.PATH.1 (path ${x.match})` }))),
      ]
    : [];
  for (const { owner, what } of declared) {
    if (!owner) continue;
    const key = owner.contact.toLowerCase();
    const o = owners.get(key) ?? { name: owner.name, controls: [] };
    if (!o.controls.includes(what)) o.controls.push(what);
    owners.set(key, o);
  }
  for (const [contact, o] of owners) {
    const user = ev.directory.userByUpn(contact);
    const group = ev.directory.groupByMail(contact);
    if (group) continue;
    if (user && user['accountEnabled'] !== false) continue;
    ev.add({
      control: 'GOV.OWNER.1', check: 'owner-resolves', resource: { type: user ? 'user' : 'owner', id: (user?.['id'] as string | undefined) ?? null, name: contact },
      status: 'violation', action: 'none',
      summary: user
        ? `Owner ${o.name} (${contact}) has a disabled account; ${o.controls.length} control${o.controls.length > 1 ? 's' : ''} (${o.controls.join(', ')}) have nobody to act on their findings.`
        : `Owner ${o.name} (${contact}) is neither a user nor a group of the tenant; ${o.controls.join(', ')} have nobody to act on their findings.`,
      evidence: { endpoint: `/users?$filter=userPrincipalName eq '${contact}'`, readAt, live: user ? { id: user['id'], userPrincipalName: user['userPrincipalName'], accountEnabled: user['accountEnabled'] } : null },
      remediation: 'Name a new owner for these controls in the posture and merge it through review.',
      scopes: [{ type: 'user', value: contact }],
    });
  }
  for (const upn of ev.manifest.breakGlass.users) {
    const user = ev.directory.userByUpn(upn);
    if (user && user['accountEnabled'] !== false) continue;
    ev.add({
      control: 'GOV.OWNER.1', check: 'break-glass-resolves', resource: { type: 'user', id: (user?.['id'] as string | undefined) ?? null, name: upn },
      status: 'violation', action: 'none',
      summary: user ? `Break-glass account ${upn} is disabled: it cannot be used in an emergency.` : `Break-glass account ${upn} does not exist.`,
      evidence: { endpoint: '/users', readAt, live: user ? { id: user['id'], accountEnabled: user['accountEnabled'] } : null },
      remediation: 'Restore the account, or declare the organisation\'s actual emergency-access accounts.',
      scopes: [{ type: 'user', value: upn }],
    });
  }
}
