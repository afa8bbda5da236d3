import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { graphError, HttpError } from '../../http/errors.js';
import type { Entity } from '../../tenant/collection.js';
import { PerUserStore } from '../../tenant/per-user.js';
import { listPage } from '../odata.js';
import { ctxUrl, entitySchema, graphEntity, obj, slot, type RouteContext } from '../entity.js';
import { findUser } from './users.js';
import { auditChange } from './audit-log-queries.js';

declare module '../../tenant/tenant.js' {
  interface GraphScenarioState {
    /** User id → that mailbox's inbox rules, as Graph messageRule objects. */
    messageRules: Record<string, Entity[]>;
  }
  interface TenantSlots {
    /** Inbox rules per mailbox (keyed by user object id), read through Graph messageRules and Get-InboxRule alike. */
    readonly inboxRules: PerUserStore;
  }
}

/** Inbox rules of each mailbox, in sequence order; those of mailboxes not in `rules` from `generate`. */
export const inboxRuleStore = (rules: Record<string, Entity[]> = {}, generate?: (userId: string) => Entity[]) =>
  new PerUserStore(rules, generate, (a, b) => Number(a['sequence'] ?? 0) - Number(b['sequence'] ?? 0));

/** The user of a `{user}` segment, who must have a mailbox: MailboxNotEnabledForRESTAPI otherwise, as Exchange Online answers. */
export function mailboxUser(c: RouteContext): Entity {
  const user = findUser(c);
  if (!c.tenant.mailboxOf(user.id)) {
    throw new HttpError(graphError(404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.'));
  }
  return user;
}

/** A client's change of a mailbox's rules: the mailbox audit's UpdateInboxRules record. */
function audited(c: RouteContext, user: Entity, rule: string): void {
  const mailbox = c.tenant.mailboxOf(user.id);
  auditChange(c.tenant, {
    operation: 'UpdateInboxRules',
    mailbox: { upn: String(user['userPrincipalName']), ...(typeof mailbox?.['Guid'] === 'string' ? { guid: mailbox['Guid'] } : {}) },
    object: rule,
  });
}

const itemNotFound = () => new HttpError(graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.'));
const rulesContext = (c: RouteContext, entity = '') => ctxUrl(c, `users('${c.params['user']}')/mailFolders('inbox')/messageRules${entity}`);

/** Inbox rules (messageRule) of a mailbox, under the Outlook service limits. A scenario holds them per user id in `messageRules`. */
export const messageRules = graphEntity({
  name: 'messageRules',
  state: slot({
    key: 'messageRules',
    schema: z.record(z.string(), z.array(entitySchema)).default(() => ({})),
    property: 'inboxRules',
    init: (value) => inboxRuleStore(value),
  }),
  throttle: 'mailbox',
  permissions: {
    read: ['MailboxSettings.Read', 'MailboxSettings.ReadWrite'],
    write: ['MailboxSettings.ReadWrite'],
  },
  routes: [
    {
      method: 'GET', pattern: '/users/{user}/mailFolders/inbox/messageRules', permission: 'read',
      handle: (c) => {
        const user = mailboxUser(c);
        // Outlook pages collections: 10 rules a page unless $top says otherwise, the rest behind @odata.nextLink.
        return listPage(c.tenant.inboxRules.list(user.id), c.query, {
          defaultTop: 10, maxTop: 1000, typeName: 'microsoft.graph.messageRule', requestUrl: c.requestUrl,
          context: rulesContext(c), loopNextLink: c.loopNextLink,
        });
      },
    },
    {
      method: 'GET', pattern: '/users/{user}/mailFolders/inbox/messageRules/{id}', permission: 'read',
      handle: (c) => {
        const user = mailboxUser(c);
        const rule = c.tenant.inboxRules.list(user.id).find((r) => r.id === c.params['id']);
        if (!rule) throw itemNotFound();
        return { status: 200, body: { '@odata.context': rulesContext(c, '/$entity'), ...rule } };
      },
    },
    {
      method: 'POST', pattern: '/users/{user}/mailFolders/inbox/messageRules', permission: 'write',
      handle: (c) => {
        const user = mailboxUser(c);
        const b = obj(c.body);
        if (typeof b['displayName'] !== 'string' || !b['displayName']) throw new HttpError(graphError(400, 'ErrorInvalidRequest', "The rule's displayName is required."));
        if (typeof b['sequence'] !== 'number' || !Number.isInteger(b['sequence']) || b['sequence'] < 1) throw new HttpError(graphError(400, 'ErrorInvalidRequest', "The rule's sequence must be a positive integer."));
        const { id: _id, hasError: _hasError, isReadOnly: _readOnly, ...fields } = Object.fromEntries(Object.entries(b).filter(([k]) => !k.startsWith('@odata.')));
        const rule: Entity = { id: `AQAAA${randomBytes(5).toString('base64')}`, isEnabled: true, ...fields, hasError: false, isReadOnly: false };
        c.tenant.inboxRules.add(user.id, rule);
        audited(c, user, String(rule['displayName']));
        return { status: 201, body: { '@odata.context': rulesContext(c, '/$entity'), ...rule } };
      },
    },
    {
      method: 'DELETE', pattern: '/users/{user}/mailFolders/inbox/messageRules/{id}', permission: 'write',
      handle: (c) => {
        const user = mailboxUser(c);
        const rule = c.tenant.inboxRules.list(user.id).find((r) => r.id === c.params['id']);
        if (!rule || !c.tenant.inboxRules.remove(user.id, rule.id)) throw itemNotFound();
        audited(c, user, String(rule['displayName']));
        return { status: 204 };
      },
    },
  ],
});
