/**
 * Which alerts a run delivers: a pure function of the run's findings, the manifest's control modes
 * and destinations, and the alert records of the evidence trail. Sending them is
 * `transport/webhook.ts`'s job; the CLI records each outcome.
 *
 * - Only controls in `alert` mode alert. `report` is for reading the plan; `remediate` controls are
 *   fixed by apply, whose plan goes to reviewers, so they do not alert either.
 * - A finding alerts when it is to act on (drift, missing, unmanaged, violation, exception-expired);
 *   excepted and not-evaluated findings never do.
 * - Once per finding and destination: a finding with a `delivered` record for a destination is not
 *   sent there again while it stays open. It is sent again when a complete run after that delivery
 *   did not have it open (it was resolved, or excepted) and it is back: `reopened`, or
 *   `exception-expired` when it came back because its exception expired. A `failed` record does not
 *   count: the finding is sent again next run.
 * - Only records of the same tenant and stack count.
 */
import type { AlertReason, EvidenceRecord } from '../evidence/records.js';
import type { AlertDestination } from '../manifest/alerts.js';
import type { ControlEntry } from '../manifest/schema.js';
import { ACTIONABLE, type Finding } from '../model/finding.js';

export interface AlertDecisionInput {
  readonly findings: readonly Finding[];
  /** The manifest's controls: each versioned id's mode. */
  readonly controls: readonly ControlEntry[];
  readonly destinations: readonly AlertDestination[];
  /** The evidence trail's records, in file order (other kinds are ignored). */
  readonly records: readonly EvidenceRecord[];
  readonly tenantId: string;
  readonly stack: string;
}

/** One alert to send: a finding, to one destination, and why. */
export interface AlertDelivery {
  readonly finding: Finding;
  readonly destination: AlertDestination;
  readonly reason: AlertReason;
}

export interface AlertDecision {
  readonly deliveries: readonly AlertDelivery[];
  /** The ids of the findings of alert-mode controls open in this run, sorted: the `open` of its `alert-run` record. */
  readonly open: readonly string[];
}

/** The key a destination is known by in the trail: its kind and the variable that holds its URL. */
export const destinationKey = (d: { readonly kind: string; readonly urlFromEnv: string }): string => `${d.kind}:${d.urlFromEnv}`;

/** Does a destination take alerts of this control (unversioned id)? */
const admits = (d: AlertDestination, controlId: string): boolean => d.controls === undefined || d.controls.includes(controlId);

export function decideAlerts(input: AlertDecisionInput): AlertDecision {
  const modes = new Map(input.controls.map((c) => [c.id, c.mode]));
  const alerting = input.findings.filter((f) => (modes.get(f.control.versionedId) ?? f.mode) === 'alert' && ACTIONABLE.includes(f.status));
  // One finding per id (a finding id is unique in a plan; the first wins if not).
  const byId = new Map<string, Finding>();
  for (const f of alerting) if (!byId.has(f.id)) byId.set(f.id, f);
  const open = [...byId.keys()].sort();

  const same = (r: { tenantId: string; stack: string }) => r.tenantId.toLowerCase() === input.tenantId.toLowerCase() && r.stack === input.stack;
  /** Last `delivered` seq per finding and destination, and the first per finding to any destination. */
  const delivered = new Map<string, number>();
  const firstDelivered = new Map<string, number>();
  /** Last seq of a run that judged the finding's control (every run that read everything does) and did not find it open. */
  const closed = new Map<string, number>();
  for (const r of input.records) {
    if (r.kind === 'alert-delivery' && r.result === 'delivered' && same(r) && byId.has(r.findingId)) {
      delivered.set(`${r.findingId} ${destinationKey(r.destination)}`, r.seq);
      if (!firstDelivered.has(r.findingId)) firstDelivered.set(r.findingId, r.seq);
    } else if (r.kind === 'alert-run' && same(r)) {
      const wasOpen = new Set(r.open);
      const judged = new Set(r.evaluated ?? []);
      for (const [id, f] of byId) if (!wasOpen.has(id) && (r.complete || judged.has(f.control.id))) closed.set(id, r.seq);
    }
  }

  const deliveries: AlertDelivery[] = [];
  for (const f of byId.values()) {
    const closedAt = closed.get(f.id) ?? 0;
    // Reopened: alerted in an earlier spell of the finding, which a complete run then saw closed.
    const before = firstDelivered.get(f.id);
    const reason: AlertReason = f.status === 'exception-expired' ? 'exception-expired' : before !== undefined && closedAt > before ? 'reopened' : 'new';
    for (const d of input.destinations) {
      if (!admits(d, f.control.id)) continue;
      const last = delivered.get(`${f.id} ${destinationKey(d)}`);
      if (last === undefined || closedAt > last) deliveries.push({ finding: f, destination: d, reason });
    }
  }
  return { deliveries, open };
}
