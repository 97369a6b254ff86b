import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { resolve } from 'node:path';
import { FileBlobStore, REQUEST_CHANNEL, type RequestEvent, startRegistryServer } from '@img/cas-registry';
import type { Command } from 'commander';
import type { Io } from '../io.js';
import { parseDurationFlag, parseIntFlag } from '../util/flags.js';

interface RegistryServeFlags {
  address: string;
  port: string;
  storage: string;
  blobs?: string;
  ttl?: string;
  verbose?: boolean;
}

/** Resolves when the process is asked to stop (SIGTERM, SIGINT) or `signal` aborts. */
function stopRequested(signal?: AbortSignal): Promise<string> {
  return new Promise((done) => {
    const stop = (why: string) => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      signal?.removeEventListener('abort', onAbort);
      done(why);
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    const onAbort = () => stop('abort');
    process.once('SIGTERM', onTerm);
    process.once('SIGINT', onInt);
    if (signal?.aborted) stop('abort');
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Serves an OCI registry until SIGTERM/SIGINT (or `signal`): prints `host:port` on stdout once it
 * listens, then closes cleanly (requests in flight finish, up to 10 s).
 */
async function runRegistryServe(flags: RegistryServeFlags, io: Io, signal?: AbortSignal): Promise<void> {
  const port = parseIntFlag(flags.port, '--port', 0, 65535);
  const ttlMs = flags.ttl !== undefined ? parseDurationFlag(flags.ttl, '--ttl') : undefined;
  const storage = resolve(flags.storage);
  const server = await startRegistryServer({
    storage,
    host: flags.address,
    port,
    ...(flags.blobs ? { blobStore: new FileBlobStore(resolve(flags.blobs)) } : {}),
    ...(ttlMs !== undefined ? { ttlMs } : {}),
  });
  const log = (message: unknown) => {
    const e = message as RequestEvent;
    io.err(`${e.method} ${e.path} ${e.status} ${e.durationMs}ms${e.error ? ` ${String(e.error)}` : ''}`);
  };
  if (flags.verbose) subscribe(REQUEST_CHANNEL, log);
  try {
    if (!io.quiet) {
      io.err(
        `img registry: serving http://${server.address} (storage ${storage}${flags.ttl ? `, ttl ${flags.ttl}` : ''}); SIGTERM or Ctrl-C stops it`,
      );
    }
    io.out(server.address);
    const why = await stopRequested(signal);
    await server.close();
    if (!io.quiet) io.err(`img registry: stopped (${why})`);
  } finally {
    if (flags.verbose) unsubscribe(REQUEST_CHANNEL, log);
  }
}

export function registerRegistry(program: Command, io: Io): void {
  const registry = program.command('registry').description('run an OCI distribution registry');
  registry
    .command('serve')
    .description(
      'serve an OCI distribution-spec 1.1 registry (no TLS, no authentication: keep it on localhost or behind a gateway)',
    )
    .option('--address <host>', 'interface to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port, printed on stdout)', '5000')
    .requiredOption('--storage <dir>', 'directory for manifests, tags, uploads (and blobs, unless --blobs)')
    .option('--blobs <dir>', 'directory for blobs (default: <storage>/blobs)')
    .option(
      '--ttl <duration>',
      'drop manifests and blobs no tag has reached for this long (30m, 24h, 7d); default: never',
    )
    .option('--verbose', 'log one line per request on stderr')
    .action(async (flags: RegistryServeFlags) => {
      await runRegistryServe(flags, io);
    });
}
