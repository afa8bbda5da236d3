import { P } from '../../policies/permissions.js';
import { withoutAnnotations } from '../core/annotations.js';
import type { Connection } from '../input/connection.js';
import type { Write } from '../model/change.js';
import { graphWriteOf } from './graph-entity.js';
import { discoverDmarc, type TxtResolver } from '../dns/lookup.js';
import type { FailedInboundMail, FailedMessage } from '../model/live.js';
import type { Obj, ReadContext, Respondable, ResourceType, ResponseTarget, ResponseWrite, Writable } from './types.js';

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
  read: {
    section: 'failedInboundMail',
    how: { kind: 'custom', endpoint: '/security/collaboration/analyzedEmails', run: (ctx, _live, m) => readFailedInbound(ctx, m.desired.inboundPaths?.evidenceDays ?? 0) },
    permissions: [P.analyzedMessageRead],
    licence: 'Microsoft Defender for Office 365',
  },
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

/** A verdict of `authenticationDetails` that says the check failed (a soft fail is not a failure). */
const failed = (v: unknown) => typeof v === 'string' && /^\s*fail/i.test(v);
const passed = (v: unknown) => typeof v === 'string' && /^\s*(pass|softpass)\b/i.test(v);
const str = (v: unknown) => (typeof v === 'string' ? v : '');
const sub = (o: unknown, k: string): Obj => (o && typeof o === 'object' && (o as Obj)[k] && typeof (o as Obj)[k] === 'object' ? ((o as Obj)[k] as Obj) : {});
/** How many sender domains' DMARC policies one run looks up; the rest count as unknown. */
export const MAX_SENDER_DOMAIN_LOOKUPS = 2000;

/** One failing inbound copy, reduced to what the path evidence uses. */
export function failedMessageOf(e: Obj): Omit<FailedMessage, 'senderPolicy'> | undefined {
  if (str(e['directionality']).toLowerCase() !== 'inbound') return undefined;
  const auth = sub(e, 'authenticationDetails');
  const spf = str(auth['senderPolicyFramework']);
  const dmarc = str(auth['dmarc']);
  const compauth = str(auth['compositeAuthentication']);
  // A message DMARC or composite authentication passed is authentic whatever SPF says: behind a
  // gateway without enhanced filtering SPF judges the gateway's address and fails for ordinary mail.
  if (passed(dmarc) || passed(compauth)) return undefined;
  if (!failed(spf) && !failed(dmarc) && !failed(compauth)) return undefined;
  const sender = sub(e, 'senderDetail');
  const from = str(sender['fromAddress']).toLowerCase();
  const original = sub(e, 'originalDelivery');
  const latest = sub(e, 'latestDelivery');
  return {
    networkMessageId: str(e['networkMessageId']),
    internetMessageId: str(e['internetMessageId']),
    recipient: str(e['recipientEmailAddress']).toLowerCase(),
    sender: from,
    senderIp: str(sender['ipv4']) || str(sender['ipv6']),
    subject: str(e['subject']),
    receivedAt: str(e['loggedDateTime']),
    connector: str(e['inboundConnectorFormattedName']),
    authentication: { spf, dkim: str(auth['dkim']), dmarc, compauth },
    delivered: { action: str(original['action'] ?? latest['action']), location: str(original['location'] ?? latest['location']) },
    latestLocation: str(latest['location']),
    overrideSources: Array.isArray(e['overrideSources']) ? (e['overrideSources'] as unknown[]).map(String) : [],
  };
}

/** How long Defender keeps analyzed emails: a period that starts earlier cannot be read whole. */
export const ANALYZED_EMAIL_RETENTION_DAYS = 30;

/**
 * Inbound mail of the `days` days up to `asOf` (now by default) that failed SPF, DMARC or composite
 * authentication, with the DMARC policy each sender domain publishes (what turns a DMARC failure into
 * a p=reject or a p=quarantine failure). Read page by page; only failing copies are kept. `days` 0
 * reads nothing. A period reaching past the service's retention fails: it would read as no mail.
 */
async function readFailedInbound(ctx: ReadContext, days: number): Promise<{ ok: true; value: FailedInboundMail; endpoint: string; readAt: string }> {
  const endpoint = '/security/collaboration/analyzedEmails';
  const now = ctx.now ?? new Date();
  const to = new Date(Math.min((ctx.asOf ?? now).getTime(), now.getTime()));
  const from = new Date(to.getTime() - days * 86_400_000);
  if (days > 0 && from.getTime() < now.getTime() - ANALYZED_EMAIL_RETENTION_DAYS * 86_400_000) {
    throw new Error(`the evidence period starts ${from.toISOString()}, more than ${ANALYZED_EMAIL_RETENTION_DAYS} days before now: Defender keeps analyzed emails for ${ANALYZED_EMAIL_RETENTION_DAYS} days, so the period cannot be read whole`);
  }
  const value: { from: string; to: string; days: number; messages: FailedMessage[]; read: number; unresolved: string[]; notLookedUp: number } = { from: from.toISOString(), to: to.toISOString(), days, messages: [], read: 0, unresolved: [], notLookedUp: 0 };
  if (days > 0) {
    const kept: Array<Omit<FailedMessage, 'senderPolicy'>> = [];
    const path = `${endpoint}?startTime=${encodeURIComponent(value.from)}&endTime=${encodeURIComponent(value.to)}&$top=1000`;
    for await (const page of ctx.graph.pages<Obj>(path)) {
      value.read += page.length;
      for (const e of page) {
        const f = failedMessageOf(withoutAnnotations(e) as Obj);
        if (f) kept.push(f);
      }
    }
    const looked = await senderPolicies([...new Set(kept.map((k) => k.sender.split('@')[1] ?? '').filter(Boolean))], ctx.resolver);
    value.messages = kept.map((k) => ({ ...k, senderPolicy: looked.policies.get(k.sender.split('@')[1] ?? '') ?? 'unknown' }));
    value.unresolved = looked.unresolved;
    value.notLookedUp = looked.notLookedUp;
  }
  return { ok: true, value, endpoint, readAt: new Date().toISOString() };
}

/** Sender domains looked up at once. */
const LOOKUPS_AT_ONCE = 16;

/**
 * The DMARC policy (p, or sp for a subdomain of the organisational domain) each domain publishes,
 * at most {@link MAX_SENDER_DOMAIN_LOOKUPS} domains, {@link LOOKUPS_AT_ONCE} at a time. A domain whose
 * lookup failed is `unresolved`; those past the cap are counted. Both stay `unknown`, which the
 * evidence judges as p=reject, the strictest: an unknown policy never lowers what is required.
 */
async function senderPolicies(domains: readonly string[], resolver: TxtResolver): Promise<{ policies: Map<string, FailedMessage['senderPolicy']>; unresolved: string[]; notLookedUp: number }> {
  const policies = new Map<string, FailedMessage['senderPolicy']>();
  const unresolved: string[] = [];
  const asked = domains.slice(0, MAX_SENDER_DOMAIN_LOOKUPS);
  let next = 0;
  const worker = async () => {
    while (next < asked.length) {
      const d = asked[next++]!;
      const found = await discoverDmarc(d, resolver).catch(() => undefined);
      const r = found?.record;
      if (!found || found.dnsError) {
        policies.set(d, 'unknown');
        unresolved.push(d);
      } else if (!r) policies.set(d, 'none');
      else policies.set(d, found.recordDomain && found.recordDomain !== found.domain && r.sp ? r.sp : r.p);
    }
  };
  await Promise.all(Array.from({ length: Math.min(LOOKUPS_AT_ONCE, asked.length) }, worker));
  return { policies, unresolved: unresolved.sort(), notLookedUp: domains.length - asked.length };
}
