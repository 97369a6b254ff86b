import { createServer, type Socket } from 'node:net';

export interface SilentServer {
  /** `host:port`. */
  readonly host: string;
  /** Connections accepted so far. */
  readonly connections: () => number;
  stop(): Promise<void>;
}

/**
 * A TCP server that accepts connections and never sends a byte: HTTP requests to it get no
 * response headers, and a TLS handshake with it never completes (a connect timeout for HTTPS clients).
 */
export async function startSilentServer(host = '127.0.0.1'): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.resume(); // read and drop what the client sends
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    host: `${host}:${port}`,
    connections: () => accepted,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
