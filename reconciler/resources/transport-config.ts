import { exchangeObject, exchangeRead } from './exchange-object.js';

/** The organisation's transport configuration (one per tenant): SMTP AUTH client submission, tenant-wide. */
export const transportConfig = exchangeObject({
  key: 'transportConfig',
  title: 'the transport configuration',
  noun: 'TransportConfig',
  read: exchangeRead('transportConfig', 'Get-TransportConfig'),
  verbs: ['Set'],
  singleton: true,
  writeFor: () => ({ api: 'exchange', cmdlet: 'Set-TransportConfig', parameters: { SmtpClientAuthenticationDisabled: true } }),
});
