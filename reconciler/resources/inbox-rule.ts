import { P } from '../../policies/permissions.js';
import type { InboxRules, LiveState, MailboxRef, Section } from '../model/live.js';
import type { Write } from '../model/change.js';
import { canonicalJson } from '../core/json.js';
import { readPerMailbox } from '../read/per-mailbox.js';
import { GraphError } from '../transport/graph.js';
import { graphEntity } from './graph-entity.js';
import { isObj, writable } from './compare.js';
import type { Connection } from '../input/connection.js';
import { withoutAnnotations } from '../core/annotations.js';
import type { NarrowReadable, Obj, ReadContext, Respondable, ResponseTarget, ResponseWrite, TouchedRead, Writable } from './types.js';

const now = () => new Date().toISOString();
const mailboxListFailed = (): Section<InboxRules> => ({ ok: false, endpoint: 'inbox rules of every mailbox', readAt: now(), reason: 'read-failed', error: 'the mailbox list could not be read' });

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
      run: async (ctx, live, _m, pages) => {
        if (pages) return readInboxRules(ctx, pages);
        if (!live.mailboxes?.ok) return mailboxListFailed();
        return readInboxRules(ctx, live.mailboxes.value);
      },
    },
    permissions: [P.mailboxSettingsRead],
    // Each page of mailboxes has its rules read while the next page is.
    alongside: 'mailbox',
    // A rule change does not move the mailbox's WhenChanged: the audit log names the mailboxes whose
    // rules changed (an admin's cmdlet, or a client's UpdateInboxRules).
    incremental: {
      kind: 'per-mailbox',
      mailboxOf: (url) => /^\/users\/([^/?]+)\/mailFolders\/inbox\/messageRules$/.exec(url)?.[1],
      auditOperations: ['New-InboxRule', 'Set-InboxRule', 'Remove-InboxRule', 'Enable-InboxRule', 'Disable-InboxRule', 'UpdateInboxRules'],
    },
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

/** The mailbox (user object id) an inbox rule write acts in, from its path. */
function mailboxOf(w: Write): string | undefined {
  if (w.api !== 'graph') return undefined;
  const m = /^\/users\/([^/]+)\/mailFolders\/inbox\/messageRules(?:\/[^/]+)?$/.exec(w.path);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return undefined;
  }
}

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
export const inboxRule: typeof inboxRuleFamily & Respondable & NarrowReadable & Required<Pick<Writable, 'limitScope'>> = {
  ...inboxRuleFamily,
  // The service limits requests per mailbox (4 at once): one mailbox's changes go one after another.
  limitScope: (w) => {
    const id = mailboxOf(w);
    return id === undefined ? inboxRuleFamily.targetKey(w) : `mailbox ${id.toLowerCase()}`;
  },
  /**
   * For apply's preflight: the rules of the mailboxes the writes name, read as the full read reads
   * them (the same `$batch` reader), and each write's target from them, so it is not read again.
   */
  async readTouched(ctx: ReadContext, live: LiveState, writes: readonly Write[]): Promise<TouchedRead> {
    if (!live.mailboxes?.ok) return { section: mailboxListFailed() };
    const ids = new Set(writes.map(mailboxOf).filter((id): id is string => id !== undefined).map((id) => id.toLowerCase()));
    const touched = live.mailboxes.value.filter((m) => typeof m['ExternalDirectoryObjectId'] === 'string' && ids.has(m['ExternalDirectoryObjectId'].toLowerCase()));
    const section = await readInboxRules(ctx, touched);
    if (!section.ok) return { section };
    const targets = writes.map((w) => {
      if (w.api !== 'graph' || w.method !== 'DELETE') return undefined;
      const id = mailboxOf(w)?.toLowerCase();
      const found = section.value.rules.find((x) => x.mailbox.id.toLowerCase() === id && w.path.endsWith(`/${encodeURIComponent(String(x.rule['id']))}`));
      return found ? withoutAnnotations(found.rule) : null;
    });
    return { section, targets };
  },
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
 * Reads the inbox rules of every mailbox through Graph `$batch` (read/per-mailbox.ts: 20 mailboxes a
 * batch, a bounded number in flight, the rest of a mailbox behind its next link). Any mailbox whose
 * rules could not be read, or whose answer is malformed, makes the section fail: a partial scan is
 * never reported as a clean one.
 */
export async function readInboxRules(ctx: ReadContext, mailboxes: readonly Obj[] | AsyncIterable<readonly Obj[]>): Promise<Section<InboxRules>> {
  const endpoint = '/users/{id}/mailFolders/inbox/messageRules ($batch)';
  const refs: MailboxRef[] = [];
  const refsOf = (page: readonly Obj[]) => {
    const start = refs.length;
    for (const m of page) {
      if (typeof m['ExternalDirectoryObjectId'] !== 'string' || !m['ExternalDirectoryObjectId']) continue;
      refs.push({ id: String(m['ExternalDirectoryObjectId']), upn: String(m['UserPrincipalName'] ?? m['PrimarySmtpAddress'] ?? '') });
    }
    return refs.slice(start).map((r, i) => ({ key: String(start + i), label: r.upn || r.id, url: `/users/${r.id}/mailFolders/inbox/messageRules` }));
  };
  const reads = Array.isArray(mailboxes)
    ? refsOf(mailboxes as readonly Obj[])
    : (async function* () {
        for await (const page of mailboxes as AsyncIterable<readonly Obj[]>) yield refsOf(page);
      })();
  let read: Awaited<ReturnType<typeof readPerMailbox>>;
  try {
    read = await readPerMailbox(ctx.graph, reads, 'rules', ctx.batchConcurrency ?? 20, ctx.progress);
  } catch {
    // The mailbox list failed part way: its own section says how; no mailbox's rules are a clean answer.
    return mailboxListFailed();
  }
  if (read.failures.length) {
    const error = `inbox rules of ${read.failures.length} of ${refs.length} mailboxes could not be read (first: ${read.failures[0]})`;
    return read.denied
      ? { ok: false, endpoint, readAt: now(), reason: 'permission-missing', permission: 'MailboxSettings.Read', error }
      : { ok: false, endpoint, readAt: now(), reason: 'read-failed', error };
  }
  const rules = refs.flatMap((mailbox, i) => (read.items.get(String(i)) ?? []).map((rule) => ({ mailbox, rule })));
  return { ok: true, value: { mailboxes: refs.length, rules }, endpoint, readAt: now() };
}
