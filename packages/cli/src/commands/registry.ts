import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  type BlobStore,
  CasBlobStore,
  FileBlobStore,
  KEEPALIVE_CHANNEL,
  type KeepAliveReport,
  REQUEST_CHANNEL,
  type RequestEvent,
  startRegistryServer,
} from '@img/cas-registry';
import { connectRemoteCache, type RemoteCache } from '@img/remote-cache';
import type { Command } from 'commander';
import type { Io } from '../io.js';
import { CliError } from '../util/errors.js';
import { parseDurationFlag, parseIntFlag } from '../util/flags.js';

interface RegistryServeFlags {
  address: string;
  port: string;
  storage?: string;
  blobs?: string;
  ttl?: string;
  reapiEndpoint?: string;
  reapiInstanceName?: string;
  credentialHelper?: string;
  casKeepalive?: boolean;
  casKeepaliveInterval?: string;
  casKeepaliveMaxBlobs?: string;
  verbose?: boolean;
}

/** Where manifests and tags live without --storage: the XDG state directory (they must survive restarts). */
export function defaultStorage(env: NodeJS.ProcessEnv = process.env): string {
  const state = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(state, 'img', 'registry');
}

/** The blob store the flags ask for: the remote cache's CAS, a directory, or the default (<storage>/blobs). */
function blobStoreFor(
  flags: RegistryServeFlags,
  storage: string,
): { store?: BlobStore; cache?: RemoteCache } {
  if (flags.reapiEndpoint === undefined) {
    for (const [given, flag] of [
      [flags.reapiInstanceName, '--reapi-instance-name'],
      [flags.credentialHelper, '--credential-helper'],
      [flags.casKeepalive, '--cas-keepalive'],
    ] as const) {
      if (given !== undefined) throw new CliError('IMG_CLI_USAGE', `${flag} needs --reapi-endpoint`);
    }
    return flags.blobs ? { store: new FileBlobStore(resolve(flags.blobs)) } : {};
  }
  if (flags.blobs !== undefined) {
    throw new CliError('IMG_CLI_USAGE', '--blobs and --reapi-endpoint: blobs live in one place; choose one');
  }
  const cache = connectRemoteCache(flags.reapiEndpoint, {
    ...(flags.reapiInstanceName !== undefined ? { instanceName: flags.reapiInstanceName } : {}),
    ...(flags.credentialHelper !== undefined ? { credentialHelper: flags.credentialHelper } : {}),
  });
  return { store: new CasBlobStore(cache, { root: join(storage, 'cas') }), cache };
}

function keepAliveOptions(flags: RegistryServeFlags) {
  if (!flags.casKeepalive) {
    if (flags.casKeepaliveInterval !== undefined || flags.casKeepaliveMaxBlobs !== undefined) {
      throw new CliError(
        'IMG_CLI_USAGE',
        '--cas-keepalive-interval and --cas-keepalive-max-blobs need --cas-keepalive',
      );
    }
    return undefined;
  }
  return {
    ...(flags.casKeepaliveInterval !== undefined
      ? { intervalMs: parseDurationFlag(flags.casKeepaliveInterval, '--cas-keepalive-interval') }
      : {}),
    ...(flags.casKeepaliveMaxBlobs !== undefined
      ? { maxBlobs: parseIntFlag(flags.casKeepaliveMaxBlobs, '--cas-keepalive-max-blobs', 1, 10_000_000) }
      : {}),
  };
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
  const keepAlive = keepAliveOptions(flags);
  const storage = resolve(flags.storage ?? defaultStorage());
  const { store, cache } = blobStoreFor(flags, storage);
  const log = (message: unknown) => {
    const e = message as RequestEvent;
    io.err(`${e.method} ${e.path} ${e.status} ${e.durationMs}ms${e.error ? ` ${String(e.error)}` : ''}`);
  };
  // Lost blobs and failed passes are always worth a line; a pass that found everything only with --verbose.
  const logKeepAlive = (message: unknown) => {
    const r = message as KeepAliveReport;
    if (r.error !== undefined)
      io.err(`img registry: keepalive failed: ${String((r.error as Error)?.message ?? r.error)}`);
    else if (r.missing.length > 0) {
      io.err(
        `img registry: keepalive: ${r.missing.length} live blob(s) missing from the remote cache (${r.missing.slice(0, 3).join(', ')}${r.missing.length > 3 ? ', ...' : ''}); images using them fail to pull until pushed again`,
      );
    } else if (flags.verbose)
      io.err(
        `img registry: keepalive: ${r.refreshed} of ${r.live} live blobs refreshed in ${r.durationMs}ms`,
      );
  };
  if (flags.verbose) subscribe(REQUEST_CHANNEL, log);
  if (keepAlive) subscribe(KEEPALIVE_CHANNEL, logKeepAlive);
  try {
    const server = await startRegistryServer({
      storage,
      host: flags.address,
      port,
      ...(store ? { blobStore: store } : {}),
      ...(ttlMs !== undefined ? { ttlMs } : {}),
      ...(keepAlive ? { keepAlive } : {}),
    });
    if (!io.quiet) {
      const blobs = cache
        ? `, blobs in ${cache.endpoint.url}${cache.instanceName ? ` instance ${cache.instanceName}` : ''}`
        : '';
      const extras = [flags.ttl ? `ttl ${flags.ttl}` : '', keepAlive ? 'cas keepalive' : ''].filter(Boolean);
      io.err(
        `img registry: serving http://${server.address} (storage ${storage}${blobs}${extras.length ? `, ${extras.join(', ')}` : ''}); SIGTERM or Ctrl-C stops it`,
      );
    }
    io.out(server.address);
    const why = await stopRequested(signal);
    await server.close();
    if (!io.quiet) io.err(`img registry: stopped (${why})`);
  } finally {
    cache?.close();
    if (flags.verbose) unsubscribe(REQUEST_CHANNEL, log);
    if (keepAlive) unsubscribe(KEEPALIVE_CHANNEL, logKeepAlive);
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
    .option(
      '--storage <dir>',
      'directory for manifests, tags, uploads (and blobs, unless --blobs or --reapi-endpoint); default $XDG_STATE_HOME/img/registry',
    )
    .option('--blobs <dir>', 'directory for blobs (default: <storage>/blobs)')
    .option(
      '--reapi-endpoint <url>',
      "keep blobs in this Bazel remote cache's CAS (grpc://HOST:PORT, grpcs://HOST[:PORT], HOST:PORT, unix:PATH)",
    )
    .option(
      '--reapi-instance-name <name>',
      "the remote cache's instance name (Bazel's --remote_instance_name)",
    )
    .option(
      '--credential-helper <path>',
      "credential helper for the remote cache (Bazel's --credential_helper)",
    )
    .option(
      '--cas-keepalive',
      'keep live blobs (reachable from tags) in the CAS: FindMissingBlobs on the most recently used at an interval',
    )
    .option('--cas-keepalive-interval <duration>', 'time between keepalive passes (default 10m)')
    .option(
      '--cas-keepalive-max-blobs <n>',
      'most blobs kept alive, most recently used first (default 100000)',
    )
    .option(
      '--ttl <duration>',
      'drop manifests and blobs no tag has reached for this long (30m, 24h, 7d); default: never. With --reapi-endpoint only the records go: nothing can delete from a CAS',
    )
    .option('--verbose', 'log one line per request on stderr')
    .action(async (flags: RegistryServeFlags) => {
      await runRegistryServe(flags, io);
    });
}
