import type { Owner } from '../manifest/schema.js';
import { FAILURE_KINDS, type FailureKind, type MappedPath, type PathMap } from '../model/paths.js';

/** The failure kinds as a reviewer reads them. */
export const FAILURE_KIND_LABELS: Readonly<Record<FailureKind, string>> = {
  'dmarc-reject': 'DMARC p=reject',
  'dmarc-quarantine': 'DMARC p=quarantine',
  'spf-hardfail': 'SPF hard fail',
  'compauth-fail': 'compauth fail',
};

const ownerText = (o: Owner | undefined) => (o ? `${o.name} (${o.contact})` : 'UNOWNED');

/** Where a path's mail comes from and goes through, on one line. */
export function routeText(p: MappedPath): string {
  const entry = p.entry === 'partner' ? `partner connector "${p.connector ?? ''}"` : p.unpublished ? `${p.hosts.join(', ')} (no MX names it: mail sent there directly is still taken, past any gateway)` : `MX ${p.hosts.join(', ')}`;
  const via =
    p.entry === 'gateway'
      ? ` -> ${p.connector ? `connector "${p.connector}"` : 'no connector'} (enhanced filtering ${p.enhancedFiltering})`
      : '';
  return `${entry}${via} -> Exchange Online Protection`;
}

/** The text lines of the map, for the terminal (each string still to be made safe by the caller). */
export function pathMapLines(map: PathMap): string[] {
  const out: string[] = [];
  const e = map.evidence;
  out.push(`Inbound paths: ${map.paths.length} (MAIL.PATH.1)${e ? `; evidence ${e.from.slice(0, 10)} to ${e.to.slice(0, 10)}: ${e.failed} failing inbound message${e.failed === 1 ? '' : 's'}${e.unattributed ? `, ${e.unattributed} on no mapped path` : ''}` : ''}`);
  if (!map.paths.length) out.push('  no accepted domain receives mail from the internet (no MX record, no partner connector)');
  for (const p of map.paths) {
    const state = p.short.length ? (p.exception?.inForce ? 'SHORT, excepted' : 'SHORT') : 'ok';
    out.push(`  ${p.key}  [${state}]`, `    ${routeText(p)}`);
    out.push(
      `    ${FAILURE_KINDS.map((k) => `${FAILURE_KIND_LABELS[k]}: ${p.dispositions[k].outcome}${p.short.includes(k) ? ` (${p.required[k]} required)` : ''}`).join(' · ')}`,
    );
    const reasons = [...new Set(FAILURE_KINDS.filter((k) => p.short.includes(k)).map((k) => p.dispositions[k].because))];
    for (const r of reasons) out.push(`    because ${r}`);
    for (const b of p.bypasses) out.push(`    bypass (${b.scope === 'all' ? 'every message' : 'some senders'}): ${b.detail}${b.excepted ? ` (exception ${b.excepted.id}${b.excepted.inForce ? ` until ${b.excepted.expires}` : ', EXPIRED'})` : ''}`);
    out.push(`    owners: routing ${ownerText(p.owners.routing)} · policy ${ownerText(p.owners.policy)} · objective ${ownerText(p.owners.objective)}`);
    if (p.exception) {
      out.push(`    exception ${p.exception.id}${p.exception.inForce ? '' : ' (EXPIRED)'}: approved by ${p.exception.approvedBy} until ${p.exception.expires}${p.exception.compensatingControl ? `; compensating control: ${p.exception.compensatingControl}` : ''}`);
    }
    if (p.observed) {
      const o = p.observed;
      out.push(`    observed: ${o.failed} failing: ${o.byOutcome.reject} rejected, ${o.byOutcome.quarantine} quarantined, ${o.byOutcome.junk} junk, ${o.byOutcome.inbox} inbox${o.deliveredDespiteFailure ? `; ${o.deliveredDespiteFailure} DELIVERED DESPITE FAILURE` : ''}`);
    }
  }
  return out;
}
