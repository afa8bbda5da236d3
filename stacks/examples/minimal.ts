import { LocalBackend, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { EmailSecurityPosture, ForwardingLockdown, SenderAuthentication } from '../index.js';

/**
 * The smallest useful posture: one domain at p=reject, no forwarding out, one owner for everything,
 * every control in report mode. A starting point for a new tenant.
 */
export class MinimalStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new LocalBackend(this, { path: `terraform.${id}.tfstate` });
    const owner = { name: 'IT Manager', team: 'IT', contact: 'it@fabrikam.example' };
    const posture = new EmailSecurityPosture(this, 'Posture', {
      organization: { name: 'Fabrikam', primaryDomain: 'fabrikam.example' },
      breakGlass: { users: ['emergency@fabrikam.example'] },
      ownership: { owner },
    });
    new SenderAuthentication(posture, 'SenderAuthentication', {
      owner,
      domains: [{ name: 'fabrikam.example', rua: ['mailto:dmarc@fabrikam.example'] }],
    });
    new ForwardingLockdown(posture, 'ForwardingLockdown', { owner });
  }
}
