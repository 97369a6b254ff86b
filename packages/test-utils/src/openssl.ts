import { run } from './run.js';

export interface SelfSignedOptions {
  readonly commonName: string;
  /** e.g. `IP:127.0.0.2` or `DNS:localhost`. */
  readonly subjectAltName?: string;
  readonly days: number;
  readonly keyPath: string;
  readonly certificatePath: string;
}

/**
 * An ECDSA P-256 key and a self-signed certificate, written as PEM files by openssl (Node can parse
 * but not create X.509 certificates). No extended key usage is set: Go's verifier accepts any usage then.
 */
export async function makeSelfSignedCertificate(options: SelfSignedOptions): Promise<void> {
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-subj',
    `/CN=${options.commonName}`,
    ...(options.subjectAltName ? ['-addext', `subjectAltName=${options.subjectAltName}`] : []),
    '-days',
    String(options.days),
    '-keyout',
    options.keyPath,
    '-out',
    options.certificatePath,
  ]);
}
