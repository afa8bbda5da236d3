import { checkAuthentication } from '../checks/authentication.js';
import { checkConditionalAccess, checkSmtpAuth } from '../checks/conditional-access.js';
import { checkConsent } from '../checks/consent.js';
import { checkExposure } from '../checks/exposure.js';
import { checkForwarding } from '../checks/forwarding.js';
import { checkInbound } from '../checks/inbound.js';
import { checkMailApps } from '../checks/mail-apps.js';
import { checkLinksAttachments } from '../checks/links-attachments.js';
import { linksPopulations } from '../checks/links-populations.js';
import { checkOwnership } from '../checks/ownership.js';
import { checkInboundPaths } from '../checks/paths.js';
import { checkSenderAuthentication } from '../checks/sender-authentication.js';
import { checkThreatProtection } from '../checks/threat-protection.js';
import { resolveControl, versionedId } from '../../policies/catalogue.js';
import { ACTIONABLE, type Finding, type IncompleteRead } from '../model/finding.js';
import type { ControlResult } from '../model/plan.js';
import type { Manifest } from '../manifest/schema.js';
import type { LiveState } from '../model/live.js';
import type { PathMap } from '../model/paths.js';
import { RESOURCES, resourceType } from '../resources/registry.js';
import { Evaluation, type Scope } from './context.js';

/** What a section of the live state is, in the words of an incomplete-read message: the title of the type read into it. */
const sectionTitle = (key: keyof LiveState) => RESOURCES.find((t) => t.read?.section === key)?.title ?? key;

/**
 * Evaluates every declared control against the live state. Pure: no I/O, the same inputs give the
 * same findings in the same order.
 */
export function evaluate(
  manifest: Manifest,
  live: LiveState,
  today: string,
): { findings: Finding[]; incomplete: IncompleteRead[]; controls: ControlResult[]; inboundPaths?: PathMap; scopes: ReadonlyMap<string, readonly Scope[]> } {
  const ev = new Evaluation(manifest, live, today);
  checkSenderAuthentication(ev);
  checkInbound(ev);
  const inboundPaths = checkInboundPaths(ev);
  checkThreatProtection(ev);
  checkForwarding(ev);
  checkConditionalAccess(ev);
  checkSmtpAuth(ev);
  checkConsent(ev);
  checkMailApps(ev);
  checkExposure(ev);
  checkAuthentication(ev);
  checkOwnership(ev);
  checkLinksAttachments(ev, linksPopulations(ev));
  // Every read the run made is complete or listed as not read, even one no check ended up needing:
  // a failed read never leaves the run looking complete.
  for (const [key, section] of Object.entries(live) as Array<[keyof LiveState, LiveState[keyof LiveState]]>) {
    if (key === 'dns' || !section || section instanceof Map || section.ok) continue;
    ev.unread(section, sectionTitle(key));
  }
  const order = manifest.controls.map((c) => c.id);
  const findings = [...ev.findings].sort(
    (a, b) => order.indexOf(a.control.versionedId) - order.indexOf(b.control.versionedId) || a.resource.name.localeCompare(b.resource.name) || a.id.localeCompare(b.id),
  );
  return { findings, incomplete: ev.incomplete, controls: controlResults(ev, findings), ...(inboundPaths ? { inboundPaths } : {}), scopes: ev.scopes };
}

/**
 * What the run made of each declared control. A control passes only when a check of it ran on data
 * it could judge and nothing was found; a control with a failed read, or nothing a check could
 * judge, is not evaluated, never passed. A finding to act on makes it failed, whatever else.
 */
function controlResults(ev: Evaluation, findings: readonly Finding[]): ControlResult[] {
  return ev.manifest.controls.flatMap((entry): ControlResult[] => {
    const resolved = resolveControl(entry.id);
    if ('error' in resolved) return [];
    const control = resolved.control;
    const own = findings.filter((f) => f.control.id === control.id);
    const notRead = own.filter((f) => f.status === 'not-evaluated');
    const unjudged = ev.unjudged.get(control.id) ?? [];
    const why = [...notRead.map((f) => f.notEvaluated?.detail ?? f.summary), ...unjudged];
    if (why.length === 0 && own.length === 0 && !ev.checked.has(control.id)) why.push('no check of it had anything to judge');
    const result = own.some((f) => ACTIONABLE.includes(f.status)) ? 'failed' : why.length > 0 ? 'not-evaluated' : own.length > 0 ? 'excepted' : 'passed';
    return [
      {
        control: { id: control.id, version: control.version, versionedId: versionedId(control), title: control.title },
        severity: control.severity,
        owner: entry.owner,
        mode: entry.mode,
        result,
        checks: control.checks.map((c) => ({ id: c.id, description: c.description })),
        reads: control.resources.read.map((k) => resourceType(k).title),
        findings: own.length,
        ...(result === 'not-evaluated' ? { notEvaluated: [...new Set(why)].join('; ') } : {}),
      },
    ];
  });
}
