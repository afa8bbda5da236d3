import { exchangeObject, exchangeRead } from './exchange-object.js';

/**
 * Connection filter policies: an IP allow list entry, or the safe list, delivers mail from those
 * senders without spam filtering, DMARC included. The write sets what the check's patch says: the
 * allow list cut to the entries an exception in force names, and the safe list off.
 */
export const hostedConnectionFilterPolicy = exchangeObject({
  key: 'hostedConnectionFilterPolicy',
  title: 'connection filter policies',
  noun: 'HostedConnectionFilterPolicy',
  read: exchangeRead('connectionFilter', 'Get-HostedConnectionFilterPolicy'),
  verbs: ['Set'],
  writeFor: (f) => ({
    api: 'exchange',
    cmdlet: 'Set-HostedConnectionFilterPolicy',
    parameters: { Identity: f.resource.name, ...Object.fromEntries(f.patch.filter((op) => op.op === 'replace').map((op) => [op.path.slice(1), (op as { value: unknown }).value])) },
  }),
});
