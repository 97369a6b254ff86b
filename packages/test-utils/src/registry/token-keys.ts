import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeSelfSignedCertificate } from '../openssl.js';

/** The token issuer's signing key and its self-signed certificate (given to distribution as rootcertbundle). */
export interface TokenSigningKey {
  privateKey: KeyObject;
  /** DER of the certificate, base64 (standard alphabet) as the JWT `x5c` header wants it. */
  certificateBase64: string;
  certificatePath: string;
}

/** Makes an ECDSA P-256 key and a self-signed certificate with openssl into `dir`. */
export async function makeTokenSigningKey(dir: string, commonName: string): Promise<TokenSigningKey> {
  const keyPath = join(dir, 'token-signing-key.pem');
  const certificatePath = join(dir, 'token-signing-cert.pem');
  await makeSelfSignedCertificate({ commonName, days: 7, keyPath, certificatePath });
  const [keyPem, certPem] = await Promise.all([readFile(keyPath), readFile(certificatePath)]);
  const certificate = new X509Certificate(certPem);
  return {
    privateKey: createPrivateKey(keyPem),
    certificateBase64: certificate.raw.toString('base64'),
    certificatePath,
  };
}
