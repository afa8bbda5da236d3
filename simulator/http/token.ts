import { randomUUID, verify, type KeyObject } from 'node:crypto';

/**
 * The simulator's access tokens carry what real Entra application tokens carry, so clients exercise
 * the same paths: `aud` names the API, `roles` the application permissions, `wids` the directory
 * roles of the application's service principal (Exchange Online app-only access is authorised by
 * role), `tid` the tenant and `exp` the expiry. Tokens from the identity endpoint
 * (`simulator/identity/`) are signed (RS256) and their signature is checked; tokens made with
 * {@link mintToken} are unsigned (`alg: none`) and stand for a pre-issued token.
 */

export const GRAPH_AUDIENCE = 'https://graph.microsoft.com';
export const EXCHANGE_AUDIENCE = 'https://outlook.office365.com';

/**
 * Directory role template ids: those the Exchange admin API checks, and those Graph bounds sensitive
 * user updates by (who may reset a password or disable an account of whom).
 */
export const ROLE_IDS = {
  globalAdministrator: '62e90394-69f5-4237-9190-012177145e10',
  exchangeAdministrator: '29232cdf-9323-42fd-ade2-1d097af3e4de',
  globalReader: 'f2ef992c-3afb-46b9-b7cf-a126ee74c451',
  userAdministrator: 'fe930be7-5e62-47db-91af-98c3a49a38b1',
  helpdeskAdministrator: '729827e3-9c14-49f7-bb1b-9608f156bbb8',
  passwordAdministrator: '966707d0-3269-4727-9be2-8c3a10f19b9d',
  authenticationAdministrator: 'c4e39bd9-1100-46d3-8c65-fb160da0071f',
  privilegedAuthenticationAdministrator: '7be44c8a-adaf-4e2a-84d6-ab2649e08a13',
  privilegedRoleAdministrator: 'e8611ab8-c189-46e8-94e1-60213ab1f814',
  groupsAdministrator: 'fdd7a751-b60b-444a-984c-02652fe8fa1c',
  directoryReaders: '88d8e3e3-8f55-4a1e-953a-9b9898b8876b',
  guestInviter: '95e79109-95c0-4d8e-aee3-d01accf2d47b',
  messageCenterReader: '790c1fb9-7f7d-4f88-86a1-ef1f95c05c1b',
  reportsReader: '4a5d8f65-41da-4de4-8968-e035b65339cf',
  usageSummaryReportsReader: '75934031-6c7e-415a-99d7-48dbd49e875e',
} as const;

export interface TokenClaims {
  /** Unique token identifier, as Entra's `uti`. */
  uti: string;
  aud: string;
  tid: string;
  appid: string;
  roles: string[];
  wids: string[];
  iat: number;
  exp: number;
}

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** Issues a token for the simulator. `lifetimeSeconds` defaults to one hour, as Entra does. */
export function mintToken(options: {
  audience?: string;
  tenantId: string;
  appId?: string;
  roles?: readonly string[];
  wids?: readonly string[];
  lifetimeSeconds?: number;
  now?: number;
}): string {
  const iat = Math.floor((options.now ?? Date.now()) / 1000);
  const claims: TokenClaims = {
    uti: randomUUID(),
    aud: options.audience ?? GRAPH_AUDIENCE,
    tid: options.tenantId,
    appid: options.appId ?? '00000000-0000-0000-0000-00000000a11d',
    roles: [...(options.roles ?? [])],
    wids: [...(options.wids ?? [])],
    iat,
    exp: iat + (options.lifetimeSeconds ?? 3600),
  };
  return `${b64({ typ: 'JWT', alg: 'none' })}.${b64(claims)}.`;
}

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; reason: 'missing' | 'malformed' | 'signature' | 'expired' | 'audience' | 'tenant' };

/** The keys signed tokens are checked with, by key id (the identity endpoint's published keys). */
export interface TokenTrust {
  key(kid: string): KeyObject | undefined;
}

/** Reads and checks the bearer token of a request. A signed token must verify against a key of `trust`. */
export function checkBearer(header: string | undefined, audience: string, tenantId: string, now = Date.now(), trust?: TokenTrust): TokenCheck {
  if (!header || !/^Bearer\s+\S+/i.test(header)) return { ok: false, reason: 'missing' };
  const token = header.replace(/^Bearer\s+/i, '').trim();
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'malformed' };
  let claims: TokenClaims;
  let head: { alg?: unknown; kid?: unknown };
  try {
    head = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as { alg?: unknown; kid?: unknown };
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as TokenClaims;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (typeof head !== 'object' || head === null || typeof claims !== 'object' || claims === null) return { ok: false, reason: 'malformed' };
  if (head.alg !== 'none') {
    const key = head.alg === 'RS256' && typeof head.kid === 'string' ? trust?.key(head.kid) : undefined;
    if (!key || !verify('RSA-SHA256', Buffer.from(`${parts[0]}.${parts[1]}`), key, Buffer.from(parts[2]!, 'base64url'))) return { ok: false, reason: 'signature' };
  }
  if (typeof claims.exp !== 'number' || !Array.isArray(claims.roles) || typeof claims.uti !== 'string') return { ok: false, reason: 'malformed' };
  if (claims.exp * 1000 <= now) return { ok: false, reason: 'expired' };
  if (claims.aud !== audience && claims.aud !== `${audience}/`) return { ok: false, reason: 'audience' };
  if (claims.tid !== tenantId) return { ok: false, reason: 'tenant' };
  return { ok: true, claims: { ...claims, wids: Array.isArray(claims.wids) ? claims.wids : [] } };
}
