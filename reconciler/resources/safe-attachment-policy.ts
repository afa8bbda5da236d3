import { exchangeObject, exchangeRead } from './exchange-object.js';
import { settingsWrite } from './threat-settings.js';

/**
 * Safe Attachments policies (Defender for Office 365), the Built-In Protection Policy among them:
 * whether the effective policy of each population detonates attachments and blocks what it finds
 * (MAIL.THREAT.4, set with Set-SafeAttachmentPolicy on a custom policy; never on a preset's policy
 * or the Built-In Protection Policy).
 */
export const safeAttachmentPolicy = exchangeObject({
  key: 'safeAttachmentPolicy',
  title: 'Safe Attachments policies',
  noun: 'SafeAttachmentPolicy',
  read: exchangeRead('safeAttachments', 'Get-SafeAttachmentPolicy'),
  verbs: ['Set'],
  writeFor: (f) => (f.control.id === 'MAIL.THREAT.4' ? settingsWrite('Set-SafeAttachmentPolicy', f) : undefined),
});
