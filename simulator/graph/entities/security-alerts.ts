import type { Collection, Entity } from '../../tenant/collection.js';
import { getOne, graphEntity, list } from '../entity.js';

declare module '../../tenant/tenant.js' {
  interface GraphCollections {
    alerts: Collection;
  }
}

const ALERT_TYPE = '#microsoft.graph.security.alert';

/** An alert as the security API shows it: typed, with its evidence list (each item typed by its own @odata.type). */
const render = (item: Entity): Record<string, unknown> => ({ '@odata.type': ALERT_TYPE, ...item, comments: item['comments'] ?? [], evidence: item['evidence'] ?? [] });

/**
 * Microsoft Defender alerts (`/security/alerts_v2`, microsoft.graph.security.alert), each with its
 * evidence: the mailboxes, messages, users, mailbox configurations and OAuth apps it names. Served
 * under the security API's own limit and to tenants licensed for Defender.
 */
export const securityAlerts = graphEntity({
  name: 'alerts',
  collection: { name: 'alerts', indexed: ['incidentId'] },
  throttle: 'security',
  licence: 'ATP_ENTERPRISE',
  permissions: {
    read: ['SecurityAlert.Read.All', 'SecurityAlert.ReadWrite.All'],
  },
  routes: [
    {
      method: 'GET', pattern: '/security/alerts_v2', permission: 'read',
      handle: list('alerts', 'security/alerts_v2', {
        typeName: 'microsoft.graph.security.alert', defaultTop: 2000, maxTop: 2000, render,
        filterable: ['createdDateTime', 'lastUpdateDateTime', 'severity', 'status', 'serviceSource', 'category', 'incidentId'],
      }),
    },
    { method: 'GET', pattern: '/security/alerts_v2/{id}', permission: 'read', handle: getOne('alerts', 'security/alerts_v2', undefined, (_c, item) => render(item)) },
  ],
});
