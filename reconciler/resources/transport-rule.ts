import { exchangeObject, exchangeRead } from './exchange-object.js';

/** Transport (mail flow) rules: a rule that bypasses filtering or copies mail outside is disabled, never deleted. */
export const transportRule = exchangeObject({
  key: 'transportRule',
  title: 'transport rules',
  noun: 'TransportRule',
  read: exchangeRead('transportRules', 'Get-TransportRule'),
  verbs: ['Disable', 'Enable'],
  writeFor: (f) => ({ api: 'exchange', cmdlet: 'Disable-TransportRule', parameters: { Identity: f.resource.name, Confirm: false } }),
});
