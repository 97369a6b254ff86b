import { connect, createServer, type Server, type Socket } from 'node:net';

/** What the proxy does to one HTTP request. */
export type Fault =
  | { readonly kind: 'pass' }
  /** Forward the head and `afterBytes` of the body, then reset both connections. */
  | { readonly kind: 'reset-request'; readonly afterBytes: number }
  /** Forward the request, then reset after `afterBytes` of the response. */
  | { readonly kind: 'reset-response'; readonly afterBytes: number }
  /** Answer with this status (the registry never sees the request), then close the connection. */
  | { readonly kind: 'status'; readonly status: number; readonly retryAfter?: string }
  /** Hold the request this long before forwarding it. */
  | { readonly kind: 'slow'; readonly delayMs: number };

export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  readonly contentLength: number;
}

export type FaultPlan = (req: ProxiedRequest) => Fault;

export interface FaultProxy {
  /** `127.0.0.1:PORT`, usable as a registry name. */
  readonly url: string;
  readonly port: number;
  /** How many of each fault were injected. */
  readonly injected: Record<Fault['kind'], number>;
  /** Every request seen, with the fault applied. */
  readonly log: { req: ProxiedRequest; fault: Fault['kind'] }[];
  setPlan(plan: FaultPlan): void;
  stop(): Promise<void>;
}

const REASONS: Record<number, string> = {
  408: 'Request Timeout',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/**
 * A fault-injecting TCP proxy for HTTP/1.1 (test code): it follows request framing on each client
 * connection (Content-Length bodies) so it can reset mid-body, answer 503/429 with Retry-After,
 * slow requests down or cut responses, in front of a real registry.
 */
export async function startFaultProxy(
  target: { host: string; port: number },
  initial: FaultPlan,
): Promise<FaultProxy> {
  let plan = initial;
  const sockets = new Set<Socket>();
  const injected: Record<Fault['kind'], number> = {
    pass: 0,
    'reset-request': 0,
    'reset-response': 0,
    status: 0,
    slow: 0,
  };
  const log: FaultProxy['log'] = [];

  const server: Server = createServer((client) => {
    sockets.add(client);
    const upstream = connect(target.port, target.host);
    sockets.add(upstream);
    let closed = false;
    const kill = () => {
      if (closed) return;
      closed = true;
      client.resetAndDestroy();
      upstream.destroy();
    };
    client.on('close', () => {
      sockets.delete(client);
      upstream.destroy();
    });
    upstream.on('close', () => {
      sockets.delete(upstream);
      if (!closed) client.destroy();
    });
    client.on('error', kill);
    upstream.on('error', kill);

    let head = Buffer.alloc(0);
    let bodyLeft = 0;
    let mode: 'forward' | 'swallow' | 'cut' = 'forward';
    let cutAfter = 0;
    let pendingStatus: Extract<Fault, { kind: 'status' }> | undefined;
    let responseCut: number | undefined;
    let queue: Promise<void> = Promise.resolve();

    upstream.on('data', (chunk: Buffer) => {
      if (responseCut === undefined) {
        client.write(chunk);
        return;
      }
      if (chunk.length >= responseCut) {
        client.write(chunk.subarray(0, responseCut), () => kill());
        responseCut = 0;
        return;
      }
      responseCut -= chunk.length;
      client.write(chunk);
    });

    const answer = (fault: Extract<Fault, { kind: 'status' }>) => {
      const lines = [
        `HTTP/1.1 ${fault.status} ${REASONS[fault.status] ?? 'Error'}`,
        'Content-Type: application/json',
        'Connection: close',
        ...(fault.retryAfter !== undefined ? [`Retry-After: ${fault.retryAfter}`] : []),
      ];
      const body = JSON.stringify({
        errors: [{ code: 'TOOMANYREQUESTS', message: 'injected by the fault proxy' }],
      });
      client.end(`${lines.join('\r\n')}\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      upstream.destroy();
      closed = true;
    };

    const onBody = (data: Buffer): void => {
      const part = data.subarray(0, bodyLeft);
      const rest = data.subarray(part.length);
      bodyLeft -= part.length;
      if (mode === 'forward') upstream.write(part);
      else if (mode === 'cut') {
        if (part.length >= cutAfter) {
          upstream.write(part.subarray(0, cutAfter), () => setTimeout(kill, 5));
          cutAfter = 0;
          mode = 'swallow';
          return;
        }
        cutAfter -= part.length;
        upstream.write(part);
      }
      if (bodyLeft === 0 && pendingStatus) {
        const s = pendingStatus;
        pendingStatus = undefined;
        answer(s);
        return;
      }
      if (rest.length > 0) onData(rest);
    };

    const onHead = async (headBytes: Buffer): Promise<void> => {
      const text = headBytes.toString('latin1');
      const [requestLine = ''] = text.split('\r\n');
      const [method = '', path = ''] = requestLine.split(' ');
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(text);
      const contentLength = m ? Number(m[1]) : 0;
      const req = { method, path, contentLength };
      const fault = plan(req);
      injected[fault.kind]++;
      log.push({ req, fault: fault.kind });
      bodyLeft = contentLength;
      responseCut = undefined;
      mode = 'forward';
      switch (fault.kind) {
        case 'slow':
          client.pause();
          await new Promise((r) => setTimeout(r, fault.delayMs));
          client.resume();
          upstream.write(headBytes);
          break;
        case 'status':
          mode = 'swallow';
          if (contentLength === 0) answer(fault);
          else pendingStatus = fault;
          break;
        case 'reset-request':
          if (contentLength === 0) {
            kill();
            return;
          }
          upstream.write(headBytes);
          mode = 'cut';
          cutAfter = Math.min(fault.afterBytes, contentLength - 1);
          break;
        case 'reset-response':
          upstream.write(headBytes);
          responseCut = fault.afterBytes;
          break;
        default:
          upstream.write(headBytes);
      }
    };

    const onData = (data: Buffer): void => {
      if (closed) return;
      if (bodyLeft > 0) {
        onBody(data);
        return;
      }
      head = Buffer.concat([head, data]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const headBytes = head.subarray(0, end + 4);
      const rest = head.subarray(end + 4);
      head = Buffer.alloc(0);
      client.pause();
      queue = queue.then(async () => {
        await onHead(headBytes);
        if (!closed) {
          client.resume();
          if (rest.length > 0) onData(rest);
        }
      });
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `127.0.0.1:${port}`,
    port,
    injected,
    log,
    setPlan(p) {
      plan = p;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A small deterministic PRNG (mulberry32), so a failing fault run can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
