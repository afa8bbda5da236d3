import type { Operation } from 'fast-json-patch';
import type { Finding } from '../model/finding.js';
import { exchangeObject, exchangeRead } from './exchange-object.js';

type Obj = Record<string, unknown>;

/** The value a finding's patch gives a property, if it replaces it. */
const replaced = (f: Finding, path: string): unknown => (f.patch.find((o: Operation) => o.op === 'replace' && o.path === path) as { value?: unknown } | undefined)?.value;

/**
 * Sharing policies (Get-SharingPolicy): which outside domains users may share calendars and contacts
 * with, and whether they may publish calendars anonymously. Remediation keeps the allowed entries of
 * Domains (the finding's patch holds them); a policy left with none is disabled instead.
 */
export const sharingPolicy = exchangeObject({
  key: 'sharingPolicy',
  title: 'sharing policies',
  noun: 'SharingPolicy',
  read: exchangeRead('sharingPolicies', 'Get-SharingPolicy'),
  verbs: ['Set'],
  writeFor(f) {
    const Identity = String((f.evidence.live as Obj)['Identity']);
    if (replaced(f, '/Enabled') === false) return { api: 'exchange', cmdlet: 'Set-SharingPolicy', parameters: { Identity, Enabled: false } };
    const domains = replaced(f, '/Domains');
    if (!Array.isArray(domains) || !domains.every((d) => typeof d === 'string') || domains.length === 0) return undefined;
    return { api: 'exchange', cmdlet: 'Set-SharingPolicy', parameters: { Identity, Domains: [...domains] } };
  },
});
