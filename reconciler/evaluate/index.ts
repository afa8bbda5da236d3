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
  const order = manifest.controls.map((c) => c.id);
  const findings = [...ev.findings].sort(
    (a, b) => order.indexOf(a.control.versionedId) - order.indexOf(b.control.versionedId) || a.resource.name.localeCompare(b.resource.name) || a.id.localeCompare(b.id),
  );
  return { findings, incomplete: ev.incomplete };
}
