import type { EvidenceActor } from '../evidence/records.js';

/**
 * The actor an access token stands for, read from its claims: the application (`appid`/`azp`) for an
 * app-only token, the user (`oid`) otherwise. The token itself is never kept.
 */
export function actorFromAccessToken(token: string): EvidenceActor {
  try {
    const payload = token.split('.')[1];
    if (!payload) return { kind: 'unknown', id: 'unknown' };
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const str = (k: string) => (typeof claims[k] === 'string' && claims[k] ? (claims[k] as string) : undefined);
    const appId = str('appid') ?? str('azp');
    const isApp = str('idtyp') === 'app' || (!str('scp') && !str('upn') && Array.isArray(claims['roles']));
    if (isApp && appId) {
      const name = str('app_displayname');
      return { kind: 'application', id: appId, ...(name ? { name } : {}) };
    }
    const oid = str('oid');
    if (oid) {
      const name = str('upn') ?? str('preferred_username') ?? str('unique_name') ?? str('name');
      return { kind: 'user', id: oid, ...(name ? { name } : {}) };
    }
    if (appId) return { kind: 'application', id: appId };
  } catch {
    // Not a readable JWT: the actor is unknown.
  }
  return { kind: 'unknown', id: 'unknown' };
}
