import type { ServerResponse } from 'node:http';
import type { PlainResponse } from './store.js';

/**
 * What a hostile registry does to one request instead of answering it well. Only faults a real
 * registry cannot be made to show: use Debian's docker-registry for everything else.
 */
export type HostileFault =
  /** Answer with this status (and `Retry-After`, and a body: a distribution error by default). */
  | { readonly kind: 'status'; readonly status: number; readonly retryAfter?: string; readonly body?: string }
  /** Read the request body, never answer. */
  | { readonly kind: 'hang' }
  /** Never read the request body (the client's writes stall), never answer. */
  | { readonly kind: 'hang-unread' }
  /** The real response, but its body stops after `afterBytes` (the connection stays open). */
  | { readonly kind: 'stall-body'; readonly afterBytes: number }
  /** The real response, the connection reset after `afterBytes` of its body. */
  | { readonly kind: 'reset'; readonly afterBytes: number }
  /** 200 with a body that never ends (no Content-Length, zeros as fast as the client reads). */
  | { readonly kind: 'endless' }
  /** The real response, one body byte every `intervalMs`. */
  | { readonly kind: 'trickle'; readonly intervalMs: number }
  /** The real headers with other bytes of the same length (every byte inverted). */
  | { readonly kind: 'wrong-bytes' }
  /** The real response from the start, ignoring any `Range` the request asked for. */
  | { readonly kind: 'ignore-range' }
  /** A redirect (307 by default) to `location`, e.g. on another origin. */
  | { readonly kind: 'redirect'; readonly location: string; readonly status?: number };

function distributionError(status: number): string {
  const code = status === 429 ? 'TOOMANYREQUESTS' : status >= 500 ? 'UNAVAILABLE' : 'DENIED';
  return JSON.stringify({ errors: [{ code, message: `hostile registry: HTTP ${status}` }] });
}

/** Write `plain` to `res` with `fault` applied (or as is when there is none). */
export function writeWithFault(
  res: ServerResponse,
  plain: PlainResponse,
  fault: HostileFault | undefined,
): void {
  const socket = res.socket;
  switch (fault?.kind) {
    case undefined:
    case 'ignore-range':
      res.writeHead(plain.status, plain.headers).end(plain.body);
      return;
    case 'status': {
      const body = Buffer.from(fault.body ?? distributionError(fault.status));
      const headers: Record<string, string | number> = {
        'content-type': 'application/json',
        'content-length': body.length,
      };
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      res.writeHead(fault.status, headers).end(body);
      return;
    }
    case 'hang':
    case 'hang-unread':
      return;
    case 'stall-body':
      res.writeHead(plain.status, plain.headers);
      res.write(plain.body.subarray(0, fault.afterBytes));
      return;
    case 'reset':
      res.writeHead(plain.status, plain.headers);
      res.write(plain.body.subarray(0, fault.afterBytes), () => socket?.destroy());
      return;
    case 'endless': {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024);
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk)) {
          // keep writing until the socket pushes back
        }
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
      return;
    }
    case 'trickle': {
      res.writeHead(plain.status, plain.headers);
      let at = 0;
      const timer = setInterval(() => {
        if (res.destroyed || at >= plain.body.length) {
          clearInterval(timer);
          if (!res.destroyed) res.end();
          return;
        }
        res.write(plain.body.subarray(at, at + 1));
        at++;
      }, fault.intervalMs);
      res.once('close', () => clearInterval(timer));
      return;
    }
    case 'wrong-bytes': {
      const body = Buffer.from(plain.body);
      for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ 0xff;
      res.writeHead(plain.status, plain.headers).end(body);
      return;
    }
    case 'redirect':
      res.writeHead(fault.status ?? 307, { location: fault.location, 'content-length': 0 }).end();
      return;
  }
}
