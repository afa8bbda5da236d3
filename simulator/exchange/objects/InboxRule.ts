import { randomBytes } from 'node:crypto';
import { auditChange } from '../../graph/entities/audit-log-queries.js';
import type { Entity } from '../../tenant/collection.js';
import type { Tenant } from '../../tenant/tenant.js';
import { CmdletError, COMMON, find, objectNotFound, type Cmdlet, type ExchangeObject } from '../object.js';
import { MAILBOX_KEYS } from './Mailbox.js';

/** `"Display Name" [SMTP:address]`, the form Get-InboxRule shows recipients in. */
function exchangeRecipients(list: unknown): string[] | null {
  if (!Array.isArray(list) || list.length === 0) return null;
  return list.map((r: { emailAddress?: { name?: string; address?: string } }) => `"${r.emailAddress?.name ?? r.emailAddress?.address ?? ''}" [SMTP:${r.emailAddress?.address ?? ''}]`);
}

/** The recipients of a -ForwardTo, -RedirectTo or -ForwardAsAttachmentTo value, as a messageRule holds them. */
const recipients = (v: unknown): Array<{ emailAddress: { address: string } }> =>
  (v === null || v === undefined ? [] : Array.isArray(v) ? v : [v]).map((a) => ({ emailAddress: { address: String(a).replace(/^smtp:/i, '').trim() } }));

/** The action parameters the rule cmdlets take, and the messageRule action each one sets. */
const ACTIONS = { ForwardTo: 'forwardTo', RedirectTo: 'redirectTo', ForwardAsAttachmentTo: 'forwardAsAttachmentTo' } as const;
const RULE_PARAMETERS = { Mailbox: 'string', ForwardTo: 'any', RedirectTo: 'any', ForwardAsAttachmentTo: 'any', DeleteMessage: 'bool', StopProcessingRules: 'bool', ...COMMON } as const;

/** The rule's actions after the parameters of New- or Set-InboxRule. */
function actionsOf(current: Record<string, unknown>, p: Record<string, unknown>): Record<string, unknown> {
  const next: Record<string, unknown> = { ...current };
  for (const [param, action] of Object.entries(ACTIONS)) if (p[param] !== undefined) next[action] = recipients(p[param]);
  if (p['DeleteMessage'] !== undefined) next['delete'] = p['DeleteMessage'];
  if (p['StopProcessingRules'] !== undefined) next['stopProcessingRules'] = p['StopProcessingRules'];
  return next;
}

/** The mailbox a -Mailbox value names, with its owner's user id. */
function mailboxOf(t: Tenant, identity: string): { mailbox: Entity; userId: string; upn: string } {
  const mailbox = find(t.exchange.Mailbox, identity, MAILBOX_KEYS);
  return { mailbox, userId: String(mailbox['ExternalDirectoryObjectId']), upn: String(mailbox['UserPrincipalName'] ?? mailbox['PrimarySmtpAddress']) };
}

/** The rule an -Identity value names in a mailbox: its RuleIdentity, its name, or `<mailbox>\<RuleIdentity>`. */
function ruleOf(t: Tenant, userId: string, identity: string): Entity {
  const wanted = identity.includes('\\') ? identity.slice(identity.lastIndexOf('\\') + 1) : identity;
  const rule = t.inboxRules.list(userId).find((r) => r.id === wanted || String(r['displayName']).toLowerCase() === wanted.toLowerCase());
  if (!rule) throw objectNotFound(identity);
  return rule;
}

/** One of the rule cmdlets that change a mailbox's rules; each leaves its own exchangeAdmin audit record. */
function ruleCmdlet(name: 'New-InboxRule' | 'Set-InboxRule' | 'Remove-InboxRule', run: (t: Tenant, p: Record<string, unknown>, m: ReturnType<typeof mailboxOf>) => { rule: string; result: Entity[] }): Cmdlet {
  return {
    name,
    writes: true,
    parameters: name === 'New-InboxRule' ? { ...RULE_PARAMETERS, Name: 'string' } : name === 'Set-InboxRule' ? { ...RULE_PARAMETERS, Identity: 'string' } : { Mailbox: 'string', Identity: 'string', ...COMMON },
    required: ['Mailbox', name === 'New-InboxRule' ? 'Name' : 'Identity'],
    run: (t, p) => {
      const m = mailboxOf(t, String(p['Mailbox']));
      const { rule, result } = run(t, p, m);
      const parameters = Object.entries(p).filter(([k]) => !(k in COMMON)).map(([Name, v]) => ({ Name, Value: typeof v === 'string' ? v : JSON.stringify(v) }));
      auditChange(t, { operation: name, mailbox: { upn: m.upn, guid: m.mailbox.id }, actor: 'admin@simulated.example', object: rule, parameters });
      return result;
    },
  };
}

/**
 * Inbox rules in Exchange's form. The rules themselves are held once, per mailbox, by the Graph
 * messageRules entity (graph/entities/message-rules.ts); Get-InboxRule shows the same rules.
 */
export const InboxRule: ExchangeObject = {
  noun: 'InboxRule',
  identity: ['Identity', 'Name', 'RuleIdentity'],
  cmdlets: [
    {
      name: 'Get-InboxRule',
      writes: false,
      parameters: { Mailbox: 'string', Identity: 'string', IncludeHidden: 'switch', ...COMMON },
      required: ['Mailbox'],
      run: (t, p) => {
        const mailbox = find(t.exchange.Mailbox, String(p['Mailbox']), MAILBOX_KEYS);
        const userId = String(mailbox['ExternalDirectoryObjectId']);
        return t.inboxRules.list(userId).map((r) => {
          const actions = (r['actions'] ?? {}) as Record<string, unknown>;
          return {
            id: `${userId}\\${r.id}`,
            Identity: `${mailbox['Identity']}\\${r.id}`,
            Name: r['displayName'],
            RuleIdentity: r.id,
            Enabled: r['isEnabled'],
            Priority: r['sequence'],
            MailboxOwnerId: mailbox['Identity'],
            ForwardTo: exchangeRecipients(actions['forwardTo']),
            ForwardAsAttachmentTo: exchangeRecipients(actions['forwardAsAttachmentTo']),
            RedirectTo: exchangeRecipients(actions['redirectTo']),
            DeleteMessage: actions['delete'] === true,
            StopProcessingRules: actions['stopProcessingRules'] === true,
          };
        });
      },
    },
    ruleCmdlet('New-InboxRule', (t, p, m) => {
      const name = String(p['Name']);
      if (!name.trim()) throw new CmdletError('System.Management.Automation.ParameterBindingException', "Cannot validate argument on parameter 'Name'. The argument is null or empty.");
      const existing = t.inboxRules.list(m.userId);
      const rule: Entity = {
        id: `AQAAA${randomBytes(5).toString('base64')}`, displayName: name, sequence: existing.length + 1, isEnabled: true,
        conditions: {}, actions: actionsOf({}, p), hasError: false, isReadOnly: false,
      };
      t.inboxRules.add(m.userId, rule);
      return { rule: name, result: [] };
    }),
    ruleCmdlet('Set-InboxRule', (t, p, m) => {
      const rule = ruleOf(t, m.userId, String(p['Identity']));
      t.inboxRules.update(m.userId, rule.id, (r) => ({ ...r, actions: actionsOf((r['actions'] ?? {}) as Record<string, unknown>, p) }));
      return { rule: String(rule['displayName']), result: [] };
    }),
    ruleCmdlet('Remove-InboxRule', (t, p, m) => {
      const rule = ruleOf(t, m.userId, String(p['Identity']));
      t.inboxRules.remove(m.userId, rule.id);
      return { rule: String(rule['displayName']), result: [] };
    }),
  ],
};
