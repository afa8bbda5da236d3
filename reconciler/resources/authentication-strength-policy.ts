import { P } from '../../policies/permissions.js';
import type { ResourceType } from './types.js';

/**
 * Authentication strengths: the built-in ones (Multifactor authentication, Passwordless MFA,
 * Phishing-resistant MFA) and the tenant's custom ones, each with the method combinations it
 * allows. Conditional access policies reference them by id. Read-only: a strength is what a
 * policy's grant is judged by, never written (Entra ID P1).
 */
export const authenticationStrengthPolicy: ResourceType = {
  key: 'authenticationStrengthPolicy',
  title: 'authentication strengths',
  read: {
    section: 'authStrengths',
    how: { kind: 'graph-list', path: '/identity/conditionalAccess/authenticationStrength/policies' },
    permissions: [P.policyRead],
    licence: 'Microsoft Entra ID P1',
  },
};
