import type { Collection } from '../../tenant/collection.js';
import { exchangeObject, refuseManagedPolicy } from '../object.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    SafeLinksPolicy: Collection;
  }
}

/** Properties of every Safe Links policy, with the defaults of a new custom policy. */
const PROPERTIES = {
  IsBuiltInProtection: false,
  RecommendedPolicyType: 'Custom',
  AdminDisplayName: '',
  EnableSafeLinksForEmail: true,
  EnableSafeLinksForTeams: true,
  EnableSafeLinksForOffice: true,
  TrackClicks: true,
  AllowClickThrough: false,
  ScanUrls: true,
  EnableForInternalSenders: true,
  DeliverMessageAfterScan: true,
  DisableUrlRewrite: false,
  DoNotRewriteUrls: null,
  EnableOrganizationBranding: false,
  CustomNotificationText: '',
  UseTranslatedNotificationText: false,
  IsValid: true,
  ObjectState: 'Unchanged',
} as const;

const BOOLS = ['EnableSafeLinksForEmail', 'EnableSafeLinksForTeams', 'EnableSafeLinksForOffice', 'TrackClicks', 'AllowClickThrough', 'ScanUrls', 'EnableForInternalSenders', 'DeliverMessageAfterScan', 'DisableUrlRewrite'] as const;

/**
 * Safe Links policies (Defender for Office 365). Every organisation with it has the "Built-In
 * Protection Policy" (IsBuiltInProtection), applied last to everyone no preset or custom policy
 * covers; it and the preset policies are Microsoft's and cannot be set.
 */
export const SafeLinksPolicy = exchangeObject({
  noun: 'SafeLinksPolicy',
  properties: PROPERTIES,
  defaults: [
    {
      Guid: '8a2e4c6f-1b3d-4e5f-9a0b-1c2d3e4f5a6b',
      Identity: 'Built-In Protection Policy',
      Name: 'Built-In Protection Policy',
      IsBuiltInProtection: true,
      RecommendedPolicyType: 'BuiltInProtection',
      EnableForInternalSenders: false,
      DisableUrlRewrite: true,
      WhenCreated: '2024-01-08T09:00:00Z',
      WhenChanged: '2024-01-08T09:00:00Z',
    },
  ],
  cmdlets: (o) => [
    o.get(),
    o.set(Object.fromEntries(BOOLS.map((b) => [b, 'bool' as const])), (x, p) => {
      refuseManagedPolicy(x);
      const next = { ...x };
      for (const b of BOOLS) if (p[b] !== undefined) next[b] = p[b];
      return next;
    }),
  ],
});
