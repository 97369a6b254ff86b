import { type IncomingMessage, request } from 'node:http';
import type { Readable } from 'node:stream';
import { LoadError } from '../errors.js';

/** Where Docker listens when DOCKER_HOST is unset. */
export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

export type DockerEndpoint =
  | { readonly socketPath: string; readonly display: string }
  | { readonly host: string; readonly port: number; readonly display: string };

/** Parse DOCKER_HOST: `unix:///path`, a bare socket path, or `tcp://host:port` (plain HTTP). */
export function dockerEndpoint(
  host: string = process.env.DOCKER_HOST || DEFAULT_DOCKER_HOST,
): DockerEndpoint {
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length), display: host };
  if (host.startsWith('/')) return { socketPath: host, display: `unix://${host}` };
  const m = /^(?:tcp|http):\/\/([^:/]+|\[[^\]]+\]):(\d+)\/?$/.exec(host);
  if (m) return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]), display: host };
  throw new LoadError(
    'IMG_LOAD_CONNECT',
    `DOCKER_HOST ${JSON.stringify(host)}: expected unix:///path or tcp://host:port`,
  );
}

export interface DockerResponse {
  readonly status: number;
  readonly body: IncomingMessage;
}

/** One Engine API request; `body` is streamed with back-pressure. */
export function dockerRequest(
  endpoint: DockerEndpoint,
  method: string,
  path: string,
  options: { body?: Readable; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<DockerResponse> {
  return new Promise((resolve, reject) => {
    const where =
      'socketPath' in endpoint
        ? { socketPath: endpoint.socketPath }
        : { host: endpoint.host, port: endpoint.port };
    const { signal } = options;
    const req = request(
      {
        ...where,
        method,
        path,
        headers: { Host: 'docker', ...options.headers },
        ...(signal ? { signal } : {}),
      },
      (res) => resolve({ status: res.statusCode ?? 0, body: res }),
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (signal?.aborted) return reject(signal.reason);
      const connect = ['ENOENT', 'ECONNREFUSED', 'EACCES', 'ENOTFOUND'].includes(err.code ?? '');
      reject(
        new LoadError(
          connect ? 'IMG_LOAD_CONNECT' : 'IMG_LOAD_DAEMON',
          `docker at ${endpoint.display}: ${method} ${path.split('?')[0]}: ${err.message}`,
          {
            cause: err,
          },
        ),
      );
    });
    if (options.body) {
      options.body.on('error', (err) => req.destroy(err));
      options.body.pipe(req);
    } else {
      req.end();
    }
  });
}

export async function readBody(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A request whose answer is JSON; non-2xx statuses come back as `{ status }` with the daemon's message. */
export async function dockerJson<T>(
  endpoint: DockerEndpoint,
  method: string,
  path: string,
): Promise<{ status: number; json?: T; message?: string }> {
  const res = await dockerRequest(endpoint, method, path);
  const text = await readBody(res.body);
  if (res.status >= 200 && res.status < 300)
    return { status: res.status, ...(text ? { json: JSON.parse(text) as T } : {}) };
  let message = text.trim();
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? message;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, message };
}

/**
 * Read a JSON-lines progress stream (`/images/load`, `/images/create`): Docker answers 200 before
 * it knows the outcome and reports failure as `{"error": ..., "errorDetail": {...}}` in the body.
 * Returns the `stream` lines; throws IMG_LOAD_DAEMON with the daemon's message on an error line.
 */
export async function readJsonMessages(res: IncomingMessage, what: string): Promise<string[]> {
  const text = await readBody(res);
  const lines: string[] = [];
  for (const raw of text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')) {
    let msg: { stream?: string; error?: string; errorDetail?: { message?: string }; status?: string };
    try {
      msg = JSON.parse(raw);
    } catch {
      throw new LoadError('IMG_LOAD_DAEMON', `${what}: unexpected answer from docker: ${raw.slice(0, 200)}`);
    }
    if (msg.error || msg.errorDetail)
      throw new LoadError('IMG_LOAD_DAEMON', `${what}: ${msg.errorDetail?.message ?? msg.error}`);
    if (msg.stream) lines.push(msg.stream.trim());
    else if (msg.status) lines.push(msg.status.trim());
  }
  return lines.filter((l) => l !== '');
}
