import type { Collection } from '../../tenant/collection.js';
import { checkEnum, CmdletError, exchangeObject } from '../object.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    TransportRule: Collection;
  }
}

/**
 * Mail flow (transport) rules: redirect and blind-copy actions, SetSCL (-1 lets mail skip spam
 * filtering), and the sender scope, disclaimer and subject prefix a warning banner for outside mail uses.
 */
export const TransportRule = exchangeObject({
  noun: 'TransportRule',
  cmdlets: (o) => [
    o.get(),
    o.set({ RedirectMessageTo: 'strings', BlindCopyTo: 'strings', SetSCL: 'any', FromScope: 'string', ApplyHtmlDisclaimerLocation: 'string', ApplyHtmlDisclaimerText: 'string', PrependSubject: 'string', Mode: 'string' }, (x, p) => {
      const next = { ...x };
      if (p['FromScope'] !== undefined) next['FromScope'] = p['FromScope'] === null ? null : checkEnum('FromScope', p['FromScope'], ['InOrganization', 'NotInOrganization']);
      if (p['ApplyHtmlDisclaimerLocation'] !== undefined) next['ApplyHtmlDisclaimerLocation'] = p['ApplyHtmlDisclaimerLocation'] === null ? null : checkEnum('ApplyHtmlDisclaimerLocation', p['ApplyHtmlDisclaimerLocation'], ['Append', 'Prepend']);
      if (p['Mode'] !== undefined) next['Mode'] = checkEnum('Mode', p['Mode'], ['Audit', 'AuditAndNotify', 'Enforce']);
      for (const k of ['ApplyHtmlDisclaimerText', 'PrependSubject']) if (p[k] !== undefined) next[k] = p[k] === '' ? null : p[k];
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
