import type { Collection } from '../../tenant/collection.js';
import { CmdletError, exchangeObject } from '../object.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    TransportRule: Collection;
  }
}

/** Mail flow (transport) rules: redirect and blind-copy actions, and SetSCL (-1 lets mail skip spam filtering). */
export const TransportRule = exchangeObject({
  noun: 'TransportRule',
  cmdlets: (o) => [
    o.get(),
    o.set({ RedirectMessageTo: 'strings', BlindCopyTo: 'strings', SetSCL: 'any' }, (x, p) => {
      const next = { ...x };
      if (p['RedirectMessageTo'] !== undefined) next['RedirectMessageTo'] = p['RedirectMessageTo'];
      if (p['BlindCopyTo'] !== undefined) next['BlindCopyTo'] = p['BlindCopyTo'];
      if (p['SetSCL'] !== undefined) {
        const scl = p['SetSCL'] === null ? null : Number(p['SetSCL']);
        if (scl !== null && (!Number.isInteger(scl) || scl < -1 || scl > 9)) {
          throw new CmdletError('System.Management.Automation.ParameterBindingException', `Cannot validate argument on parameter 'SetSCL'. The value ${String(p['SetSCL'])} is not in the range -1 to 9.`);
        }
        next['SetSCL'] = scl;
      }
      return next;
    }),
    o.set({}, (x) => ({ ...x, State: 'Disabled' }), 'Disable'),
    o.set({}, (x) => ({ ...x, State: 'Enabled' }), 'Enable'),
  ],
});
