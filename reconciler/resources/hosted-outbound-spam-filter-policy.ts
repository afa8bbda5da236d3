import { exchangeObject, exchangeRead } from './exchange-object.js';

/** Outbound spam filter policies: AutoForwardingMode Off stops automatic external forwarding at the transport layer. */
export const hostedOutboundSpamFilterPolicy = exchangeObject({
  key: 'hostedOutboundSpamFilterPolicy',
  title: 'outbound spam filter policies',
  noun: 'HostedOutboundSpamFilterPolicy',
  read: exchangeRead('outboundSpam', 'Get-HostedOutboundSpamFilterPolicy'),
  verbs: ['Set'],
  writeFor: (f) => ({ api: 'exchange', cmdlet: 'Set-HostedOutboundSpamFilterPolicy', parameters: { Identity: f.resource.name, AutoForwardingMode: 'Off' } }),
});
