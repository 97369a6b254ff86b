import { connect, createServer, type Socket } from 'node:net';

export interface CountingProxy {
  /** `127.0.0.1:PORT` of the proxy: give it to clients instead of the server's. */
  readonly address: string;
  readonly port: number;
  /** Bytes clients sent to the server through the proxy so far. */
  bytesUp(): number;
  /** Bytes the server sent back to clients so far. */
  bytesDown(): number;
  /** Start counting from zero again. */
  reset(): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy on a free loopback port in front of a server on 127.0.0.1:`targetPort`, counting the
 * bytes each way: what a machine sends to a registry, a remote cache or a BES, measured on the wire.
 */
export function startCountingProxy(options: { readonly targetPort: number }): Promise<CountingProxy> {
  let up = 0;
  let down = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(options.targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (chunk: Buffer) => {
      up += chunk.length;
    });
    upstream.on('data', (chunk: Buffer) => {
      down += chunk.length;
    });
    client.pipe(upstream);
    upstream.pipe(client);
    for (const s of [client, upstream]) {
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      resolve({
        address: `127.0.0.1:${port}`,
        port,
        bytesUp: () => up,
        bytesDown: () => down,
        reset() {
          up = 0;
          down = 0;
        },
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
