import { P } from '../../policies/permissions.js';
import { withoutAnnotations } from '../core/annotations.js';
import type { Connection } from '../input/connection.js';
import type { Write } from '../model/change.js';
import { graphWriteOf } from './graph-entity.js';
import type { Obj, Respondable, ResourceType, ResponseTarget, ResponseWrite, Writable } from './types.js';

const REMEDIATE = '/security/collaboration/analyzedEmails/remediate';
/** Where a remediated copy may be: nowhere a user reads it. */
const CONTAINED = new Set(['deletedfolder', 'quarantine', 'junkfolder', 'dropped', 'failed']);

type GraphWrite = Write & { api: 'graph' };
const graphOnly = (w: Write): GraphWrite => graphWriteOf(w, 'copies of messages');

/** The one copy a remediation names: its network message id and recipient. */
function copyOf(w: Write): { networkMessageId: string; recipient: string } {
  const body = (graphOnly(w).body ?? {}) as Obj;
  const named = Array.isArray(body['analyzedEmails']) ? (body['analyzedEmails'] as Obj[]) : [];
  if (named.length !== 1) throw new Error('a remediation of the response names exactly one copy of a message');
  return { networkMessageId: String(named[0]!['networkMessageId'] ?? ''), recipient: String(named[0]!['recipientEmailAddress'] ?? '') };
}

const quoted = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** The copy as the service lists it now (null: it lists none). */
async function readCopy(conn: Connection, c: { networkMessageId: string; recipient: string }): Promise<Obj | null> {
  const filter = `networkMessageId eq ${quoted(c.networkMessageId)} and recipientEmailAddress eq ${quoted(c.recipient)}`;
  const found = await conn.graph.list<Obj>(`/security/collaboration/analyzedEmails?$filter=${encodeURIComponent(filter)}`);
  if (found.length > 1) throw new Error(`the service lists ${found.length} copies of message ${c.networkMessageId} for ${c.recipient}`);
  return found.length ? (withoutAnnotations(found[0]) as Obj) : null;
}

const locationOf = (v: unknown): string => {
  const latest = v && typeof v === 'object' ? (v as Obj)['latestDelivery'] : undefined;
  return latest && typeof latest === 'object' ? String((latest as Obj)['location'] ?? '') : '';
};

/** The parts of a copy a remediation changes and the plan compares: which copy, and where it is; nothing of the service's bookkeeping. */
const view = (c: { id: unknown; networkMessageId: unknown; recipient: unknown; location: string }) => ({
  id: String(c.id ?? ''),
  networkMessageId: String(c.networkMessageId ?? '').toLowerCase(),
  recipientEmailAddress: String(c.recipient ?? '').toLowerCase(),
  latestDelivery: { location: c.location },
});
const viewOf = (e: Obj) => view({ id: e['id'], networkMessageId: e['networkMessageId'], recipient: e['recipientEmailAddress'], location: locationOf(e) });

/**
 * The copies of a message in users' mailboxes, as Defender for Office 365 analyses them: for a
 * phishing chain's purgeMessage, each copy still where its recipient reads it is soft-deleted
 * (POST analyzedEmails/remediate, one copy a request, so each write is verified by itself). The
 * service answers 202 and moves the copy in its own time: a copy not yet moved reads back as not
 * taken, and the chain stays open for the next run to check. A purge is not undone by rollback.
 */
export const analyzedEmail: ResourceType & Writable & Respondable = {
  key: 'analyzedEmail',
  title: 'copies of messages in mailboxes',
  writes: { graph: [['POST', REMEDIATE]] },
  writePermissions: [P.analyzedMessageWrite],
  writeFor: () => undefined,
  async readTarget(conn, w) {
    const found = await readCopy(conn, copyOf(w));
    return found ? viewOf(found) : null;
  },
  async readBack(conn, w) {
    return { value: await analyzedEmail.readTarget(conn, w) };
  },
  took(_w, after) {
    if (after === null) return 'the copy can no longer be read';
    const at = locationOf(after);
    return CONTAINED.has(at.toLowerCase()) ? undefined : `the copy is still in ${at || 'an unknown folder'} (the service may still be moving it)`;
  },
  effect: () => 'update',
  targetKey: (w) => {
    const c = copyOf(w);
    return `analyzedEmail ${c.networkMessageId.toLowerCase()} ${c.recipient.toLowerCase()}`;
  },
  responds: ['purgeMessage'],
  // The copies as the chain's trace read them a moment ago: apply reads each again before its write.
  async respondWrites(_action: string, target: ResponseTarget): Promise<ResponseWrite[]> {
    const chain = target.chain;
    if (!chain) return [];
    return chain.purge
      .filter((c) => c.mailboxId.toLowerCase() === target.user.id.toLowerCase() && c.analyzedEmailId !== undefined && !CONTAINED.has(c.latestLocation.toLowerCase()))
      .map((c) => ({
        resource: { type: 'analyzedEmail', id: c.analyzedEmailId!, name: `${c.recipient}: "${chain.subject}"` },
        write: {
          api: 'graph',
          method: 'POST',
          path: REMEDIATE,
          body: {
            displayName: `email-posture: phishing chain ${chain.networkMessageId}`,
            description: 'Soft-delete of a phishing message, decided by the response policy',
            severity: 'high',
            action: 'softDelete',
            remediateSendersCopy: false,
            analyzedEmails: [{ networkMessageId: chain.networkMessageId, recipientEmailAddress: c.recipient }],
          },
        },
        before: view({ id: c.analyzedEmailId, networkMessageId: chain.networkMessageId, recipient: c.recipient, location: c.latestLocation }),
        action: 'update' as const,
      }));
  },
};
