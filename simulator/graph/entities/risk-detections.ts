import type { Collection } from '../../tenant/collection.js';
import { getOne, graphEntity, list } from '../entity.js';

declare module '../../tenant/tenant.js' {
  interface GraphCollections {
    riskDetections: Collection;
  }
}

/** Identity Protection risk detections (Microsoft Entra ID P2). */
export const riskDetections = graphEntity({
  name: 'riskDetections',
  collection: { name: 'riskDetections' },
  throttle: 'conditional-access',
  licence: 'AAD_PREMIUM_P2',
  permissions: {
    read: ['IdentityRiskEvent.Read.All'],
  },
  routes: [
    { method: 'GET', pattern: '/identityProtection/riskDetections', permission: 'read', handle: list('riskDetections', 'identityProtection/riskDetections', { typeName: 'microsoft.graph.riskDetection', defaultTop: 20, maxTop: 500, filterable: ['userId', 'riskLevel', 'riskEventType', 'riskState', 'detectedDateTime', 'activityDateTime'] }) },
    { method: 'GET', pattern: '/identityProtection/riskDetections/{id}', permission: 'read', handle: getOne('riskDetections', 'identityProtection/riskDetections') },
  ],
});
