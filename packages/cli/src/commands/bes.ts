import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  casPushCommitter,
  PUSH_CHANNEL,
  type PushEvent,
  type PushRequestBlob,
  STREAM_CHANNEL,
  type StreamEvent,
  startBesListener,
} from '@img/bes-listener';
import { connectRemoteCache, type RemoteCache } from '@img/remote-cache';
import type { Command } from 'commander';
import { parseBesPushRequest } from '../deploy/bes-request.js';
import type { Io } from '../io.js';
import { CliError } from '../util/errors.js';
import { parseIntFlag } from '../util/flags.js';
import { createRegistryClient } from '../util/registry.js';
import { stopRequested } from '../util/stop.js';

interface BesServeFlags {
  address: string;
  port: string;
  casEndpoint?: string;
  instanceName?: string;
  credentialHelper?: string;
  registryCredentialHelper?: string;
  commitMode: string;
  jobs?: string;
  retries?: string;
  timeout?: string;
  verbose?: boolean;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** One line per push outcome (always), per attempt and per stream with --verbose. */
function pushLogger(io: Io, verbose: boolean) {
  const onPush = (m: unknown) => {
    const e = m as PushEvent;
    switch (e.state) {
      case 'pushed': {
        const o = e.outcome;
        io.err(
          `img bes: ${e.job.label}: pushed ${o.references.join(', ')} (${o.blobsUploaded} blobs, ${o.bytesUploaded} bytes, ${o.manifestsPushed} manifests sent; ${e.durationMs} ms${e.attempt > 1 ? `, attempt ${e.attempt}` : ''})`,
        );
        break;
      }
      case 'failed':
        io.err(
          `img bes: ${e.job.label}: push failed${e.attempt > 1 ? ` after ${e.attempt} attempts` : ''}: ${message(e.error)}`,
        );
        break;
      case 'retrying':
        io.err(
          `img bes: ${e.job.label}: attempt ${e.attempt} failed (${message(e.error)}); retrying in ${Math.round(e.delayMs / 1000)} s`,
        );
        break;
      case 'not-pushed':
        io.err(`img bes: ${e.label}: not pushed: ${e.reason}`);
        break;
      case 'started':
        if (verbose)
          io.err(
            `img bes: ${e.job.label}: pushing (request ${e.job.request.digest}, invocation ${e.job.invocationId ?? '?'})`,
          );
        break;
      case 'joined':
        if (verbose) io.err(`img bes: ${e.job.label}: the same push is running already`);
        break;
    }
  };
  const onStream = (m: unknown) => {
    const e = m as StreamEvent;
    if (e.state === 'unreadable-event')
      io.err(
        `img bes: invocation ${e.invocationId}: unreadable build event (acknowledged): ${message(e.error)}`,
      );
    else if (verbose && e.state === 'opened') io.err(`img bes: invocation ${e.invocationId}: stream opened`);
    else if (verbose && e.state === 'closed')
      io.err(`img bes: invocation ${e.invocationId}: stream closed after ${e.events} events`);
  };
  return {
    start() {
      subscribe(PUSH_CHANNEL, onPush);
      subscribe(STREAM_CHANNEL, onStream);
    },
    stop() {
      unsubscribe(PUSH_CHANNEL, onPush);
      unsubscribe(STREAM_CHANNEL, onStream);
    },
  };
}

/**
 * Serves the Build Event Service until SIGTERM/SIGINT (or `signal`): prints `host:port` on stdout once
 * it listens; pushes images of completed image_push targets built with push_strategy=bes.
 */
async function runBesServe(flags: BesServeFlags, io: Io, signal?: AbortSignal): Promise<void> {
  if (!flags.casEndpoint)
    throw new CliError('IMG_CLI_USAGE', '--cas-endpoint is required (the remote cache Bazel builds with)');
  const port = parseIntFlag(flags.port, '--port', 0, 65535);
  if (flags.commitMode !== 'background' && flags.commitMode !== 'per-stream')
    throw new CliError('IMG_CLI_USAGE', `--commit-mode ${flags.commitMode}: background or per-stream`);
  const attempts =
    flags.retries !== undefined ? parseIntFlag(flags.retries, '--retries', 0, 20) + 1 : undefined;
  const endpoint = flags.casEndpoint;
  const caches = new Map<string, RemoteCache>();
  // --instance-name wins; else the instance Bazel's bytestream:// URI names (its --remote_instance_name).
  const remoteCache = (request: PushRequestBlob): RemoteCache => {
    const instanceName = flags.instanceName ?? request.instanceName ?? '';
    let cache = caches.get(instanceName);
    if (!cache) {
      cache = connectRemoteCache(endpoint, {
        instanceName,
        ...(flags.credentialHelper ? { credentialHelper: flags.credentialHelper } : {}),
      });
      caches.set(instanceName, cache);
    }
    return cache;
  };
  connectRemoteCache(endpoint).close(); // the endpoint's form is checked before listening
  const registry = createRegistryClient({
    ...(flags.registryCredentialHelper ? { credentialHelper: flags.registryCredentialHelper } : {}),
    ...(flags.jobs !== undefined ? { jobs: flags.jobs } : {}),
    ...(flags.timeout !== undefined ? { timeout: flags.timeout } : {}),
  });
  const logger = pushLogger(io, flags.verbose === true);
  logger.start();
  try {
    const listener = await startBesListener({
      host: flags.address,
      port,
      commitMode: flags.commitMode,
      ...(attempts !== undefined ? { retry: { attempts } } : {}),
      commit: casPushCommitter({ remoteCache, registry, parseRequest: parseBesPushRequest }),
    });
    if (!io.quiet) {
      io.err(
        `img bes: serving grpc://${listener.address} (bazel --bes_backend=grpc://${listener.address}; images from ${endpoint}${flags.instanceName ? ` instance ${flags.instanceName}` : ''}; commit mode ${flags.commitMode}); SIGTERM or Ctrl-C stops it`,
      );
    }
    io.out(listener.address);
    const why = await stopRequested(signal);
    await listener.close();
    if (!io.quiet) io.err(`img bes: stopped (${why})`);
  } finally {
    logger.stop();
    await registry.close();
    for (const cache of caches.values()) cache.close();
  }
}

export function registerBes(program: Command, io: Io): void {
  const bes = program
    .command('bes')
    .description('Build Event Service: push images as a side effect of bazel build');
  bes
    .command('serve')
    .description(
      'serve google.devtools.build.v1.PublishBuildEvent for bazel --bes_backend: when an image_push target built with push_strategy=bes completes, push its image from the remote cache (no TLS, no authentication: keep it on localhost or behind a gateway)',
    )
    .option('--address <host>', 'interface to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port, printed on stdout)', '9090')
    .option(
      '--cas-endpoint <url>',
      "the remote cache the builds use (Bazel's --remote_cache: grpc://HOST:PORT, grpcs://HOST[:PORT], HOST:PORT, unix:PATH)",
    )
    .option(
      '--instance-name <name>',
      "the cache's instance name (default: the one Bazel's build events name)",
    )
    .option(
      '--credential-helper <path>',
      "credential helper for the remote cache (Bazel's --credential_helper)",
    )
    .option(
      '--registry-credential-helper <path>',
      'a Bazel-protocol credential helper for the registries, asked before the Docker config (default $IMG_CREDENTIAL_HELPER)',
    )
    .option(
      '--commit-mode <mode>',
      'background: Bazel never waits for a push; per-stream: the end of each build waits for its pushes (never fails it)',
      'background',
    )
    .option('--jobs <n>', 'blobs transferred in parallel per push (default 4)')
    .option('--retries <n>', 'retries of a push that failed for a transient reason (default 3)')
    .option('--timeout <duration>', 'deadline of each push (default 1h)')
    .option('--verbose', 'log every stream and push attempt')
    .action(async (flags: BesServeFlags) => runBesServe(flags, io));
}
