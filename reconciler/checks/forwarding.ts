import type { Evaluation } from '../evaluate/context.js';
import type { InboxRules } from '../model/live.js';
import { describeDestination, Recipients, sendsToManager, type Destination } from './recipients.js';

type Obj = Record<string, unknown>;

/** The domains mail may go to without leaving the organisation: the accepted domains. */
export function internalDomains(accepted: readonly Obj[]): Set<string> {
  return new Set(accepted.map((d) => String(d['DomainName'] ?? d['Name'] ?? '').toLowerCase()).filter(Boolean));
}

/** A string or a list of strings, as Exchange shows multi-valued properties (null, one value or several). */
const values = (v: unknown): string[] => (Array.isArray(v) ? v : typeof v === 'string' && v ? [v] : []).filter((x): x is string => typeof x === 'string' && x.length > 0);

/**
 * Transport rule actions that send the message, or a report carrying it, to a recipient: Exchange's
 * own property names (Get-TransportRule), with what each does.
 */
const COPYING_ACTIONS: ReadonlyArray<readonly [string, string]> = [
  ['RedirectMessageTo', 'redirects mail to'],
  ['BlindCopyTo', 'blind-copies mail to'],
  ['CopyTo', 'copies mail to'],
  ['AddToRecipients', 'adds as a recipient'],
  ['ModerateMessageByUser', 'sends mail for approval to'],
  ['GenerateIncidentReport', 'sends incident reports to'],
];

/** MAIL.FWD.1–5: no automatic forwarding to outside addresses at any layer. */
export function checkForwarding(ev: Evaluation): void {
  const f = ev.manifest.desired.forwarding;
  if (!f) return;
  // Recipients are resolved against everything mail can be delivered to: mailboxes, mail users,
  // mail contacts and groups; the accepted domains say what is inside.
  const recipientSections = (): string[] => [
    'acceptedDomain',
    'mailbox',
    'mailUser',
    'mailContact',
    'group',
  ];
  // Built once for MAIL.FWD.3-5 when they read the same sections (the index of 60,000 mailboxes is not small).
  let built: { from: readonly (Obj[] | undefined)[]; index: Recipients } | undefined;
  const recipients = (got: Obj[][]) => {
    if (built && built.from.length === got.length && built.from.every((s, i) => s === got[i])) return built.index;
    const index = new Recipients(internalDomains(got[0]!), { mailboxes: got[1] ?? [], mailUsers: got[2] ?? [], mailContacts: got[3] ?? [], groups: got[4] ?? [] });
    built = { from: [...got], index };
    return index;
  };

  const osf = ev.need<[Obj[]]>('MAIL.FWD.1', ['hostedOutboundSpamFilterPolicy']);
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

  const rd = ev.need<[Obj[]]>('MAIL.FWD.2', ['remoteDomain']);
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

  const mbx = ev.need<Obj[][]>('MAIL.FWD.3', recipientSections());
  if (mbx && ev.live.mailboxes?.ok) {
    const to = recipients(mbx);
    for (const m of mbx[1]!) {
      const targets = values([m['ForwardingSmtpAddress'], m['ForwardingAddress']].filter((x) => typeof x === 'string'));
      const { external, unresolved } = to.classify(targets);
      if (!external.length && !unresolved.length) continue;
      const upn = String(m['UserPrincipalName'] ?? m['PrimarySmtpAddress'] ?? m['Identity']);
      const evidence = { endpoint: 'Exchange Get-Mailbox', readAt: ev.live.mailboxes.readAt, live: { UserPrincipalName: upn, ForwardingSmtpAddress: m['ForwardingSmtpAddress'], ForwardingAddress: m['ForwardingAddress'], DeliverToMailboxAndForward: m['DeliverToMailboxAndForward'] } };
      const resource = { type: 'mailbox', id: String(m['ExternalDirectoryObjectId'] ?? m['Guid'] ?? upn), name: upn };
      if (!external.length) {
        // Exchange accepted the recipient, but it is none the reconciler read: where mail goes is not known.
        ev.add({
          control: 'MAIL.FWD.3', check: 'mailbox-forwarding-external', resource, status: 'violation', action: 'none', evidence,
          summary: `Mailbox ${upn} forwards all mail to "${unresolved.join('", "')}", which is no mailbox, mail user, mail contact or group that was read: where its mail goes is not known.`,
          remediation: `Find the recipient (Get-Recipient -Identity "${unresolved[0]}"); if it leads outside, clear the forwarding and treat it as a possible compromise.`,
          scopes: [{ type: 'user', value: upn }],
        });
        continue;
      }
      ev.add({
        control: 'MAIL.FWD.3', check: 'mailbox-forwarding-external', resource,
        status: 'violation', action: 'update',
        patch: [
          { op: 'replace', path: '/ForwardingSmtpAddress', value: null },
          { op: 'replace', path: '/ForwardingAddress', value: null },
          { op: 'replace', path: '/DeliverToMailboxAndForward', value: false },
        ],
        summary: `Mailbox ${upn} forwards all mail to ${external.map(describeDestination).join(', ')}, outside the organisation.`,
        evidence, destinations: external.map((d) => d.address),
        remediation: 'Treat it as a possible compromise: clear the forwarding, revoke the user\'s sessions and review sign-ins.',
        subject: { ...(typeof m['ExternalDirectoryObjectId'] === 'string' ? { id: m['ExternalDirectoryObjectId'] } : {}), upn },
        scopes: [{ type: 'user', value: upn }],
      });
    }
  }

  const rules = ev.need<[InboxRules, ...Obj[][]]>('MAIL.FWD.4', ['inboxRule', ...recipientSections()]);
  if (rules && ev.live.inboxRules?.ok) {
    const to = recipients(rules.slice(1) as Obj[][]);
    for (const { mailbox, rule } of rules[0].rules) {
      if (rule['isEnabled'] === false) continue;
      const actions = (rule['actions'] ?? {}) as Obj;
      const targets = ['forwardTo', 'forwardAsAttachmentTo', 'redirectTo'].flatMap((k) =>
        ((Array.isArray(actions[k]) ? actions[k] : []) as Array<{ emailAddress?: { address?: string } } | null>).map((r) => ({ kind: k, address: String(r?.emailAddress?.address ?? '') })),
      );
      const external = targets.flatMap((t) => {
        const d = t.address ? to.resolve(t.address) : undefined;
        return d?.external ? [{ kind: t.kind, d }] : [];
      });
      if (!external.length) continue;
      const name = String(rule['displayName'] ?? rule['id']);
      ev.add({
        control: 'MAIL.FWD.4', check: 'inbox-rule-forward-external', resource: { type: 'inboxRule', id: String(rule['id']), name: `${mailbox.upn}: "${name}"` },
        key: `${mailbox.id}/${rule['id']}`, status: 'violation', action: 'delete', patch: [{ op: 'remove', path: '' } as never],
        summary: `An inbox rule of ${mailbox.upn} ("${name}") ${external.map((e) => `${e.kind === 'redirectTo' ? 'redirects' : 'forwards'} to ${describeDestination(e.d)}`).join(' and ')}, outside the organisation.`,
        evidence: { endpoint: `/users/${mailbox.id}/mailFolders/inbox/messageRules`, readAt: ev.live.inboxRules.readAt, live: rule },
        destinations: external.map((e) => e.d.address),
        remediation: 'Treat it as a compromised mailbox: delete the rule, revoke the user\'s sessions and require a password change.',
        subject: { id: mailbox.id, upn: mailbox.upn },
        scopes: [
          { type: 'user', value: mailbox.upn },
          { type: 'rule', value: name },
        ],
      });
    }
  }

  const tr = ev.need<Obj[][]>('MAIL.FWD.5', ['transportRule', ...recipientSections(), 'exchangeUser']);
  if (tr && ev.live.transportRules?.ok) {
    const to = recipients(tr.slice(1));
    const users = tr[6] ?? [];
    for (const r of tr[0]!) {
      if (String(r['State']).toLowerCase() !== 'enabled') continue;
      const sends: string[] = [];
      const unknown: string[] = [];
      const external: Destination[] = [];
      for (const [property, verb] of COPYING_ACTIONS) {
        const got = to.classify(values(r[property]));
        unknown.push(...got.unresolved);
        external.push(...got.external);
        if (got.external.length) {
          const attached = property === 'GenerateIncidentReport' && values(r['IncidentReportContent']).some((c) => c.toLowerCase() === 'attachoriginalmessage');
          sends.push(`${verb} ${got.external.map(describeDestination).join(', ')}${attached ? ' (with the original message attached)' : ''}`);
        }
      }
      if (sendsToManager(r)) {
        const managers = users.map((u) => (typeof u['Manager'] === 'string' ? to.resolve(u['Manager']) : undefined)).filter((d): d is Destination => !!d?.external);
        const distinct = [...new Map(managers.map((d) => [d.address, d])).values()];
        if (distinct.length) {
          external.push(...distinct);
          sends.push(`sends mail to the sender's manager, and ${distinct.map(describeDestination).join(', ')} ${distinct.length > 1 ? 'are managers' : 'is a manager'} outside the organisation`);
        }
      }
      if (!external.length && !unknown.length) continue;
      const name = String(r['Name'] ?? r['Identity']);
      const evidence = {
        endpoint: 'Exchange Get-TransportRule', readAt: ev.live.transportRules.readAt,
        live: { Name: name, State: r['State'], ...Object.fromEntries([...COPYING_ACTIONS.map(([p]) => p), 'IncidentReportContent', 'AddManagerAsRecipientType', 'ModerateMessageByManager'].filter((p) => r[p] !== undefined && r[p] !== null).map((p) => [p, r[p]])) },
      };
      const resource = { type: 'transportRule', id: String(r['Guid'] ?? name), name };
      if (!external.length) {
        ev.add({
          control: 'MAIL.FWD.5', check: 'transport-rule-external-copy', resource, status: 'violation', action: 'none', evidence,
          summary: `Transport rule "${name}" sends mail to "${unknown.join('", "')}", which is no mailbox, mail user, mail contact or group that was read: where its mail goes is not known.`,
          remediation: `Find the recipient (Get-Recipient -Identity "${unknown[0]}"); if it leads outside, disable the rule.`,
          scopes: [{ type: 'rule', value: name }],
        });
        continue;
      }
      ev.add({
        control: 'MAIL.FWD.5', check: 'transport-rule-external-copy', resource,
        status: 'violation', action: 'update', patch: [{ op: 'replace', path: '/State', value: 'Disabled' }],
        summary: `Transport rule "${name}" ${sends.join('; ')}: mail leaves the organisation.`,
        evidence, destinations: external.map((d) => d.address),
        scopes: [{ type: 'rule', value: name }],
      });
    }
  }
}
