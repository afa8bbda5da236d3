/**
 * `--deliver-alerts` of plan and drift: the effects around the pure decision of
 * `alerts/decide.ts`. The destinations' URLs are read from the environment (and remembered as
 * secrets, so no output can show them) before the tenant is read; after the plan, each alert is
 * posted (`transport/webhook.ts`) and its outcome appended to the evidence trail, and the run ends
 * with an `alert-run` record of the findings open in it.
 */
import { readFileSync, existsSync } from 'node:fs';
import { decideAlerts } from '../alerts/decide.js';
import { alertMessage, alertPayload } from '../alerts/payload.js';
import { redactText, rememberSecretUrl } from '../core/redact.js';
import type { EvidenceActor, EvidenceRecord } from '../evidence/records.js';
import type { EvidenceTrail } from '../evidence/store.js';
import { trailRecords } from '../evidence/verify.js';
import { InputError } from '../input/synth-output.js';
import type { AlertDestination } from '../manifest/alerts.js';
import type { Manifest } from '../manifest/schema.js';
import type { PlanDocument } from '../model/plan.js';
import { postWebhook, webhookUrlProblem, type WebhookPolicy } from '../transport/webhook.js';

/** A destination with the URL its variable holds. */
export interface ResolvedDestination {
  readonly destination: AlertDestination;
  readonly url: string;
}

/** How a destination is named in messages: its variable and kind, never its URL. */
export const destinationName = (d: AlertDestination): string => `${d.urlFromEnv} (${d.kind})`;

/**
 * The declared destinations with their URLs, from `env`. Refuses, naming the variable (never its
 * value), a posture without destinations, a variable that is not set, and a URL that is not https
 * (or http on loopback).
 */
export function resolveDestinations(manifest: Manifest, env: NodeJS.ProcessEnv): ResolvedDestination[] {
  const declared = manifest.alerts?.destinations ?? [];
  if (declared.length === 0) throw new InputError(`--deliver-alerts: the posture of stack ${manifest.stack} declares no alert destinations (EmailSecurityPosture alerts.destinations)`);
  return declared.map((destination) => {
    const url = env[destination.urlFromEnv];
    if (url === undefined || url.trim() === '') throw new InputError(`--deliver-alerts: the environment variable ${destination.urlFromEnv} (the URL of the ${destination.kind} alert destination) is not set`);
    rememberSecretUrl(url);
    const problem = webhookUrlProblem(url);
    if (problem) throw new InputError(`--deliver-alerts: the environment variable ${destination.urlFromEnv} ${problem}`);
    return { destination, url };
  });
}

export interface AlertRunResult {
  readonly delivered: number;
  /** One line per failed delivery, naming the destination by its variable, and the cause. */
  readonly failures: readonly string[];
}

/** Decides, sends and records the alerts of a plan. */
export async function deliverAlerts(o: {
  plan: PlanDocument;
  manifest: Manifest;
  destinations: readonly ResolvedDestination[];
  trail: EvidenceTrail;
  runId: string;
  actor: EvidenceActor;
  policy: WebhookPolicy;
  info: (message: string) => void;
}): Promise<AlertRunResult> {
  const records: EvidenceRecord[] = existsSync(o.trail.path) ? trailRecords(readFileSync(o.trail.path, 'utf8')) : [];
  const { deliveries, open } = decideAlerts({
    findings: o.plan.findings,
    controls: o.manifest.controls,
    destinations: o.destinations.map((d) => d.destination),
    records,
    tenantId: o.plan.tenantId,
    stack: o.plan.stack,
  });
  const urls = new Map(o.destinations.map((d) => [d.destination, d.url]));
  const tenant = { id: o.plan.tenantId, stack: o.plan.stack, organization: o.plan.organization };
  const failures: string[] = [];
  let delivered = 0;
  // A destination that gave no answer at all, after its retries, is not tried again in this run.
  const down = new Map<AlertDestination, string>();
  for (const d of deliveries) {
    const cause = down.get(d.destination);
    const result = cause
      ? { ok: false as const, attempts: 0, error: `not sent: ${cause} for an earlier alert of this run` }
      : await postWebhook(urls.get(d.destination)!, alertPayload(d.destination.kind, alertMessage(d.finding, d.reason, tenant)), o.policy);
    if (!result.ok && result.status === undefined && !cause) down.set(d.destination, result.error);
    const error = result.ok ? undefined : redactText(result.error);
    o.trail.append({
      kind: 'alert-delivery',
      runId: o.runId,
      actor: o.actor,
      planHash: o.plan.planHash,
      tenantId: o.plan.tenantId,
      stack: o.plan.stack,
      findingId: d.finding.id,
      control: d.finding.control.versionedId,
      reason: d.reason,
      findingStatus: d.finding.status,
      destination: { kind: d.destination.kind, urlFromEnv: d.destination.urlFromEnv },
      result: result.ok ? 'delivered' : 'failed',
      attempts: result.attempts,
      ...(result.status !== undefined ? { httpStatus: result.status } : {}),
      ...(error !== undefined ? { error } : {}),
    });
    if (result.ok) delivered++;
    else failures.push(`alert ${d.finding.control.versionedId} ${d.finding.id} to ${destinationName(d.destination)} failed: ${error}; it is sent again next run`);
  }
  o.trail.append({
    kind: 'alert-run',
    runId: o.runId,
    actor: o.actor,
    planHash: o.plan.planHash,
    tenantId: o.plan.tenantId,
    stack: o.plan.stack,
    complete: o.plan.incomplete.length === 0,
    open: [...open],
    ...(o.plan.controls ? { evaluated: o.plan.controls.filter((c) => c.mode === 'alert' && c.result !== 'not-evaluated').map((c) => c.control.id).sort() } : {}),
    counts: { delivered, failed: failures.length },
  });
  o.info(`alerts: ${delivered} delivered, ${failures.length} failed, ${open.length} open finding${open.length === 1 ? '' : 's'} of alert-mode controls`);
  return { delivered, failures };
}
