/**
 * The bodies of alerts, one per destination kind, built from a finding. Pure. Every string that
 * comes from the tenant (a resource name, an inbox rule's name, a summary quoting them) is hostile
 * input: anyone who can name an inbox rule writes it. Each format neutralises it its own way:
 *
 * - Slack (mrkdwn): control, bidirectional and line-separator characters removed; `&`, `<`, `>`
 *   written as `&amp;`, `&lt;`, `&gt;` (so no `<url|text>` link, `<!channel>` or `<@user>`
 *   mention can be formed); a zero-width joiner after `http`, `ftp`, `www` keeps a URL in a name from
 *   being linked.
 * - Teams (Adaptive Card TextBlock and FactSet markdown): the same characters removed; the
 *   characters markdown gives a meaning (`\ * _ ~ \` [ ] ( ) < > # |`) escaped with a backslash, so
 *   `[text](url)` is no link and `**` no emphasis; the same zero-width joiner against autolinks.
 * - Generic JSON: strings as read, JSON-escaped (C1, bidirectional and separator characters as
 *   `\uXXXX`); the receiver must treat them as data.
 *
 * Each tenant string is cut to {@link MAX_FIELD} characters first, so one long name cannot push
 * the rest out of a message.
 */
import { isUnsafeCodePoint } from '../core/text.js';
import type { AlertReason } from '../evidence/records.js';
import type { AlertDestinationKind } from '../manifest/alerts.js';
import type { Finding } from '../model/finding.js';

/** The longest a tenant string is in an alert, in characters. */
export const MAX_FIELD = 500;

/** The generic webhook's document: its `format` and `formatVersion`. */
export const ALERT_FORMAT = 'email-posture-alert';
export const ALERT_FORMAT_VERSION = 1;

/** What an alert says, whatever the destination. */
export interface AlertMessage {
  readonly findingId: string;
  /** Versioned control id, e.g. `MAIL.FWD.4v1`. */
  readonly control: string;
  readonly title: string;
  readonly severity: string;
  readonly owner: { readonly name: string; readonly team: string; readonly contact: string };
  /** Why it is alerted now. */
  readonly status: AlertReason;
  /** The finding's own status: drift, missing, unmanaged, violation or exception-expired. */
  readonly findingStatus: string;
  readonly resource: { readonly type: string; readonly id: string | null; readonly name: string };
  readonly summary: string;
  readonly tenant: { readonly id: string; readonly stack: string; readonly organization: string };
}

/** The alert of a finding. */
export function alertMessage(finding: Finding, reason: AlertReason, tenant: AlertMessage['tenant']): AlertMessage {
  return {
    findingId: finding.id,
    control: finding.control.versionedId,
    title: finding.control.title,
    severity: finding.severity,
    owner: { name: finding.owner.name, team: finding.owner.team, contact: finding.owner.contact },
    status: reason,
    findingStatus: finding.status,
    resource: { type: finding.resource.type, id: finding.resource.id, name: finding.resource.name },
    summary: finding.summary,
    tenant: { id: tenant.id, stack: tenant.stack, organization: tenant.organization },
  };
}

/** Cuts a string to `max` characters (code points), marking the cut with `…`. */
export function cut(text: string, max = MAX_FIELD): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** Removes control, C1, bidirectional and separator characters; tabs and line breaks become spaces. */
export function stripUnsafe(text: string): string {
  let out = '';
  for (const ch of text) {
    if (ch === '\n' || ch === '\r' || ch === '\t') out += ' ';
    else if (!isUnsafeCodePoint(ch.codePointAt(0)!)) out += ch;
  }
  return out;
}

/** A zero-width joiner after `http`/`ftp` (before `://`) and `www` (before `.`): no autolink. */
const noAutolink = (text: string): string => text.replace(/(?<=[a-z0-9])(?=:\/\/)/gi, '\u200d').replace(/(www)(?=\.)/gi, '$1\u200d');

/** Tenant text for Slack mrkdwn. */
export function slackText(text: string): string {
  return noAutolink(stripUnsafe(cut(text)).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
}

/** Tenant text for Adaptive Card markdown (Teams). */
export function teamsText(text: string): string {
  return noAutolink(stripUnsafe(cut(text)).replace(/[\\`*_~[\]()<>#|]/g, (ch) => `\\${ch}`)).replace(/^([-+])(?=\s)/, '\\$1').replace(/^(\d+)\.(?=\s)/, '$1\\.');
}

const REASON_TEXT: Record<AlertReason, string> = { new: 'New finding', reopened: 'Reopened finding', 'exception-expired': 'Exception expired' };

/** The body of an alert for a destination of `kind`. */
export function alertPayload(kind: AlertDestinationKind, m: AlertMessage): unknown {
  switch (kind) {
    case 'slack':
      return slackPayload(m);
    case 'teams':
      return teamsPayload(m);
    case 'webhook':
      return webhookPayload(m);
  }
}

/** The generic webhook's JSON document (documented in README, "Alerts"). */
export function webhookPayload(m: AlertMessage): unknown {
  return { format: ALERT_FORMAT, formatVersion: ALERT_FORMAT_VERSION, ...m, resource: { ...m.resource, name: cut(m.resource.name) }, summary: cut(m.summary) };
}

function slackPayload(m: AlertMessage): unknown {
  const s = slackText;
  const headline = `${REASON_TEXT[m.status]}: ${s(m.control)} ${s(m.title)} (${s(m.severity)})`;
  const fields = [
    ['Resource', `${s(m.resource.type)} ${s(m.resource.name)}`],
    ['Owner', `${s(m.owner.name)} (${s(m.owner.team)}, ${s(m.owner.contact)})`],
    ['Status', `${s(m.findingStatus)}`],
    ['Tenant', `${s(m.tenant.organization)} (${s(m.tenant.id)}, stack ${s(m.tenant.stack)})`],
    ['Finding', s(m.findingId)],
  ];
  return {
    text: `${headline}: ${s(m.resource.name)}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${headline}*\n${s(m.summary)}` } },
      { type: 'section', fields: fields.map(([k, v]) => ({ type: 'mrkdwn', text: `*${k}*\n${v}` })) },
    ],
  };
}

function teamsPayload(m: AlertMessage): unknown {
  const t = teamsText;
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            { type: 'TextBlock', text: `${REASON_TEXT[m.status]}: ${t(m.control)} ${t(m.title)}`, weight: 'Bolder', size: 'Medium', wrap: true },
            { type: 'TextBlock', text: t(m.summary), wrap: true },
            {
              type: 'FactSet',
              facts: [
                { title: 'Severity', value: t(m.severity) },
                { title: 'Status', value: t(m.findingStatus) },
                { title: 'Resource', value: `${t(m.resource.type)} ${t(m.resource.name)}` },
                { title: 'Owner', value: `${t(m.owner.name)} (${t(m.owner.team)}, ${t(m.owner.contact)})` },
                { title: 'Tenant', value: `${t(m.tenant.organization)} (${t(m.tenant.id)}, stack ${t(m.tenant.stack)})` },
                { title: 'Finding', value: t(m.findingId) },
              ],
            },
          ],
        },
      },
    ],
  };
}
