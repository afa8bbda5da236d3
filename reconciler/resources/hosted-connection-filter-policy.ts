import type { Operation } from 'fast-json-patch';
import type { Finding } from '../model/finding.js';
import { exchangeObject, exchangeRead } from './exchange-object.js';

type Obj = Record<string, unknown>;

/** The IP allow list a finding keeps: its patch says which entries stay (those an exception names). */
const keptAllowList = (f: Finding): string[] | undefined => {
  const op = f.patch.find((o: Operation) => o.op === 'replace' && o.path === '/IPAllowList') as { value?: unknown } | undefined;
  return Array.isArray(op?.value) && op.value.every((v) => typeof v === 'string') ? [...op.value] : undefined;
};

/**
 * Connection filter policies: an IPAllowList entry or EnableSafeList lets mail from those sources skip
 * spam filtering, DMARC's verdict included. Remediation empties the list (keeping the entries an
 * exception names) and turns the safe list off.
 */
export const hostedConnectionFilterPolicy = exchangeObject({
  key: 'hostedConnectionFilterPolicy',
  title: 'connection filter policies',
  noun: 'HostedConnectionFilterPolicy',
  read: exchangeRead('connectionFilter', 'Get-HostedConnectionFilterPolicy'),
  verbs: ['Set'],
  writeFor(f) {
    const Identity = String((f.evidence.live as Obj)['Identity']);
    if (f.check === 'connection-filter-safe-list') return { api: 'exchange', cmdlet: 'Set-HostedConnectionFilterPolicy', parameters: { Identity, EnableSafeList: false } };
    const kept = f.check === 'connection-filter-allow-list' ? keptAllowList(f) : undefined;
    return kept ? { api: 'exchange', cmdlet: 'Set-HostedConnectionFilterPolicy', parameters: { Identity, IPAllowList: kept } } : undefined;
  },
});
