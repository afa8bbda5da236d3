import { exchangeObject, exchangeRead } from './exchange-object.js';

type Obj = Record<string, unknown>;

/** Remote domains: AutoForwardEnabled lets forwarded mail leave for the domain. */
export const remoteDomain = exchangeObject({
  key: 'remoteDomain',
  title: 'remote domains',
  noun: 'RemoteDomain',
  read: exchangeRead('remoteDomains', 'Get-RemoteDomain'),
  verbs: ['Set'],
  writeFor: (f) => ({ api: 'exchange', cmdlet: 'Set-RemoteDomain', parameters: { Identity: String((f.evidence.live as Obj)['Identity']), AutoForwardEnabled: false } }),
});
