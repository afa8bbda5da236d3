import { createHash, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { SignJWT, type JWK, type JWTPayload } from 'jose';

const generate = promisify(generateKeyPair);

/** A JSON Web Key Set, as an issuer publishes it at its `jwks_uri`. */
export interface Jwks {
  keys: JWK[];
}

/** An RSA signing key with its key id, as an issuer (Entra, GitHub, Azure DevOps, a cluster) holds one. */
export class SigningKey {
  private constructor(
    readonly kid: string,
    readonly privateKey: KeyObject,
    readonly publicKey: KeyObject,
  ) {}

  static async create(): Promise<SigningKey> {
    const { privateKey, publicKey } = await generate('rsa', { modulusLength: 2048 });
    const der = publicKey.export({ type: 'spki', format: 'der' });
    // Entra's key ids look like a base64url SHA-1 (the certificate thumbprint); any stable id would do.
    const kid = createHash('sha1').update(der).digest('base64url');
    return new SigningKey(kid, privateKey, publicKey);
  }

  /** The public key as a JWK, with its id and use. */
  jwk(extra: Record<string, unknown> = {}): JWK {
    return { ...(this.publicKey.export({ format: 'jwk' }) as JWK), kid: this.kid, use: 'sig', alg: 'RS256', ...extra };
  }

  /** Signs claims as an RS256 JWT with this key's id in the header. */
  sign(claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
    return new SignJWT(claims).setProtectedHeader({ typ: 'JWT', ...header, alg: 'RS256', kid: this.kid }).sign(this.privateKey);
  }
}
