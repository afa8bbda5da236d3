import { readDns } from '../read/dns.js';
import type { ResourceType } from './types.js';

/** DMARC, SPF and DKIM records of the declared domains, from DNS. Read-only: DNS is never written. */
export const dnsRecords: ResourceType = {
  key: 'dnsRecords',
  title: 'DNS records of the declared domains',
  read: { section: 'dns', how: { kind: 'custom', endpoint: 'DNS', run: (ctx, _live, m) => readDns(m, ctx.resolver) }, permissions: [] },
};
