import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { makeSelfSignedCertificate } from '../openssl.js';
import { tempDir } from '../temp-dir.js';

export interface TlsCertificate {
  /** PEM private key. */
  readonly key: string;
  /** PEM self-signed certificate: give it to clients as their only CA. */
  readonly cert: string;
}

/** A throw-away EC key and self-signed certificate for `host` (a name or an IP address), made by openssl. */
export async function makeTlsCertificate(host: string): Promise<TlsCertificate> {
  const dir = await tempDir('tls-');
  try {
    await makeSelfSignedCertificate({
      commonName: host,
      subjectAltName: isIP(host) ? `IP:${host}` : `DNS:${host}`,
      days: 2,
      keyPath: dir.join('key.pem'),
      certificatePath: dir.join('cert.pem'),
    });
    const [key, cert] = await Promise.all([
      readFile(dir.join('key.pem'), 'utf8'),
      readFile(dir.join('cert.pem'), 'utf8'),
    ]);
    return { key, cert };
  } finally {
    await dir.remove();
  }
}
