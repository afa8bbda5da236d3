import { checkConditionalAccess } from '../checks/conditional-access.js';
import { checkConsent } from '../checks/consent.js';
import { checkForwarding } from '../checks/forwarding.js';
import { checkInbound } from '../checks/inbound.js';
import { checkOwnership } from '../checks/ownership.js';
import { checkSenderAuthentication } from '../checks/sender-authentication.js';
import type { Finding, IncompleteRead } from '../findings/model.js';
import type { Manifest } from '../manifest/schema.js';
import type { LiveState } from '../read/live.js';
import { Evaluation } from './context.js';

/** What each section of the live state is, in the words of an incomplete-read message. */
const SECTION_NAMES: Partial<Record<keyof LiveState, string>> = {
  users: 'users',
  groups: 'groups',
  domains: 'verified domains of the tenant',
  caPolicies: 'conditional access policies',
  authorizationPolicy: 'the authorization policy',
  adminConsentRequestPolicy: 'the admin consent request policy',
  grants: 'delegated permission grants',
  servicePrincipals: 'service principals',
  outboundSpam: 'outbound spam filter policies',
  contentFilter: 'spam filter policies',
  remoteDomains: 'remote domains',
  transportRules: 'transport rules',
  mailboxes: 'mailboxes',
  antiPhish: 'anti-phishing policies',
  dkim: 'DKIM signing configurations',
  acceptedDomains: 'accepted domains',
  inboxRules: 'inbox rules of every mailbox',
};

/**
 * Evaluates every declared control against the live state. Pure: no I/O, the same inputs give the
 * same findings in the same order.
 */
export function evaluate(manifest: Manifest, live: LiveState, today: string): { findings: Finding[]; incomplete: IncompleteRead[] } {
  const ev = new Evaluation(manifest, live, today);
  checkSenderAuthentication(ev);
  checkInbound(ev);
  checkForwarding(ev);
  checkConditionalAccess(ev);
  checkConsent(ev);
  checkOwnership(ev);
  // Every read the run made is complete or listed as not read, even one no check ended up needing:
  // a failed read never leaves the run looking complete.
  for (const [key, section] of Object.entries(live) as Array<[keyof LiveState, LiveState[keyof LiveState]]>) {
    if (key === 'dns' || !section || section instanceof Map || section.ok) continue;
    ev.unread(section, SECTION_NAMES[key] ?? key);
  }
  const order = manifest.controls.map((c) => c.id);
  const findings = [...ev.findings].sort(
    (a, b) => order.indexOf(a.control.versionedId) - order.indexOf(b.control.versionedId) || a.resource.name.localeCompare(b.resource.name) || a.id.localeCompare(b.id),
  );
  return { findings, incomplete: ev.incomplete };
}
