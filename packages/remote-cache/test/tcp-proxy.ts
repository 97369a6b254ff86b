import { connect, createServer, type Socket } from 'node:net';

export interface CuttingProxy {
  /** `127.0.0.1:PORT` of the proxy. */
  readonly address: string;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

export interface CuttingProxyOptions {
  /** Port of the server on 127.0.0.1. */
  readonly targetPort: number;
  /** Cut the first connection once this many bytes went from server to client. */
  readonly cutDownstreamAfter?: number;
  /** Cut the first connection once this many bytes went from client to server. */
  readonly cutUpstreamAfter?: number;
}

/**
 * A TCP proxy in front of a real server that breaks the first connection mid-transfer (both sockets
 * destroyed, as a dropped network link would), and passes every later connection through untouched.
 */
export function startCuttingProxy(options: CuttingProxyOptions): Promise<CuttingProxy> {
  let count = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    count += 1;
    const first = count === 1;
    const upstream = connect(options.targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    const relay = (from: Socket, to: Socket, limit: number | undefined) => {
      let seen = 0;
      from.on('data', (chunk: Buffer) => {
        if (first && limit !== undefined) {
          if (seen + chunk.length >= limit) {
            to.write(chunk.subarray(0, Math.max(0, limit - seen)));
            cut();
            return;
          }
          seen += chunk.length;
        }
        if (!to.write(chunk)) {
          from.pause();
          to.once('drain', () => from.resume());
        }
      });
    };
    relay(upstream, client, options.cutDownstreamAfter);
    relay(client, upstream, options.cutUpstreamAfter);
    for (const s of [client, upstream]) {
      s.on('error', cut);
      s.on('close', () => {
        sockets.delete(s);
        cut();
      });
    }
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      resolve({
        address: `127.0.0.1:${port}`,
        connections: () => count,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
