import { discoverDmarc, evaluateDmarc, type DmarcDiscovery, type DmarcEvaluation, type TxtResolver } from '../dns/lookup.js';
import { evaluateSpf, type SpfEvaluation } from '../dns/spf.js';
import type { Manifest } from '../manifest/schema.js';

export interface DkimSelectorAnswer {
  readonly name: string;
  /** CNAME targets, or the DNS failure code (ENOTFOUND/ENODATA: not published). */
  readonly targets?: readonly string[];
  readonly error?: string;
}

/** What DNS says about one domain. */
export interface DomainDns {
  readonly domain: string;
  readonly readAt: string;
  readonly dmarc: DmarcDiscovery;
  readonly dmarcEvaluation: DmarcEvaluation;
  readonly spf: SpfEvaluation;
  readonly dkim: readonly DkimSelectorAnswer[];
}

export type DnsResolver = TxtResolver & { resolveCname(name: string): Promise<string[]> };

/** DMARC, SPF and DKIM selectors of one domain. Each domain stands alone: one broken domain never hides another. */
export async function readDomainDns(domain: string, resolver: DnsResolver): Promise<DomainDns> {
  const [dmarc, spf, dkim] = await Promise.all([
    discoverDmarc(domain, resolver),
    evaluateSpf(domain, resolver),
    Promise.all(
      ['selector1', 'selector2'].map(async (s): Promise<DkimSelectorAnswer> => {
        const name = `${s}._domainkey.${domain}`;
        try {
          return { name, targets: await resolver.resolveCname(name) };
        } catch (err) {
          return { name, error: (err as { code?: string }).code ?? (err as Error).message };
        }
      }),
    ),
  ]);
  return { domain, readAt: new Date().toISOString(), dmarc, dmarcEvaluation: evaluateDmarc(dmarc), spf, dkim };
}

/** DNS of every domain the posture declares, domains read concurrently. */
export async function readDns(m: Manifest, resolver: DnsResolver): Promise<Map<string, DomainDns>> {
  const domains = m.desired.senderAuthentication?.domains.map((d) => d.name) ?? [];
  const results = await Promise.all(domains.map((d) => readDomainDns(d, resolver)));
  return new Map(results.map((r) => [r.domain, r]));
}

/** DNS failure codes that mean "the name has no such record". */
export const ABSENT = ['ENOTFOUND', 'ENODATA'];
