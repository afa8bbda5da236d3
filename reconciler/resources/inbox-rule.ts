import { P } from '../../policies/permissions.js';
import type { InboxRules, MailboxRef, Section } from '../model/live.js';
import { canonicalJson } from '../core/json.js';
import { GraphError } from '../transport/graph.js';
import { nextLinkFormProblem } from '../transport/middleware.js';
import { graphEntity } from './graph-entity.js';
import { isObj, writable } from './compare.js';
import type { Connection } from '../input/connection.js';
import { withoutAnnotations } from '../core/annotations.js';
import type { Obj, ReadContext, Respondable, ResponseTarget, ResponseWrite } from './types.js';

const now = () => new Date().toISOString();

/**
 * Inbox rules of every mailbox, read through Graph `$batch` per mailbox. A rule that forwards
 * outside is deleted (after the evidence trail records it); a rollback creates it again.
 */
const inboxRuleFamily = graphEntity({
  key: 'inboxRule',
  title: 'inbox rules of every mailbox',
  read: {
    section: 'inboxRules',
    how: {
      kind: 'custom',
      endpoint: '/users/{id}/mailFolders/inbox/messageRules ($batch)',
      run: async (ctx, live) => {
        if (!live.mailboxes?.ok) return { ok: false, endpoint: 'inbox rules of every mailbox', readAt: now(), reason: 'read-failed', error: 'the mailbox list could not be read' };
        return readInboxRules(ctx, live.mailboxes.value);
      },
    },
    permissions: [P.mailboxSettingsRead],
    after: ['mailbox'],
  },
  writes: [
    ['POST', '/users/{id}/mailFolders/inbox/messageRules'],
    ['DELETE', '/users/{id}/mailFolders/inbox/messageRules/{id}'],
  ],
  writePermissions: [P.mailboxSettingsWrite],
  writeFor: (f, { live }) => {
    // The mailbox the rule was read from: the rule's id, and the mailbox its name begins with.
    const found = live.inboxRules?.ok ? live.inboxRules.value.rules.filter((x) => String(x.rule['id']) === String(f.resource.id) && f.resource.name.startsWith(`${x.mailbox.upn}: `)) : [];
    if (found.length !== 1) return undefined;
    return { api: 'graph', method: 'DELETE', path: `/users/${encodeURIComponent(found[0]!.mailbox.id)}/mailFolders/inbox/messageRules/${encodeURIComponent(String(f.resource.id))}` };
  },
  // The rule that already does the same in the mailbox: creating it again would duplicate it.
  findCreated: async (conn, w) => {
    const b = w.body ?? {};
    const rules = await conn.graph.list<Obj>(w.path);
    return rules.filter((r) => r['displayName'] === b['displayName'] && canonicalJson(r['actions'] ?? null) === canonicalJson(b['actions'] ?? null) && canonicalJson(r['conditions'] ?? null) === canonicalJson(b['conditions'] ?? null));
  },
  // Every page of the mailbox's rules: the rule may sit past the first.
  readDeleted: async (conn, w) => {
    const list = await conn.graph.list<Obj>(w.path.replace(/\/[^/]+$/, ''));
    return list.find((r) => isObj(r) && w.path.endsWith(`/${encodeURIComponent(String(r['id']))}`)) ?? null;
  },
  recreate: (before, w) => ({ api: 'graph', method: 'POST', path: w.path.replace(/\/[^/]+$/, ''), body: writable(before) }),
});

const nonEmpty = (v: unknown) => Array.isArray(v) && v.length > 0;
/** Whether a rule sends mail away (forward, redirect) or destroys it (delete): what an attacker plants. */
export const isHostileRule = (rule: Obj): boolean => {
  const a = isObj(rule['actions']) ? rule['actions'] : {};
  return nonEmpty(a['forwardTo']) || nonEmpty(a['forwardAsAttachmentTo']) || nonEmpty(a['redirectTo']) || a['delete'] === true || a['permanentDelete'] === true;
};

/**
 * Inbox rules of every mailbox. For `posture respond`'s removeMailRules: every rule of the user's
 * inbox that forwards, redirects or deletes is deleted (a rollback creates it again).
 */
export const inboxRule: typeof inboxRuleFamily & Respondable = {
  ...inboxRuleFamily,
  responds: ['removeMailRules'],
  async respondWrites(_action: string, target: ResponseTarget, conn: Connection): Promise<ResponseWrite[]> {
    const path = `/users/${encodeURIComponent(target.user.id)}/mailFolders/inbox/messageRules`;
    let listed: Obj[];
    try {
      listed = await conn.graph.list<Obj>(path);
    } catch (err) {
      // A user without a mailbox (a service account) has no inbox rules.
      if (err instanceof GraphError && err.status === 404 && /MailboxNotEnabledForRESTAPI|ErrorMailboxNotFound|ResourceNotFound/i.test(err.code)) return [];
      throw err;
    }
    const rules = listed.map((r) => withoutAnnotations(r) as Obj);
    return rules.filter(isHostileRule).map((rule) => ({
      resource: { type: 'inboxRule', id: String(rule['id']), name: `${target.user.upn}: "${String(rule['displayName'] ?? '')}"` },
      write: { api: 'graph', method: 'DELETE', path: `${path}/${encodeURIComponent(String(rule['id']))}` },
      before: rule,
      action: 'delete',
    }));
  },
};

/**
 * The rules of one mailbox from a `$batch` item answered 200: a `value` array of rule objects, and
 * maybe an `@odata.nextLink` to the rest. Anything else is a malformed answer, never "no rules".
 */
function rulesPage(body: unknown): { value: Obj[]; next?: string } | { error: string } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { error: `the answer is ${body === null ? 'null' : Array.isArray(body) ? 'an array' : typeof body}, not a collection of rules` };
  const b = body as Obj;
  if (!Array.isArray(b['value'])) return { error: 'the answer has no value array' };
  if (!b['value'].every((r) => r !== null && typeof r === 'object' && !Array.isArray(r))) return { error: 'the value array holds something that is not a rule' };
  const next = b['@odata.nextLink'];
  if (next !== undefined && typeof next !== 'string') return { error: 'the answer has an @odata.nextLink that is not a URL' };
  // Followed through the Graph transport, which resolves a path against its own root: only an
  // absolute link is a link (`//other.example/…` is another host, not a path on Graph).
  const problem = next === undefined ? undefined : nextLinkFormProblem(next);
  if (problem) return { error: problem };
  return { value: b['value'] as Obj[], ...(next !== undefined ? { next } : {}) };
}

/**
 * Reads the inbox rules of every mailbox through Graph `$batch`, 20 mailboxes per batch, a bounded
 * number of batches in flight. A mailbox whose answer carries an `@odata.nextLink` has the rest read
 * through the Graph transport (which follows links on the Graph endpoint only). Any mailbox whose
 * rules could not be read, or whose answer is malformed, makes the section fail: a partial scan is
 * never reported as a clean one.
 */
export async function readInboxRules(ctx: ReadContext, mailboxes: readonly Obj[]): Promise<Section<InboxRules>> {
  const endpoint = '/users/{id}/mailFolders/inbox/messageRules ($batch)';
  const refs: MailboxRef[] = mailboxes
    .filter((m) => typeof m['ExternalDirectoryObjectId'] === 'string' && m['ExternalDirectoryObjectId'])
    .map((m) => ({ id: String(m['ExternalDirectoryObjectId']), upn: String(m['UserPrincipalName'] ?? m['PrimarySmtpAddress'] ?? '') }));
  const rules: Array<{ mailbox: MailboxRef; rule: Obj }> = [];
  const failures: string[] = [];
  let permissionDenied = false;
  let done = 0;
  const chunks: MailboxRef[][] = [];
  for (let i = 0; i < refs.length; i += 20) chunks.push(refs.slice(i, i + 20));
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const chunk = chunks[next++]!;
      const more: Array<{ mailbox: MailboxRef; link: string }> = [];
      try {
        const replies = await ctx.graph.batch(chunk.map((m, i) => ({ id: String(i), method: 'GET', url: `/users/${m.id}/mailFolders/inbox/messageRules` })));
        chunk.forEach((m, i) => {
          const r = replies.get(String(i));
          if (r && r.status === 200) {
            const page = rulesPage(r.body);
            if ('error' in page) {
              failures.push(`${m.upn || m.id}: malformed answer: ${page.error}`);
              return;
            }
            for (const rule of page.value) rules.push({ mailbox: m, rule });
            if (page.next !== undefined) more.push({ mailbox: m, link: page.next });
          } else if (r && r.status === 404 && (r.body as { error?: { code?: string } })?.error?.code === 'MailboxNotEnabledForRESTAPI') {
            // An inactive or on-premises mailbox has no cloud inbox rules to read.
          } else {
            if (r?.status === 403) permissionDenied = true;
            failures.push(`${m.upn || m.id}: HTTP ${r?.status ?? 0} ${(r?.body as { error?: { code?: string } })?.error?.code ?? ''}`.trim());
          }
        });
      } catch (err) {
        if (err instanceof GraphError && err.status === 403) permissionDenied = true;
        for (const m of chunk) failures.push(`${m.upn || m.id}: ${(err as Error).message}`);
      }
      for (const { mailbox, link } of more) {
        try {
          const rest = await ctx.graph.list<unknown>(link);
          const page = rulesPage({ value: rest });
          if ('error' in page) failures.push(`${mailbox.upn || mailbox.id}: malformed answer: ${page.error}`);
          else for (const rule of page.value) rules.push({ mailbox, rule });
        } catch (err) {
          if (err instanceof GraphError && err.status === 403) permissionDenied = true;
          failures.push(`${mailbox.upn || mailbox.id}: ${(err as Error).message}`);
        }
      }
      done += chunk.length;
      ctx.progress?.(done, refs.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(ctx.batchConcurrency ?? 12, Math.max(1, chunks.length)) }, worker));
  if (failures.length) {
    const error = `inbox rules of ${failures.length} of ${refs.length} mailboxes could not be read (first: ${failures[0]})`;
    return permissionDenied
      ? { ok: false, endpoint, readAt: now(), reason: 'permission-missing', permission: 'MailboxSettings.Read', error }
      : { ok: false, endpoint, readAt: now(), reason: 'read-failed', error };
  }
  return { ok: true, value: { mailboxes: refs.length, rules }, endpoint, readAt: now() };
}
