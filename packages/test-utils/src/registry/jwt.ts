import { type KeyObject, sign } from 'node:crypto';

const base64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

/** Signs a compact JWS with ES256 (raw r||s signature, as JOSE requires). */
export function signEs256Jwt(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  key: KeyObject,
): string {
  const signingInput = `${base64url(JSON.stringify({ ...header, alg: 'ES256' }))}.${base64url(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' });
  return `${signingInput}.${base64url(signature)}`;
}

/** Decodes (without verifying) the header and claims of a compact JWT; for tests. */
export function decodeJwt(token: string): {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
} {
  const [header, claims] = token.split('.');
  if (header === undefined || claims === undefined) throw new Error('not a compact JWT');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')),
    claims: JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')),
  };
}
