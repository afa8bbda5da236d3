import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, randomBytes, webcrypto, X509Certificate } from 'node:crypto';

/**
 * Certificates the identity endpoints need, made with @peculiar/x509 over Node's WebCrypto: a
 * short-lived CA and the loopback server certificate it signs (the simulator's HTTPS), and the
 * self-signed RSA certificates an application registers as its credential.
 */

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type KeyPair = webcrypto.CryptoKeyPair;

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 } as const;
const DAY = 86_400_000;

const serial = () => randomBytes(8).toString('hex').replace(/^[89a-f]/, '1');

async function pkcs8Pem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
}

export interface TlsMaterial {
  /** The CA certificate (PEM): what a client trusts, e.g. through NODE_EXTRA_CA_CERTS. */
  readonly caPem: string;
  /** The server certificate (PEM), for 127.0.0.1, ::1 and localhost. */
  readonly certPem: string;
  readonly keyPem: string;
}

/** A CA made now, valid for a day, and a loopback server certificate it signs. Nothing is kept. */
export async function makeLoopbackTls(): Promise<TlsMaterial> {
  const now = Date.now();
  const caKeys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as KeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=email-posture simulator CA, O=email-posture simulator',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + DAY),
    keys: caKeys,
    signingAlgorithm: EC,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as KeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: 'CN=127.0.0.1, O=email-posture simulator',
    issuer: ca.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + DAY),
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: EC,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'ip', value: '127.0.0.1' },
        { type: 'ip', value: '::1' },
        { type: 'dns', value: 'localhost' },
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  return { caPem: ca.toString('pem'), certPem: cert.toString('pem'), keyPem: await pkcs8Pem(keys.privateKey) };
}

export interface ClientCertificate {
  /** Private key and certificate in one PEM file, the form AZURE_CLIENT_CERTIFICATE_PATH takes. */
  readonly pem: string;
  /** The certificate alone (what is uploaded to the app registration). */
  readonly certificatePem: string;
  /** SHA-1 of the DER certificate, upper-case hex (the portal's "thumbprint", the JWT `x5t`). */
  readonly thumbprint: string;
  /** SHA-256 of the DER certificate, upper-case hex (the JWT `x5t#S256`). */
  readonly thumbprintSha256: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** A self-signed RSA certificate for an application credential; `notAfter` in the past makes an expired one. */
export async function makeClientCertificate(o: { subject?: string; notBefore?: Date; notAfter?: Date } = {}): Promise<ClientCertificate> {
  const now = Date.now();
  const notBefore = o.notBefore ?? new Date(now - 60_000);
  const notAfter = o.notAfter ?? new Date(now + 30 * DAY);
  const keys = (await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify'])) as KeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: o.subject ?? 'CN=email-posture',
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: RSA,
    extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
  });
  const certificatePem = cert.toString('pem');
  return { pem: `${await pkcs8Pem(keys.privateKey)}${certificatePem}\n`, certificatePem, ...thumbprints(certificatePem), notBefore, notAfter };
}

/** SHA-1 and SHA-256 thumbprints (upper-case hex) of a PEM certificate. */
export function thumbprints(certificatePem: string): { thumbprint: string; thumbprintSha256: string } {
  const der = new X509Certificate(certificatePem).raw;
  return {
    thumbprint: createHash('sha1').update(der).digest('hex').toUpperCase(),
    thumbprintSha256: createHash('sha256').update(der).digest('hex').toUpperCase(),
  };
}
