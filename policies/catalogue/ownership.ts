import type { Control } from '../types.js';

/** Every control has an accountable owner who exists in the tenant. */
export const ownership: readonly Control[] = [
  {
    id: 'GOV.OWNER.1',
    version: 1,
    area: 'ownership',
    title: 'Every control owner resolves to an existing, enabled user or group',
    rationale:
      'A finding is only acted on when it reaches a person. An owner who has left, or whose account is disabled, leaves every finding ' +
      'of their controls unowned: that is itself a finding.',
    severity: 'medium',
    frameworks: { nistCsf: ['GV.RR-02', 'GV.RR-04'] },
    checks: [
      { id: 'owner-resolves', description: 'Each owner contact is the userPrincipalName of an enabled user, or the mail address of a group.' },
      { id: 'break-glass-resolves', description: 'Each declared break-glass account exists and is enabled.' },
    ],
    resources: { read: ['user', 'group'] },
    remediation: { automatic: false, description: 'Name a new owner in the posture and merge it through review.' },
    exceptionScopes: [],
  },
];
