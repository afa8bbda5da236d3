import type { CommandModule } from 'yargs';
import { normalizeDomain } from '../dns/domain-name.js';
import { dnsResolver } from '../input/connection.js';
import { InputError } from '../input/synth-output.js';
import { readDomainDns, type DomainDns } from '../read/dns.js';
import { fail } from './fail.js';
import { jsonLine, printableLine } from './log.js';

/** The check-domain answer for one domain: what receivers will do with mail claiming it. */
export function domainReport(d: DomainDns) {
  const e = d.dmarcEvaluation;
  return {
    domain: d.domain,
    dmarc: {
      status: e.status,
      policy: e.policy ?? null,
      subdomainPolicy: e.subdomainPolicy ?? null,
      nonExistentSubdomainPolicy: e.nonExistentSubdomainPolicy ?? null,
      testing: e.testing ?? null,
      pct: e.pct ?? null,
      record: d.dmarc.recordText ?? d.dmarc.recordTexts ?? null,
      recordName: e.recordName ?? null,
      organizationalDomain: d.dmarc.organizationalDomain ?? null,
      summary: e.summary,
      errors: e.problems.filter((p) => p.severity === 'error').map((p) => (p.tag ? `${p.tag}: ${p.message}` : p.message)),
      warnings: e.problems.filter((p) => p.severity === 'warning').map((p) => (p.tag ? `${p.tag}: ${p.message}` : p.message)),
    },
    spf: {
      status: d.spf.status,
      record: d.spf.record ?? null,
      lookups: d.spf.lookups,
      errors: d.spf.errors.map((p) => (p.tag ? `${p.tag}: ${p.message}` : p.message)),
      warnings: d.spf.warnings.map((p) => (p.tag ? `${p.tag}: ${p.message}` : p.message)),
    },
    dkim: {
      selectors: d.dkim.map((s) => ({ name: s.name, cname: s.targets?.[0] ?? null, ...(s.error && !['ENOTFOUND', 'ENODATA'].includes(s.error) ? { error: s.error } : {}) })),
    },
  };
}

const GOOD_DMARC = new Set(['enforced']);
const GOOD_SPF = new Set(['hardfail', 'softfail']);

/** `posture check-domain`: DMARC, SPF and DKIM of any domain over DNS, no tenant needed. */
export function checkDomainCommand(setExit: (code: number) => void): CommandModule<object, { domains: string[]; 'dns-server'?: string; format: string; debug: boolean }> {
  return {
    command: 'check-domain <domains..>',
    describe: 'Evaluate DMARC, SPF and DKIM of any domain over DNS (no tenant needed)',
    builder: (y) =>
      y
        .positional('domains', { type: 'string', array: true, demandOption: true, describe: 'One or more domains to check, e.g. contoso.example' })
        .option('dns-server', { type: 'string', describe: 'DNS server HOST:PORT (default: the system resolvers)' })
        .option('format', { choices: ['text', 'json'], default: 'text', describe: 'The result as text or as JSON' }) as never,
    handler: async (args) => {
      try {
        const names = args.domains.map((d) => {
          try {
            return normalizeDomain(d);
          } catch {
            throw new InputError(`"${d}" is not a domain name`);
          }
        });
        const resolver = dnsResolver(args['dns-server']);
        const reports = (await Promise.all(names.map((n) => readDomainDns(n, resolver)))).map(domainReport);
        if (args.format === 'json') {
          process.stdout.write(`${jsonLine(reports, 2)}\n`);
        } else {
          // DNS records are whoever owns the domain's to write: nothing of them reaches the terminal raw.
          const line = (text: string) => process.stdout.write(`${printableLine(text)}\n`);
          for (const r of reports) {
            line(`${r.domain}`);
            line(`  DMARC  ${r.dmarc.status.padEnd(10)} ${r.dmarc.summary}`);
            for (const e of r.dmarc.errors) line(`         error: ${e}`);
            line(`  SPF    ${r.spf.status.padEnd(10)} ${r.spf.record ?? '(no record)'}${r.spf.lookups ? ` (${r.spf.lookups} DNS lookups)` : ''}`);
            for (const e of r.spf.errors) line(`         error: ${e}`);
            for (const s of r.dkim.selectors) line(`  DKIM   ${s.name} ${s.cname ? `→ ${s.cname}` : s.error ? `error: ${s.error}` : 'not published'}`);
          }
        }
        const dnsFailed = reports.some((r) => r.dmarc.status === 'error' || r.spf.status === 'error');
        const weak = reports.some((r) => !GOOD_DMARC.has(r.dmarc.status) || !GOOD_SPF.has(r.spf.status));
        setExit(dnsFailed ? 1 : weak ? 2 : 0);
      } catch (err) {
        fail(err, args.debug, 'check-domain');
        setExit(1);
      }
    },
  };
}
