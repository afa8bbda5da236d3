import type { Collection } from '../../tenant/collection.js';
import { checkEnum, exchangeObject } from '../object.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    AntiPhishPolicy: Collection;
  }
}

/** Anti-phishing policies: whether the sender's DMARC policy is honoured, and what p=reject and p=quarantine do. */
export const AntiPhishPolicy = exchangeObject({
  noun: 'AntiPhishPolicy',
  cmdlets: (o) => [
    o.get(),
    o.set({ HonorDmarcPolicy: 'bool', DmarcRejectAction: 'string', DmarcQuarantineAction: 'string' }, (x, p) => ({
      ...x,
      ...(p['HonorDmarcPolicy'] !== undefined ? { HonorDmarcPolicy: p['HonorDmarcPolicy'] } : {}),
      ...(p['DmarcRejectAction'] !== undefined ? { DmarcRejectAction: checkEnum('DmarcRejectAction', p['DmarcRejectAction'], ['Quarantine', 'Reject']) } : {}),
      ...(p['DmarcQuarantineAction'] !== undefined ? { DmarcQuarantineAction: checkEnum('DmarcQuarantineAction', p['DmarcQuarantineAction'], ['Delete', 'MoveToJmf', 'NoAction', 'Quarantine', 'Redirect']) } : {}),
    })),
  ],
});
