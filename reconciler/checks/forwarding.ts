import type { Evaluation } from '../evaluate/context.js';

type Obj = Record<string, unknown>;

/** The domains mail may go to without leaving the organisation: the accepted domains. */
export function internalDomains(accepted: readonly Obj[]): Set<string> {
  return new Set(accepted.map((d) => String(d['DomainName'] ?? d['Name'] ?? '').toLowerCase()).filter(Boolean));
}

/** The domain of an address in any of the forms Exchange and Graph use (`smtp:a@b`, `"N" [SMTP:a@b]`, `a@b`). */
export function domainOf(address: string): string | undefined {
  const m = /([^\s<>"[\]:]+)@([^\s<>"[\]]+?)\]?$/.exec(address.trim());
  return m ? m[2]!.toLowerCase().replace(/[>\]]$/, '') : undefined;
}

export const isExternal = (address: string, internal: ReadonlySet<string>) => {
  const d = domainOf(address);
  return d !== undefined && !internal.has(d);
};

/** MAIL.FWD.1–5: no automatic forwarding to outside addresses at any layer. */
export function checkForwarding(ev: Evaluation): void {
  const f = ev.manifest.desired.forwarding;
  if (!f) return;

  const osf = ev.need<[Obj[]]>('MAIL.FWD.1', [[ev.live.outboundSpam, 'outbound spam filter policies']]);
  if (osf && ev.live.outboundSpam?.ok) {
    for (const p of osf[0]) {
      if (String(p['AutoForwardingMode']).toLowerCase() === 'off') continue;
      const name = String(p['Identity'] ?? p['Name']);
      ev.add({
        control: 'MAIL.FWD.1', check: 'outbound-autoforward-off', resource: { type: 'hostedOutboundSpamFilterPolicy', id: String(p['Guid'] ?? name), name },
        status: 'drift', action: 'update', patch: [{ op: 'replace', path: '/AutoForwardingMode', value: 'Off' }],
        summary: `Outbound spam filter policy "${name}" has AutoForwardingMode ${p['AutoForwardingMode']}: automatic forwarding to outside addresses is allowed.`,
        evidence: { endpoint: 'Exchange Get-HostedOutboundSpamFilterPolicy', readAt: ev.live.outboundSpam.readAt, live: { Identity: name, AutoForwardingMode: p['AutoForwardingMode'] } },
        scopes: [{ type: 'policy', value: name }],
      });
    }
  }

  const rd = ev.need<[Obj[]]>('MAIL.FWD.2', [[ev.live.remoteDomains, 'remote domains']]);
  if (rd && ev.live.remoteDomains?.ok) {
    const allowed = new Set(f.allowedRemoteDomains.map((d) => d.toLowerCase()));
    for (const d of rd[0]) {
      const domain = String(d['DomainName'] ?? '').toLowerCase();
      if (d['AutoForwardEnabled'] !== true || (domain !== '*' && allowed.has(domain))) continue;
      const name = String(d['Identity'] ?? d['Name']);
      ev.add({
        control: 'MAIL.FWD.2', check: domain === '*' ? 'remote-domain-default' : 'remote-domain-autoforward', resource: { type: 'remoteDomain', id: String(d['Guid'] ?? name), name: `${name} (${domain})` },
        key: domain, status: 'drift', action: 'update', patch: [{ op: 'replace', path: '/AutoForwardEnabled', value: false }],
        summary: domain === '*' ? 'The default remote domain (*) allows automatic forwarding to every outside domain.' : `Remote domain ${domain} allows automatic forwarding but is not a declared partner domain.`,
        evidence: { endpoint: 'Exchange Get-RemoteDomain', readAt: ev.live.remoteDomains.readAt, live: { Identity: name, DomainName: domain, AutoForwardEnabled: true } },
        scopes: [{ type: 'domain', value: domain }],
      });
    }
  }

  const mbx = ev.need<[Obj[], Obj[]]>('MAIL.FWD.3', [
    [ev.live.mailboxes, 'mailboxes'],
    [ev.live.acceptedDomains, 'accepted domains'],
  ]);
  if (mbx && ev.live.mailboxes?.ok) {
    const internal = internalDomains(mbx[1]);
    for (const m of mbx[0]) {
      const targets = [m['ForwardingSmtpAddress'], m['ForwardingAddress']].filter((x): x is string => typeof x === 'string' && x.length > 0);
      const external = targets.filter((t) => isExternal(t, internal));
      if (!external.length) continue;
      const upn = String(m['UserPrincipalName'] ?? m['PrimarySmtpAddress'] ?? m['Identity']);
      ev.add({
        control: 'MAIL.FWD.3', check: 'mailbox-forwarding-external', resource: { type: 'mailbox', id: String(m['ExternalDirectoryObjectId'] ?? m['Guid'] ?? upn), name: upn },
        status: 'violation', action: 'update',
        patch: [
          { op: 'replace', path: '/ForwardingSmtpAddress', value: null },
          { op: 'replace', path: '/ForwardingAddress', value: null },
          { op: 'replace', path: '/DeliverToMailboxAndForward', value: false },
        ],
        summary: `Mailbox ${upn} forwards all mail to ${external.map((e) => e.replace(/^smtp:/i, '')).join(', ')}, outside the organisation.`,
        evidence: { endpoint: 'Exchange Get-Mailbox', readAt: ev.live.mailboxes.readAt, live: { UserPrincipalName: upn, ForwardingSmtpAddress: m['ForwardingSmtpAddress'], ForwardingAddress: m['ForwardingAddress'], DeliverToMailboxAndForward: m['DeliverToMailboxAndForward'] } },
        remediation: 'Treat it as a possible compromise: clear the forwarding, revoke the user\'s sessions and review sign-ins.',
        scopes: [{ type: 'user', value: upn }],
      });
    }
  }

  const rules = ev.need<[{ rules: ReadonlyArray<{ mailbox: { id: string; upn: string }; rule: Obj }> }, Obj[]]>('MAIL.FWD.4', [
    [ev.live.inboxRules, 'inbox rules of every mailbox'],
    [ev.live.acceptedDomains, 'accepted domains'],
  ]);
  if (rules && ev.live.inboxRules?.ok) {
    const internal = internalDomains(rules[1]);
    for (const { mailbox, rule } of rules[0].rules) {
      if (rule['isEnabled'] === false) continue;
      const actions = (rule['actions'] ?? {}) as Obj;
      const targets = ['forwardTo', 'forwardAsAttachmentTo', 'redirectTo'].flatMap((k) =>
        ((actions[k] as Array<{ emailAddress?: { address?: string } }> | undefined) ?? []).map((r) => ({ kind: k, address: r.emailAddress?.address ?? '' })),
      );
      const external = targets.filter((t) => isExternal(t.address, internal));
      if (!external.length) continue;
      const name = String(rule['displayName'] ?? rule['id']);
      ev.add({
        control: 'MAIL.FWD.4', check: 'inbox-rule-forward-external', resource: { type: 'inboxRule', id: String(rule['id']), name: `${mailbox.upn}: "${name}"` },
        key: `${mailbox.id}/${rule['id']}`, status: 'violation', action: 'delete', patch: [{ op: 'remove', path: '' } as never],
        summary: `An inbox rule of ${mailbox.upn} ("${name}") ${external.map((e) => `${e.kind === 'redirectTo' ? 'redirects' : 'forwards'} to ${e.address}`).join(' and ')}, outside the organisation.`,
        evidence: { endpoint: `/users/${mailbox.id}/mailFolders/inbox/messageRules`, readAt: ev.live.inboxRules.readAt, live: rule },
        remediation: 'Treat it as a compromised mailbox: delete the rule, revoke the user\'s sessions and require a password change.',
        scopes: [
          { type: 'user', value: mailbox.upn },
          { type: 'rule', value: name },
        ],
      });
    }
  }

  const tr = ev.need<[Obj[], Obj[]]>('MAIL.FWD.5', [
    [ev.live.transportRules, 'transport rules'],
    [ev.live.acceptedDomains, 'accepted domains'],
  ]);
  if (tr && ev.live.transportRules?.ok) {
    const internal = internalDomains(tr[1]);
    for (const r of tr[0]) {
      if (String(r['State']).toLowerCase() !== 'enabled') continue;
      const targets = [...((r['RedirectMessageTo'] as string[] | null) ?? []), ...((r['BlindCopyTo'] as string[] | null) ?? [])];
      const external = targets.filter((t) => isExternal(t, internal));
      if (!external.length) continue;
      const name = String(r['Name'] ?? r['Identity']);
      ev.add({
        control: 'MAIL.FWD.5', check: 'transport-rule-external-copy', resource: { type: 'transportRule', id: String(r['Guid'] ?? name), name },
        status: 'violation', action: 'update', patch: [{ op: 'replace', path: '/State', value: 'Disabled' }],
        summary: `Transport rule "${name}" sends copies of mail to ${external.join(', ')}, outside the organisation.`,
        evidence: { endpoint: 'Exchange Get-TransportRule', readAt: ev.live.transportRules.readAt, live: { Name: name, State: r['State'], RedirectMessageTo: r['RedirectMessageTo'], BlindCopyTo: r['BlindCopyTo'] } },
        scopes: [{ type: 'rule', value: name }],
      });
    }
  }
}
