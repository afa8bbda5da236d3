import type { Directory } from '../evaluate/context.js';
import type { Manifest } from '../manifest/schema.js';
import { fingerprintOf, type PlannedChange } from '../model/change.js';
import type { Finding } from '../model/finding.js';
import type { LiveState } from '../model/live.js';
import { isWritable, resourceType } from '../resources/registry.js';

/**
 * Turns the remediable findings into writes, each by its resource type. Findings apply may not
 * touch, and findings of read-only types, give none. Pure.
 */
export function plannedChanges(findings: readonly Finding[], manifest: Manifest, live: LiveState, dir: Directory): PlannedChange[] {
  const out: PlannedChange[] = [];
  for (const f of findings) {
    if (!f.change.automatic || f.change.action === 'none') continue;
    const type = resourceType(f.resource.type);
    if (!isWritable(type)) continue;
    const write = type.writeFor(f, { manifest, live, dir });
    if (!write) continue;
    out.push({
      findingId: f.id,
      control: f.control.versionedId,
      resource: f.resource,
      action: f.change.action,
      fingerprint: fingerprintOf(f.evidence.live),
      readAt: f.evidence.readAt,
      write,
      before: f.evidence.live,
    });
  }
  return out;
}
