import { exchangeObject, exchangeRead } from './exchange-object.js';
import { settingsWrite } from './threat-settings.js';

/**
 * Safe Links policies (Defender for Office 365), the Built-In Protection Policy among them: what the
 * effective policy of each population does with links (MAIL.THREAT.3, set with Set-SafeLinksPolicy
 * on a custom policy; never on a preset's policy or the Built-In Protection Policy, which cannot be
 * changed).
 */
export const safeLinksPolicy = exchangeObject({
  key: 'safeLinksPolicy',
  title: 'Safe Links policies',
  noun: 'SafeLinksPolicy',
  read: exchangeRead('safeLinks', 'Get-SafeLinksPolicy'),
  verbs: ['Set'],
  writeFor: (f) => (f.control.id === 'MAIL.THREAT.3' ? settingsWrite('Set-SafeLinksPolicy', f) : undefined),
});
