import { exchangeObject, exchangeRead } from './exchange-object.js';

type Obj = Record<string, unknown>;

/**
 * The organisation's transport settings: SmtpClientAuthenticationDisabled false leaves SMTP AUTH
 * client submission on for every mailbox, so a stolen password sends mail without MFA.
 */
export const transportConfig = exchangeObject({
  key: 'transportConfig',
  title: 'the organisation transport settings',
  noun: 'TransportConfig',
  read: exchangeRead('transportConfig', 'Get-TransportConfig'),
  verbs: ['Set'],
  writeFor: (f) => ({ api: 'exchange', cmdlet: 'Set-TransportConfig', parameters: { Identity: String((f.evidence.live as Obj)['Identity']), SmtpClientAuthenticationDisabled: true } }),
});
