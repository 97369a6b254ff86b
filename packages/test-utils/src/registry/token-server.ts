import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signEs256Jwt } from './jwt.js';
import type { TokenSigningKey } from './token-keys.js';
import { grantAccess, parseScope, type RegistryUser, type ResourceAccess } from './token-policy.js';

export interface TokenServerOptions {
  key: TokenSigningKey;
  /** `iss` claim; distribution checks it against auth.token.issuer. */
  issuer: string;
  /** `aud` claim and the `service` parameter; distribution checks it against auth.token.service. */
  service: string;
  users: readonly RegistryUser[];
  /** Anonymous clients get `pull` on every repository. Default false (they get a token granting nothing). */
  anonymousPull?: boolean;
  /** Token lifetime. Default DEFAULT_TOKEN_TTL_SECONDS. */
  ttlSeconds?: number;
}

export const DEFAULT_TOKEN_TTL_SECONDS = 300;

/** One request the token server answered (no credentials recorded). */
export interface TokenRequestRecord {
  method: string;
  /** Authenticated user, undefined for anonymous or rejected requests. */
  username: string | undefined;
  scopes: string[];
  granted: ResourceAccess[];
  status: number;
}

export interface TokenServer {
  /** The `realm` URL: http://127.0.0.1:PORT/token */
  realm: string;
  port: number;
  /** Every request answered so far, oldest first. */
  requests(): TokenRequestRecord[];
  stop(): Promise<void>;
}

interface Credentials {
  username: string;
  password: string;
}

function basicCredentials(req: IncomingMessage): Credentials | undefined {
  const header = req.headers.authorization;
  if (header === undefined || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': bytes.length, ...headers });
  res.end(bytes);
}

/**
 * A Docker token server (https://distribution.github.io/distribution/spec/auth/token/) for tests:
 * GET /token?service=&scope=... with optional Basic credentials, and the OAuth2 password grant
 * (POST form grant_type=password). Issues ES256 JWTs with the signing certificate in the `x5c` header.
 */
export async function startTokenServer(opts: TokenServerOptions): Promise<TokenServer> {
  const ttl = opts.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  const anonymousPull = opts.anonymousPull ?? false;
  const records: TokenRequestRecord[] = [];

  const issue = (
    username: string | undefined,
    scopes: string[],
  ): { token: string; granted: ResourceAccess[] } => {
    const user = opts.users.find((u) => u.username === username);
    const granted = scopes
      .map(parseScope)
      .filter((s): s is ResourceAccess => s !== undefined)
      .map((s) => grantAccess(s, user, anonymousPull));
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: opts.issuer,
      sub: username ?? '',
      aud: opts.service,
      exp: now + ttl,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(16).toString('hex'),
      access: granted,
    };
    const token = signEs256Jwt(
      { typ: 'JWT', x5c: [opts.key.certificateBase64] },
      claims,
      opts.key.privateKey,
    );
    return { token, granted };
  };

  const authenticate = (creds: Credentials | undefined): { ok: boolean; username: string | undefined } => {
    if (creds === undefined) return { ok: true, username: undefined };
    const user = opts.users.find((u) => u.username === creds.username && u.password === creds.password);
    return user === undefined ? { ok: false, username: undefined } : { ok: true, username: user.username };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/token') {
      sendJson(res, 404, { errors: [{ code: 'NOT_FOUND', message: 'no such endpoint' }] });
      return;
    }
    let creds: Credentials | undefined;
    let scopes: string[];
    let service: string | null;
    if (req.method === 'GET') {
      creds = basicCredentials(req);
      scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' '));
      service = url.searchParams.get('service');
    } else if (req.method === 'POST') {
      const form = await formBody(req);
      if (form.get('grant_type') !== 'password') {
        records.push({ method: 'POST', username: undefined, scopes: [], granted: [], status: 400 });
        sendJson(res, 400, { error: 'unsupported_grant_type' });
        return;
      }
      creds = { username: form.get('username') ?? '', password: form.get('password') ?? '' };
      scopes = form.getAll('scope').flatMap((s) => s.split(' '));
      service = form.get('service');
    } else {
      sendJson(res, 405, { errors: [{ code: 'UNSUPPORTED', message: 'method not allowed' }] });
      return;
    }
    scopes = scopes.filter((s) => s !== '');
    const method = req.method;
    if (service !== null && service !== opts.service) {
      records.push({ method, username: undefined, scopes, granted: [], status: 400 });
      sendJson(res, 400, { errors: [{ code: 'INVALID_SERVICE', message: `unknown service ${service}` }] });
      return;
    }
    const auth = authenticate(creds);
    if (!auth.ok) {
      records.push({ method, username: undefined, scopes, granted: [], status: 401 });
      sendJson(
        res,
        401,
        { errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }] },
        { 'www-authenticate': 'Basic realm="img-test-token-server"' },
      );
      return;
    }
    const { token, granted } = issue(auth.username, scopes);
    records.push({ method, username: auth.username, scopes, granted, status: 200 });
    sendJson(res, 200, {
      token,
      access_token: token,
      expires_in: ttl,
      issued_at: new Date().toISOString(),
    });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { errors: [{ code: 'INTERNAL', message: String(error) }] });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    port,
    requests: () => records.map((r) => ({ ...r, scopes: [...r.scopes], granted: [...r.granted] })),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
