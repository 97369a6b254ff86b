import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { type HostileFault, writeWithFault } from './faults.js';
import { RegistryStore } from './store.js';

/** One request as the hostile registry saw it. */
export interface HostileRequest {
  readonly method: string;
  /** Path and query as sent. */
  readonly url: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** Request body bytes received so far (a fault may stop reading). */
  bodyBytes: number;
  /** The fault applied, if any. */
  fault?: HostileFault['kind'];
}

/** Picks the fault for a request (before its body is read), or undefined to answer it well. */
export type HostileFaultPlan = (req: HostileRequest) => HostileFault | undefined;

export interface HostileRegistryAuth {
  /** `basic`: a 401 Basic challenge; `bearer`: a Bearer challenge naming `realm` (default this server's /token). */
  readonly scheme: 'basic' | 'bearer';
  readonly username: string;
  readonly password: string;
  /** The Bearer realm, e.g. `http://127.0.0.1:PORT/token` of another server. */
  readonly realm?: string;
}

export interface HostileRegistryOptions {
  /** Address to listen on; default 127.0.0.1. Clients use HTTPS for non-loopback names such as 127.0.0.2. */
  readonly host?: string;
  /** Serve HTTPS with this key and certificate (see makeTlsCertificate). */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** Require credentials on /v2/ (the /token endpoint grants tokens to anyone, logging what it got). */
  readonly auth?: HostileRegistryAuth;
  /** The Location of a new upload session (default `/v2/<repo>/blobs/uploads/<id>` here). */
  readonly uploadLocation?: (repository: string, id: string) => string;
  readonly faults?: HostileFaultPlan;
}

export interface HostileRegistry {
  /** `host:port`, as a registry client is given it. */
  readonly host: string;
  /** `http(s)://host:port`. */
  readonly origin: string;
  /** Every request, in order (token requests included). */
  readonly requests: HostileRequest[];
  readonly store: RegistryStore;
  /** Replace the fault plan (undefined: answer everything well). */
  setFaults(plan: HostileFaultPlan | undefined): void;
  stop(): Promise<void>;
}

const TOKEN_PREFIX = 'hostile-token-';

/**
 * A tiny in-process OCI registry for the faults a real registry cannot be made to show: wrong bytes,
 * endless or stalled bodies, hanging requests, resets mid-body, offsite Locations and realms, status
 * storms. It logs every request (headers included) so tests can assert exactly what a client sent,
 * e.g. that no Authorization reached another origin. Beside the real docker-registry tests, never
 * instead of them.
 */
export async function startHostileRegistry(options: HostileRegistryOptions = {}): Promise<HostileRegistry> {
  const store = new RegistryStore();
  const requests: HostileRequest[] = [];
  const sockets = new Set<Socket>();
  let plan = options.faults;
  let tokens = 0;
  const host = options.host ?? '127.0.0.1';
  let origin = '';

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://hostile');
    const entry: HostileRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      path: url.pathname,
      headers: req.headers,
      bodyBytes: 0,
    };
    requests.push(entry);
    const fault = plan?.(entry);
    if (fault) entry.fault = fault.kind;
    if (fault?.kind === 'hang-unread') return;
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) {
        chunks.push(chunk as Buffer);
        entry.bodyBytes += (chunk as Buffer).length;
      }
    } catch {
      return; // the client went away mid-body
    }
    const body = Buffer.concat(chunks);
    if (url.pathname === '/token') {
      const token = Buffer.from(JSON.stringify({ token: `${TOKEN_PREFIX}${++tokens}`, expires_in: 300 }));
      writeWithFault(
        res,
        {
          status: 200,
          headers: { 'content-type': 'application/json', 'content-length': token.length },
          body: token,
        },
        fault,
      );
      return;
    }
    const challenge = options.auth && !authorized(options.auth, req.headers.authorization);
    if (challenge && options.auth) {
      const www =
        options.auth.scheme === 'basic'
          ? 'Basic realm="hostile"'
          : `Bearer realm="${options.auth.realm ?? `${origin}/token`}",service="hostile"`;
      const denied = Buffer.from('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      writeWithFault(
        res,
        {
          status: 401,
          headers: {
            'www-authenticate': www,
            'content-type': 'application/json',
            'content-length': denied.length,
          },
          body: denied,
        },
        fault,
      );
      return;
    }
    const headers = fault?.kind === 'ignore-range' ? { ...req.headers, range: undefined } : req.headers;
    const uploadLocation = options.uploadLocation ?? ((repo, id) => `/v2/${repo}/blobs/uploads/${id}`);
    writeWithFault(res, store.handle(entry.method, url, headers, body, uploadLocation), fault);
  };

  const server: Server = options.tls
    ? createHttpsServer(
        { key: options.tls.key, cert: options.tls.cert },
        (req, res) => void handler(req, res),
      )
    : createHttpServer((req, res) => void handler(req, res));
  server.on(options.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const hostPort = `${host}:${port}`;
  origin = `${options.tls ? 'https' : 'http'}://${hostPort}`;
  return {
    host: hostPort,
    origin,
    requests,
    store,
    setFaults: (next) => {
      plan = next;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function authorized(auth: HostileRegistryAuth, header: string | undefined): boolean {
  if (!header) return false;
  if (auth.scheme === 'bearer') return header.startsWith(`Bearer ${TOKEN_PREFIX}`);
  return header === `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
}
