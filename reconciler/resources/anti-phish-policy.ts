import { exchangeObject, exchangeRead } from './exchange-object.js';

/** Anti-phishing policies: whether they honour the sender's DMARC policy, and with which actions. */
export const antiPhishPolicy = exchangeObject({
  key: 'antiPhishPolicy',
  title: 'anti-phishing policies',
  noun: 'AntiPhishPolicy',
  read: exchangeRead('antiPhish', 'Get-AntiPhishPolicy'),
  verbs: ['Set'],
  writeFor: (f, { manifest }) => {
    const a = manifest.desired.inbound!.antiPhish;
    return { api: 'exchange', cmdlet: 'Set-AntiPhishPolicy', parameters: { Identity: f.resource.name, HonorDmarcPolicy: true, DmarcRejectAction: a.dmarcRejectAction, DmarcQuarantineAction: a.dmarcQuarantineAction } };
  },
});
