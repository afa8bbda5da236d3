import { exchangeObject, exchangeRead } from './exchange-object.js';
import { settingsWrite } from './threat-settings.js';

/**
 * Inbound anti-spam (content filter) policies: their allowed senders and sender domains
 * (MAIL.INBOUND.2, reported), and what phishing verdicts do and zero-hour auto purge on each
 * population's effective policy (MAIL.THREAT.2, set with Set-HostedContentFilterPolicy; never on a
 * preset's policy).
 */
export const hostedContentFilterPolicy = exchangeObject({
  key: 'hostedContentFilterPolicy',
  title: 'spam filter policies',
  noun: 'HostedContentFilterPolicy',
  read: exchangeRead('contentFilter', 'Get-HostedContentFilterPolicy'),
  verbs: ['Set'],
  writeFor: (f) => (f.control.id === 'MAIL.THREAT.2' ? settingsWrite('Set-HostedContentFilterPolicy', f) : undefined),
});
