import type { Evaluation } from '../evaluate/context.js';
import { psQuote } from '../core/text.js';

type Obj = Record<string, unknown>;

const lower = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : '');
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** MAIL.EXPOSURE.1–3: outside senders are marked, calendars and contacts stay in, mailbox actions are audited. */
export function checkExposure(ev: Evaluation): void {
  if (!ev.manifest.desired.exposure) return;
  checkExternalSenders(ev);
  checkSharing(ev);
  checkMailboxAudit(ev);
}

/**
 * MAIL.EXPOSURE.1. Without a declared banner rule, Outlook's External tag must be on and its AllowList
 * empty (an entry an exception names stays). With one, that transport rule must mark mail from
 * outside: enabled, enforced, FromScope NotInOrganization, and a prepended disclaimer or subject.
 */
function checkExternalSenders(ev: Evaluation): void {
  const { bannerRule } = ev.manifest.desired.exposure!.externalSenders;
  if (bannerRule === null) {
    const got = ev.need<[Obj[]]>('MAIL.EXPOSURE.1', ['externalInOutlook']);
    if (!got || !ev.live.externalInOutlook?.ok) return;
    const { readAt } = ev.live.externalInOutlook;
    for (const o of got[0]) {
      const name = String(o['Identity'] ?? o['Name'] ?? 'ExternalInOutlook');
      const id = String(o['Guid'] ?? name);
      const allowList = strings(o['AllowList']);
      const evidence = { endpoint: 'Exchange Get-ExternalInOutlook', readAt, live: { Identity: name, Enabled: o['Enabled'] ?? null, AllowList: allowList } };
      if (o['Enabled'] !== true) {
        ev.add({
          control: 'MAIL.EXPOSURE.1', check: 'external-tag-enabled', resource: { type: 'externalInOutlook', id, name },
          status: 'violation', action: 'update', patch: [{ op: 'replace', path: '/Enabled', value: true }],
          summary: 'Outlook does not mark mail from outside the organisation as External, and the posture declares no banner rule that does.',
          evidence,
        });
        continue;
      }
      for (const entry of allowList) {
        ev.add({
          control: 'MAIL.EXPOSURE.1', check: 'external-tag-allow-list', resource: { type: 'externalInOutlook', id, name: `${name}: AllowList ${entry}` },
          key: `${name}/AllowList/${entry}`, status: 'violation', action: 'none',
          summary: `The External tag is never shown for ${entry}: mail claiming to come from it looks internal.`,
          evidence,
          remediation: `Remove ${entry} from the AllowList (Set-ExternalInOutlook -AllowList @{Remove=${psQuote(entry)}}), or declare an exception scoped to the domain.`,
          scopes: [{ type: 'domain', value: entry.replace(/^\*\./, '').replace(/^.*@/, '') }],
        });
      }
    }
    return;
  }
  const got = ev.need<[Obj[]]>('MAIL.EXPOSURE.1', ['transportRule']);
  if (!got || !ev.live.transportRules?.ok) return;
  const { readAt } = ev.live.transportRules;
  const rule = got[0].find((r) => lower(r['Name']) === bannerRule.toLowerCase()) ?? got[0].find((r) => lower(r['Identity']) === bannerRule.toLowerCase());
  const scopes = [{ type: 'rule', value: bannerRule }] as const;
  if (!rule) {
    ev.add({
      control: 'MAIL.EXPOSURE.1', check: 'external-banner-rule', resource: { type: 'transportRule', id: null, name: bannerRule },
      status: 'missing', action: 'none',
      summary: `The banner rule the posture declares, "${bannerRule}", does not exist: nothing marks mail from outside the organisation.`,
      evidence: { endpoint: 'Exchange Get-TransportRule', readAt, live: null },
      remediation: `Create the transport rule "${bannerRule}" (FromScope NotInOrganization, ApplyHtmlDisclaimerLocation Prepend with the warning text), or declare no banner rule and turn on the External tag.`,
      scopes,
    });
    return;
  }
  const name = String(rule['Name'] ?? rule['Identity']);
  const live = {
    Name: name,
    State: rule['State'] ?? null,
    Mode: rule['Mode'] ?? null,
    FromScope: rule['FromScope'] ?? null,
    ApplyHtmlDisclaimerLocation: rule['ApplyHtmlDisclaimerLocation'] ?? null,
    ApplyHtmlDisclaimerText: rule['ApplyHtmlDisclaimerText'] ?? null,
    PrependSubject: rule['PrependSubject'] ?? null,
  };
  const disclaimer = lower(live.ApplyHtmlDisclaimerLocation) === 'prepend' && typeof live.ApplyHtmlDisclaimerText === 'string' && live.ApplyHtmlDisclaimerText.trim() !== '';
  const subject = typeof live.PrependSubject === 'string' && live.PrependSubject.trim() !== '';
  const wrong: string[] = [];
  if (lower(live.Mode) !== 'enforce') wrong.push(`runs in ${String(live.Mode)} mode, not Enforce`);
  if (lower(live.FromScope) !== 'notinorganization') wrong.push(`applies to ${live.FromScope === null ? 'mail from any sender' : `FromScope ${String(live.FromScope)}`}, not to mail from outside the organisation`);
  if (!disclaimer && !subject) wrong.push('prepends no disclaimer or subject prefix');
  const disabled = lower(live.State) !== 'enabled';
  if (!wrong.length && !disabled) return;
  // Only a rule that is right, disabled and does nothing but mark the mail is enabled by apply: one
  // that also sets SCL -1, copies or redirects mail (any other action) is the owner's to look at.
  const others = OTHER_RULE_ACTIONS.filter((a) => hasValue(rule[a]));
  const enable = !wrong.length && others.length === 0;
  ev.add({
    control: 'MAIL.EXPOSURE.1', check: 'external-banner-rule', resource: { type: 'transportRule', id: String(rule['Guid'] ?? name), name },
    status: 'drift', action: enable ? 'update' : 'none', patch: enable ? [{ op: 'replace', path: '/State', value: 'Enabled' }] : [],
    summary: `The banner rule "${name}" does not mark mail from outside the organisation: it ${[...(disabled ? ['is disabled'] : []), ...wrong].join(', ')}.`,
    evidence: { endpoint: 'Exchange Get-TransportRule', readAt, live },
    ...(enable ? {} : others.length && !wrong.length ? { remediation: `Enable the transport rule "${name}" by hand once its other actions (${others.join(', ')}) are checked: enabling it applies them to all mail from outside the organisation.` } : { remediation: `Set the transport rule "${name}" to apply to FromScope NotInOrganization in Enforce mode with ApplyHtmlDisclaimerLocation Prepend and the warning text, and enable it.` }),
    scopes,
  });
}

/** Transport rule actions other than marking the message: a banner rule holding one is never enabled by apply. */
const OTHER_RULE_ACTIONS = [
  'SetSCL', 'BlindCopyTo', 'CopyTo', 'AddToRecipients', 'RedirectMessageTo', 'AddManagerAsRecipientType', 'ModerateMessageByUser',
  'ModerateMessageByManager', 'RejectMessageReasonText', 'RejectMessageEnhancedStatusCode', 'DeleteMessage', 'Quarantine', 'SetHeaderName',
  'SetHeaderValue', 'RemoveHeader', 'RouteMessageOutboundConnector', 'RouteMessageOutboundRequireTls', 'ApplyOME', 'RemoveOME',
  'RemoveOMEv2', 'ApplyRightsProtectionTemplate', 'ApplyClassification', 'GenerateIncidentReport', 'GenerateNotification',
  'SmtpRejectMessageRejectText', 'SmtpRejectMessageRejectStatusCode', 'StopRuleProcessing',
] as const;
const hasValue = (v: unknown) => v !== null && v !== undefined && v !== false && v !== '' && !(Array.isArray(v) && v.length === 0);

/** One sharing policy entry, `domain:Action1, Action2`. */
function parseEntry(entry: string): { domain: string; actions: string[] } {
  const at = entry.indexOf(':');
  if (at < 0) return { domain: entry.trim(), actions: [] };
  return { domain: entry.slice(0, at).trim(), actions: entry.slice(at + 1).split(',').map((a) => a.trim()).filter(Boolean) };
}

const CALENDAR_DETAIL = new Set(['calendarsharingfreebusydetail', 'calendarsharingfreebusyreviewer']);

/**
 * MAIL.EXPOSURE.2. Every enabled sharing policy: no "Anonymous" entry (calendar publishing), nothing but
 * free/busy (where allowed) for "*". One finding per policy, whose patch holds the entries to keep.
 */
function checkSharing(ev: Evaluation): void {
  const got = ev.need<[Obj[]]>('MAIL.EXPOSURE.2', ['sharingPolicy']);
  if (!got || !ev.live.sharingPolicies?.ok) return;
  const { readAt } = ev.live.sharingPolicies;
  const { allowFreeBusyWithAllDomains } = ev.manifest.desired.exposure!.sharing;
  for (const p of got[0]) {
    if (p['Enabled'] !== true) continue;
    const name = String(p['Identity'] ?? p['Name']);
    const domains = strings(p['Domains']);
    const kept: string[] = [];
    const removed: string[] = [];
    const kinds = new Set<'contacts' | 'calendar' | 'anonymous'>();
    for (const entry of domains) {
      const { domain, actions } = parseEntry(entry);
      if (domain.toLowerCase() === 'anonymous') {
        kinds.add('anonymous');
        removed.push(entry);
        continue;
      }
      if (domain !== '*') {
        kept.push(entry);
        continue;
      }
      const stays: string[] = [];
      for (const a of actions) {
        const k = a.toLowerCase();
        if (k === 'contactssharing') kinds.add('contacts');
        else if (CALENDAR_DETAIL.has(k) || (k === 'calendarsharingfreebusysimple' && !allowFreeBusyWithAllDomains)) kinds.add('calendar');
        else stays.push(a);
      }
      if (stays.length === actions.length) kept.push(entry);
      else {
        removed.push(entry);
        if (stays.length) kept.push(`${domain}:${stays.join(', ')}`);
      }
    }
    if (!removed.length) continue;
    const check = kinds.has('contacts') ? 'sharing-contacts-all-domains' : kinds.has('calendar') ? 'sharing-calendar-all-domains' : 'sharing-anonymous-publishing';
    const said = [
      ...(kinds.has('calendar') ? ['calendars with every outside domain'] : []),
      ...(kinds.has('contacts') ? ['contacts with every outside domain'] : []),
      ...(kinds.has('anonymous') ? ['calendars published to anonymous viewers'] : []),
    ];
    ev.add({
      control: 'MAIL.EXPOSURE.2', check, resource: { type: 'sharingPolicy', id: String(p['Guid'] ?? name), name },
      status: 'violation', action: 'update',
      patch: kept.length ? [{ op: 'replace', path: '/Domains', value: kept }] : [{ op: 'replace', path: '/Enabled', value: false }],
      summary: `Sharing policy "${name}" lets users share ${said.join(' and ')} (${removed.join('; ')}).`,
      evidence: { endpoint: 'Exchange Get-SharingPolicy', readAt, live: { Identity: name, Enabled: p['Enabled'], Default: p['Default'] ?? null, Domains: domains } },
      remediation: kept.length
        ? `Remove ${removed.join('; ')} from the Domains of "${name}", keeping ${kept.join('; ')}.`
        : `Remove every entry of "${name}"; with none left the policy is disabled.`,
      scopes: [{ type: 'policy', value: name }],
    });
  }
}

/** How many mailbox names a finding lists; the rest are counted. */
export const MAILBOX_NAMES_SHOWN = 20;

const AUDIT_PROPERTIES = [
  ['owner', 'AuditOwner', 'owners'],
  ['delegate', 'AuditDelegate', 'delegates'],
  ['admin', 'AuditAdmin', 'admins'],
] as const;

/** The mailbox types mailbox auditing on by default covers (resource and public folder mailboxes it does not). */
const AUDITED_TYPES = new Set(['usermailbox', 'sharedmailbox']);

/**
 * MAIL.EXPOSURE.3. The organisation's AuditDisabled, and for each logon type the required actions every
 * user and shared mailbox audits. Mailboxes missing the same actions for the same logon type are one
 * finding, so a large tenant gives a handful of findings, never one per mailbox. AuditEnabled is not
 * read: with auditing on by default the service ignores it.
 */
function checkMailboxAudit(ev: Evaluation): void {
  const required = ev.manifest.desired.exposure!.mailboxAudit;
  const org = ev.need<[Obj[]]>('MAIL.EXPOSURE.3', ['organizationConfig']);
  if (org && ev.live.organizationConfig?.ok) {
    for (const o of org[0]) {
      if (o['AuditDisabled'] !== true) continue;
      const name = String(o['Identity'] ?? o['Name']);
      ev.add({
        control: 'MAIL.EXPOSURE.3', check: 'mailbox-audit-org-disabled', resource: { type: 'organizationConfig', id: String(o['Guid'] ?? name), name },
        status: 'violation', action: 'update', patch: [{ op: 'replace', path: '/AuditDisabled', value: false }],
        summary: 'Mailbox auditing is turned off for the whole organisation (AuditDisabled true): no mailbox action is recorded.',
        evidence: { endpoint: 'Exchange Get-OrganizationConfig', readAt: ev.live.organizationConfig.readAt, live: { Identity: name, AuditDisabled: true } },
      });
    }
  }
  const got = ev.need<[Obj[]]>('MAIL.EXPOSURE.3', ['mailbox']);
  if (!got || !ev.live.mailboxes?.ok) return;
  const { readAt } = ev.live.mailboxes;
  const groups = new Map<string, { property: string; who: string; missing: string[]; mailboxes: string[] }>();
  // Mailboxes share their audit lists (read/live.ts holds equal lists once): each list is judged once per property.
  const judged = new Map<string, Map<unknown, { key: string; missing: string[] } | null>>(AUDIT_PROPERTIES.map(([, property]) => [property, new Map()]));
  for (const m of got[0]) {
    if (!AUDITED_TYPES.has(lower(m['RecipientTypeDetails']))) continue;
    const upn = String(m['UserPrincipalName'] ?? m['PrimarySmtpAddress'] ?? m['Identity']);
    if (ev.exceptionInForce('MAIL.EXPOSURE.3', { type: 'user', value: upn })) continue;
    for (const [logon, property, who] of AUDIT_PROPERTIES) {
      const list = m[property];
      const seen = judged.get(property)!;
      let verdict = Array.isArray(list) ? seen.get(list) : undefined;
      if (verdict === undefined) {
        const audited = new Set(strings(list).map((a) => a.toLowerCase()));
        const missing = required[logon].filter((a) => !audited.has(a.toLowerCase()));
        verdict = missing.length ? { key: `${property}:${missing.join(',')}`, missing } : null;
        if (Array.isArray(list)) seen.set(list, verdict);
      }
      if (!verdict) continue;
      const g = groups.get(verdict.key) ?? { property, who, missing: verdict.missing, mailboxes: [] };
      g.mailboxes.push(upn);
      groups.set(verdict.key, g);
    }
  }
  for (const [key, g] of groups) {
    const shown = g.mailboxes.slice(0, MAILBOX_NAMES_SHOWN);
    const more = g.mailboxes.length - shown.length;
    const count = `${g.mailboxes.length} mailbox${g.mailboxes.length === 1 ? '' : 'es'}`;
    ev.add({
      control: 'MAIL.EXPOSURE.3', check: 'mailbox-audit-actions', resource: { type: 'mailbox', id: null, name: `${g.property} without ${g.missing.join(', ')}` },
      key, status: 'violation', action: 'none',
      summary: `${count} do${g.mailboxes.length === 1 ? 'es' : ''} not audit ${g.missing.join(', ')} for their ${g.who}: ${shown.join(', ')}${more ? ` and ${more} more` : ''}.`,
      evidence: { endpoint: 'Exchange Get-Mailbox', readAt, live: { property: g.property, missing: g.missing, count: g.mailboxes.length, mailboxes: shown, notListed: more } },
      remediation:
        `Restore the Microsoft-managed actions (Set-Mailbox -DefaultAuditSet ${g.property.replace(/^Audit/, '')}) or add the missing ones ` +
        `(Set-Mailbox -${g.property} @{Add="${g.missing.join('","')}"}) on each mailbox; MailItemsAccessed and Send need an Audit (Premium) licence.`,
    });
  }
}
