import { exchangeObject, exchangeRead } from './exchange-object.js';
import { settingsWrite } from './threat-settings.js';

/**
 * Anti-phishing policies: whether they honour the sender's DMARC policy, and with which actions
 * (MAIL.INBOUND.1); impersonation and spoof protection of each population's effective policy
 * (MAIL.THREAT.1, never on a preset's policy).
 */
export const antiPhishPolicy = exchangeObject({
  key: 'antiPhishPolicy',
  title: 'anti-phishing policies',
  noun: 'AntiPhishPolicy',
  read: exchangeRead('antiPhish', 'Get-AntiPhishPolicy'),
  verbs: ['Set'],
  writeFor: (f, { manifest }) => {
    if (f.control.id === 'MAIL.THREAT.1') return settingsWrite('Set-AntiPhishPolicy', f);
    const a = manifest.desired.inbound!.antiPhish;
    return { api: 'exchange', cmdlet: 'Set-AntiPhishPolicy', parameters: { Identity: f.resource.name, HonorDmarcPolicy: true, DmarcRejectAction: a.dmarcRejectAction, DmarcQuarantineAction: a.dmarcQuarantineAction } };
  },
});
