import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { type Daemon, spawnDaemon, waitUntilReady } from '../daemon.js';
import { missingToolError } from '../errors.js';
import { freePort } from '../net.js';
import { type TempDir, tempDir } from '../temp-dir.js';
import { findTool } from '../tools.js';
import { buildGridConfig } from './buildgrid-config.js';

export interface StartBuildGridOptions {
  /** Instance names served. Default ['', 'main'] (the default instance and a named one). */
  readonly instanceNames?: readonly string[];
  /** Require HS256 JWTs signed with this secret (`authorization: Bearer ...`, with `exp`). Default: no auth. */
  readonly jwtSecret?: string;
  /** Serve TLS with this PEM key and certificate (grpcs://). Default plaintext. */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** Listen on a unix socket in the temp dir instead of a loopback port. Default false. */
  readonly unixSocket?: boolean;
  /** Default DEFAULT_BUILDGRID_START_TIMEOUT_MS. */
  readonly startTimeoutMs?: number;
  /**
   * Keep blobs in memory, at most this many bytes, evicting the least recently used (a write, a read
   * or a FindMissingBlobs counts as a use), instead of on disk. `blobPath` then names no file.
   */
  readonly lruStorageBytes?: number;
}

export const DEFAULT_BUILDGRID_START_TIMEOUT_MS = 30_000;

export interface TestBuildGrid {
  /** `grpc://127.0.0.1:PORT`, `grpcs://localhost:PORT` or `unix://PATH`: what a client connects to. */
  readonly endpoint: string;
  /** Loopback port (0 with a unix socket). */
  readonly port: number;
  readonly instanceNames: readonly string[];
  /** Temp dir holding config, storage and log; removed by stop(). */
  readonly dir: string;
  /** The disk storage root of each instance (each instance has its own CAS). */
  readonly storageDirs: Readonly<Record<string, string>>;
  readonly logPath: string;
  readonly pid: number;
  /**
   * Where an instance's disk storage keeps the blob with this sha256 hex (delete it to evict, edit it to
   * corrupt). Default instance ''.
   */
  blobPath(hash: string, instanceName?: string): string;
  log(): Promise<string>;
  /** Stops BuildGrid (SIGTERM) and removes the temp dir. */
  stop(): Promise<void>;
}

function canConnect(options: { port: number } | { path: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = 'path' in options ? connect(options.path) : connect(options.port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts BuildGrid 0.4.4 (`bgd server start`, installed into .tools by scripts/install-test-tools.sh)
 * as a REAPI v2 cache: CAS, ByteStream and ActionCache on disk storage under a temp dir, on a free
 * loopback port (or a unix socket); waits until it accepts connections.
 */
export async function startBuildGrid(options: StartBuildGridOptions = {}): Promise<TestBuildGrid> {
  const bgd = findTool('bgd');
  if (bgd === undefined) throw missingToolError(['bgd (BuildGrid)']);
  const instanceNames = options.instanceNames ?? ['', 'main'];
  const dir: TempDir = await tempDir('buildgrid-');
  let daemon: Daemon | undefined;
  try {
    const storageDirs = Object.fromEntries(instanceNames.map((name, i) => [name, dir.join(`storage-${i}`)]));
    const configPath = dir.join('buildgrid.yml');
    const logPath = dir.join('buildgrid.log');
    let jwtSecretPath: string | undefined;
    if (options.jwtSecret !== undefined) {
      jwtSecretPath = dir.join('jwt.secret');
      await writeFile(jwtSecretPath, options.jwtSecret, { mode: 0o600 });
    }
    let tls: { keyPath: string; certPath: string } | undefined;
    if (options.tls) {
      tls = { keyPath: dir.join('server.key'), certPath: dir.join('server.crt') };
      await writeFile(tls.keyPath, options.tls.key, { mode: 0o600 });
      await writeFile(tls.certPath, options.tls.cert);
    }
    const socketPath = dir.join('buildgrid.sock');
    const port = options.unixSocket ? 0 : await freePort();
    const address = options.unixSocket ? `unix:${socketPath}` : `127.0.0.1:${port}`;
    await writeFile(
      configPath,
      buildGridConfig({
        address,
        storageDirs: instanceNames.map((n) => storageDirs[n]!),
        instanceNames,
        jwtSecretPath,
        tls,
        ...(options.lruStorageBytes !== undefined ? { lruStorageBytes: options.lruStorageBytes } : {}),
      }),
    );
    // Python buffers its log when not on a terminal; unbuffered, the log is there when a test fails.
    daemon = spawnDaemon(bgd, ['server', 'start', configPath], logPath, {
      cwd: dir.path,
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    });
    const started = daemon;
    await waitUntilReady(
      started,
      `BuildGrid (${address})`,
      () => canConnect(options.unixSocket ? { path: socketPath } : { port }),
      options.startTimeoutMs ?? DEFAULT_BUILDGRID_START_TIMEOUT_MS,
    );
    const endpoint = options.unixSocket
      ? `unix://${socketPath}`
      : `${options.tls ? 'grpcs' : 'grpc'}://${options.tls ? 'localhost' : '127.0.0.1'}:${port}`;
    return {
      endpoint,
      port,
      instanceNames,
      dir: dir.path,
      storageDirs,
      logPath,
      pid: started.pid,
      blobPath: (hash, instanceName = '') => {
        const root = storageDirs[instanceName];
        if (root === undefined)
          throw new TypeError(`BuildGrid serves no instance ${JSON.stringify(instanceName)}`);
        return join(root, 'cas', 'objects', hash.slice(0, 2), hash.slice(2));
      },
      log: () => started.log(),
      async stop() {
        await started.stop(5_000);
        await dir.remove();
      },
    };
  } catch (err) {
    await daemon?.stop(1_000);
    await dir.remove();
    throw err;
  }
}
