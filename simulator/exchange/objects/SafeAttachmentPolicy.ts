import type { Collection } from '../../tenant/collection.js';
import { checkEnum, exchangeObject, refuseManagedPolicy } from '../object.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    SafeAttachmentPolicy: Collection;
  }
}

/** Properties of every Safe Attachments policy, with the defaults of a new custom policy. */
const PROPERTIES = {
  IsBuiltInProtection: false,
  RecommendedPolicyType: 'Custom',
  AdminDisplayName: '',
  Enable: true,
  Action: 'Block',
  QuarantineTag: 'AdminOnlyAccessPolicy',
  Redirect: false,
  RedirectAddress: null,
  ActionOnError: true,
  EnableOrganizationBranding: false,
  IsValid: true,
  ObjectState: 'Unchanged',
} as const;

/**
 * Safe Attachments policies (Defender for Office 365). Every organisation with it has the "Built-In
 * Protection Policy" (IsBuiltInProtection), applied last; it and the preset policies cannot be set.
 */
export const SafeAttachmentPolicy = exchangeObject({
  noun: 'SafeAttachmentPolicy',
  properties: PROPERTIES,
  defaults: [
    {
      Guid: '9b3f5d7a-2c4e-4f6a-8b1c-2d3e4f5a6b7c',
      Identity: 'Built-In Protection Policy',
      Name: 'Built-In Protection Policy',
      IsBuiltInProtection: true,
      RecommendedPolicyType: 'BuiltInProtection',
      WhenCreated: '2024-01-08T09:00:00Z',
      WhenChanged: '2024-01-08T09:00:00Z',
    },
  ],
  cmdlets: (o) => [
    o.get(),
    o.set({ Enable: 'bool', Action: 'string', Redirect: 'bool', RedirectAddress: 'string', QuarantineTag: 'string' }, (x, p) => {
      refuseManagedPolicy(x);
      const next = { ...x };
      for (const k of ['Enable', 'Redirect', 'RedirectAddress', 'QuarantineTag'] as const) if (p[k] !== undefined) next[k] = p[k];
      if (p['Action'] !== undefined) next['Action'] = checkEnum('Action', p['Action'], ['Allow', 'Block', 'DynamicDelivery']);
      return next;
    }),
  ],
});
