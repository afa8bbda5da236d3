import { ABSENT } from '../read/dns.js';
import type { Obj, ResourceType } from './types.js';

/** One accepted domain's MX records, or why they are not known (a failed query is never "no MX"). */
export interface DomainMx {
  readonly domain: string;
  /** Sorted by preference; empty when the domain publishes none. */
  readonly records?: ReadonlyArray<{ preference: number; exchange: string }>;
  readonly error?: string;
}

type MxResolver = { resolveMx?(name: string): Promise<Array<{ exchange: string; priority: number }>> };

/** The MX records of each domain, queried concurrently; each domain stands alone. */
export async function readMx(domains: readonly string[], resolver: MxResolver): Promise<DomainMx[]> {
  return Promise.all(
    domains.map(async (domain): Promise<DomainMx> => {
      if (!resolver.resolveMx) return { domain, error: 'the resolver cannot query MX records' };
      try {
        const answers = await resolver.resolveMx(domain);
        return { domain, records: answers.map((a) => ({ preference: a.priority, exchange: a.exchange.toLowerCase() })).sort((a, b) => a.preference - b.preference || a.exchange.localeCompare(b.exchange)) };
      } catch (err) {
        const code = (err as { code?: string }).code ?? '';
        return ABSENT.includes(code) ? { domain, records: [] } : { domain, error: code || (err as Error).message };
      }
    }),
  );
}

/** The MX records of every accepted domain, from DNS: where each domain's mail enters. Read-only: DNS is never written. */
export const mxRecord: ResourceType = {
  key: 'mxRecord',
  title: 'MX records of the accepted domains',
  read: {
    section: 'mxRecords',
    how: {
      kind: 'custom',
      endpoint: 'DNS MX',
      run: async (ctx, live) => {
        const now = new Date().toISOString();
        if (!live.acceptedDomains?.ok) return { ok: false, endpoint: 'DNS MX', readAt: now, reason: 'read-failed', error: 'the accepted domains could not be read' };
        const domains = [...new Set(live.acceptedDomains.value.map((d: Obj) => String(d['DomainName'] ?? d['Name'] ?? '').toLowerCase()).filter(Boolean))].sort();
        return { ok: true, value: await readMx(domains, ctx.resolver as MxResolver), endpoint: 'DNS MX', readAt: new Date().toISOString() };
      },
    },
    permissions: [],
    after: ['acceptedDomain'],
  },
};
