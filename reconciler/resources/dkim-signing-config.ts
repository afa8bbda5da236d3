import { exchangeObject, exchangeRead } from './exchange-object.js';

/** DKIM signing configurations, one per domain. */
export const dkimSigningConfig = exchangeObject({
  key: 'dkimSigningConfig',
  title: 'DKIM signing configurations',
  noun: 'DkimSigningConfig',
  read: exchangeRead('dkim', 'Get-DkimSigningConfig'),
  verbs: ['New', 'Set'],
  writeFor: (f) =>
    f.change.action === 'create'
      ? { api: 'exchange', cmdlet: 'New-DkimSigningConfig', parameters: { DomainName: f.resource.name, Enabled: true } }
      : { api: 'exchange', cmdlet: 'Set-DkimSigningConfig', parameters: { Identity: f.resource.name, Enabled: true } },
  // Exchange has no cmdlet that removes a signing configuration: the reverse turns signing off.
  undoNew: (w) => ({ api: 'exchange', cmdlet: 'Set-DkimSigningConfig', parameters: { Identity: w.parameters['DomainName'], Enabled: false } }),
});
