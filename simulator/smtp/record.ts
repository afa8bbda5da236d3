import type { Entity } from '../tenant/collection.js';
import type { MessageTraceEvent, MessageTraceStatus } from '../graph/entities/message-traces.js';
import { domainOf, type Disposition, type MessageFacts, type Verdict } from './judge.js';

/*
 * What a judged message leaves behind, as the services show it: a message trace row
 * (microsoft.graph.exchangeMessageTrace) and an analyzed email (microsoft.graph.security.analyzedEmail)
 * per recipient. Pure: the listener and the gateway scenario build their records with these.
 */

/** One message as received, for one recipient, with its verdict. */
export interface JudgedMessage {
  /** Shared by every recipient's copy. */
  readonly networkMessageId: string;
  /** The Message-ID header, angle brackets included. */
  readonly internetMessageId: string;
  readonly subject: string;
  readonly size: number;
  /** ISO 8601, seconds: when Exchange Online received it. */
  readonly receivedAt: string;
  readonly facts: MessageFacts;
  /** The From header's display name, if any. */
  readonly displayName?: string | undefined;
  readonly verdict: Verdict;
  /** The ids of the records. */
  readonly analyzedEmailId: string;
  readonly messageTraceId: string;
}

/** Message trace's status for a disposition. */
export const TRACE_STATUS: Readonly<Record<Disposition, MessageTraceStatus>> = { inbox: 'delivered', junk: 'filteredAsSpam', quarantine: 'quarantined', reject: 'failed' };

/** Defender's delivery action and location for a disposition. */
export const DELIVERY: Readonly<Record<Disposition, { action: string; location: string }>> = {
  inbox: { action: 'delivered', location: 'inbox_folder' },
  junk: { action: 'deliveredToJunk', location: 'junkFolder' },
  quarantine: { action: 'blocked', location: 'quarantine' },
  reject: { action: 'blocked', location: 'failed' },
};

const SHOWN: Record<string, string> = { pass: 'Pass', fail: 'Fail', softfail: 'SoftFail', neutral: 'Neutral', none: 'None', permerror: 'PermError', temperror: 'TempError', softpass: 'SoftPass' };
/** A verdict as Defender shows it: Pass, Fail, SoftFail, None, … */
export const shown = (v: string): string => SHOWN[v] ?? v;

/** The events getDetailsByRecipient gives for the message. */
function traceEvents(m: JudgedMessage): MessageTraceEvent[] {
  const receive: MessageTraceEvent = { event: 'Receive', description: `Message received by: ${m.facts.host}` };
  const v = m.verdict;
  switch (v.disposition) {
    case 'reject':
      return [receive, { event: 'Fail', description: `Reason: [{LED=${v.reply ?? '550 5.7.509 Access denied'}}]`, afterSeconds: 1 }];
    case 'quarantine':
      return [receive, { event: 'Quarantine', description: `The message was quarantined: ${v.because}.`, afterSeconds: 1 }];
    case 'junk':
      return [receive, { event: 'Deliver', description: 'The message was delivered to the Junk Email folder.', afterSeconds: 1 }];
    default:
      return [receive, { event: 'Deliver', description: 'The message was successfully delivered.', afterSeconds: 1 }];
  }
}

/**
 * The message trace row. fromIP is the server that connected to Exchange Online: the gateway's on
 * a gateway path. `events` (not a Graph property) keeps what getDetailsByRecipient answers, when asked.
 */
export function messageTraceOf(m: JudgedMessage, o: { events?: boolean } = {}): Entity {
  return {
    id: m.messageTraceId,
    senderAddress: (m.facts.mailFrom || m.facts.from).toLowerCase(),
    recipientAddress: m.facts.recipient.toLowerCase(),
    messageId: m.internetMessageId,
    receivedDateTime: m.receivedAt,
    subject: m.subject,
    size: m.size,
    fromIP: m.verdict.connectingIp,
    toIP: '',
    status: TRACE_STATUS[m.verdict.disposition],
    ...(o.events ? { events: traceEvents(m) } : {}),
  };
}

/** How Defender names the detection that acted. */
function detectionOf(v: Verdict, ownDomain: boolean): string[] {
  if (v.override || v.disposition === 'inbox') return [];
  if (v.action?.startsWith('Dmarc')) return ['spoofDmarc'];
  return [ownDomain ? 'spoofIntraOrg' : 'spoofExternalDomain'];
}

/** The analyzed email, in the shape of the phish-invite scenario's. */
export function analyzedEmailOf(m: JudgedMessage, o: { ownDomain?: (domain: string) => boolean } = {}): Entity {
  const v = m.verdict;
  const fromDomain = domainOf(m.facts.from);
  const delivery = DELIVERY[v.disposition];
  const threats = v.disposition === 'inbox' || v.override ? [] : ['phish'];
  return {
    '@odata.type': '#microsoft.graph.security.analyzedEmail',
    id: m.analyzedEmailId,
    loggedDateTime: m.receivedAt,
    networkMessageId: m.networkMessageId,
    internetMessageId: m.internetMessageId,
    senderDetail: { fromAddress: m.facts.from.toLowerCase(), mailFromAddress: m.facts.mailFrom.toLowerCase(), displayName: m.displayName ?? null, ipv4: v.evaluatedIp, domainName: fromDomain, location: null },
    recipientEmailAddress: m.facts.recipient.toLowerCase(),
    distributionList: null,
    subject: m.subject,
    returnPath: m.facts.mailFrom.toLowerCase(),
    directionality: 'inbound',
    originalDelivery: { ...delivery, latestThreats: '', originalThreats: threats.join(',') },
    latestDelivery: { ...delivery, latestThreats: threats.join(','), originalThreats: threats.join(',') },
    attachments: [],
    urls: [],
    language: 'en',
    sizeInBytes: m.size,
    alertIds: [],
    exchangeTransportRules: v.override?.source === 'Exchange transport rule' ? [{ name: v.override.name, mode: 'enforce' }] : [],
    overrideSources: v.override ? [v.override.source] : [],
    threatTypes: threats,
    detectionMethods: detectionOf(v, o.ownDomain?.(fromDomain) ?? false),
    contexts: [],
    authenticationDetails: { senderPolicyFramework: shown(v.spf), dkim: shown(v.dkim), dmarc: shown(v.dmarc), compositeAuthentication: shown(v.compauth) },
    phishConfidenceLevel: threats.length ? 'high' : 'low',
    spamConfidenceLevel: v.override ? '-1' : v.disposition === 'inbox' ? '1' : '5',
    bulkComplaintLevel: '0',
    emailClusterId: '0',
    policyAction: v.action ? v.action.split(' ')[1]!.replace(/^./, (c) => c.toLowerCase()) : 'none',
    policy: v.action ? (v.policy ?? null) : null,
    timelineEvents: [{ eventDateTime: m.receivedAt, eventType: 'originalDelivery', eventSource: 'system', eventResult: delivery.location }],
    threatDetectionDetails: [],
    primaryOverrideSource: v.override ? v.override.source : null,
    inboundConnectorFormattedName: v.path === 'eop' ? '' : (v.connector ?? ''),
    policyType: v.action ? 'antiPhish' : null,
    clientType: null,
    dlpRules: [],
    forwardingDetail: null,
    recipientDetail: null,
  };
}
