import { randomUUID } from 'node:crypto';
import type { Collection, Entity } from '../../tenant/collection.js';
import { CmdletError, COMMON, exchangeObject } from '../object.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    DkimSigningConfig: Collection;
  }
}

/** DKIM signing per accepted domain; New- creates one with its two selector CNAME targets under the initial domain. */
export const DkimSigningConfig = exchangeObject({
  noun: 'DkimSigningConfig',
  identity: ['Identity', 'Name', 'Domain', 'Guid'],
  cmdlets: (o) => [
    o.get(),
    o.set({ Enabled: 'bool' }, (x, p) => ({ ...x, ...(p['Enabled'] !== undefined ? { Enabled: p['Enabled'], Status: p['Enabled'] ? 'Valid' : 'Disabled' } : {}) })),
    {
      name: 'New-DkimSigningConfig',
      writes: true,
      parameters: { DomainName: 'string', Enabled: 'bool', KeySize: 'int', ...COMMON },
      required: ['DomainName', 'Enabled'],
      run: (t, p) => {
        const domain = String(p['DomainName']).toLowerCase();
        if (!t.exchange.AcceptedDomain.findBy('DomainName', domain).length) {
          throw new CmdletError('Microsoft.Exchange.Management.Tasks.ManagementObjectNotFoundException', `The domain '${domain}' is not an accepted domain of this organization.`, 404);
        }
        if ([...t.exchange.DkimSigningConfig.values()].some((d) => String(d['Domain']).toLowerCase() === domain)) {
          throw new CmdletError('Microsoft.Exchange.Management.Tasks.ADObjectAlreadyExistsException', `A DKIM signing configuration already exists for the domain '${domain}'.`);
        }
        const selector = (n: number) => `selector${n}-${domain.replace(/\./g, '-')}._domainkey.${t.initialDomain}`;
        const config: Entity = {
          id: randomUUID(),
          Guid: '',
          Identity: domain,
          Name: domain,
          Domain: domain,
          Enabled: p['Enabled'] === true,
          Status: p['Enabled'] === true ? 'Valid' : 'Disabled',
          Selector1CNAME: selector(1),
          Selector2CNAME: selector(2),
          KeySize: p['KeySize'] ?? 2048,
          WhenChanged: new Date().toISOString(),
        };
        config['Guid'] = config.id;
        t.exchange.DkimSigningConfig.insert(config);
        return [config];
      },
    },
  ],
});
