import { exchangeObject, exchangeRead } from './exchange-object.js';

/**
 * Transport (mail flow) rules: a rule that bypasses filtering or copies mail outside is disabled, never
 * deleted; the posture's declared external-sender banner rule, right but disabled, is enabled.
 */
export const transportRule = exchangeObject({
  key: 'transportRule',
  title: 'transport rules',
  noun: 'TransportRule',
  read: exchangeRead('transportRules', 'Get-TransportRule'),
  verbs: ['Disable', 'Enable'],
  writeFor: (f) => ({ api: 'exchange', cmdlet: f.check === 'external-banner-rule' ? 'Enable-TransportRule' : 'Disable-TransportRule', parameters: { Identity: f.resource.name, Confirm: false } }),
});
