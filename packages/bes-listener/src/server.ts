import diagnostics from 'node:diagnostics_channel';
import * as grpc from '@grpc/grpc-js';
import type { BuildEvent } from './build-event.js';
import { BesError } from './errors.js';
import { findProtoDir } from './proto-dir.js';
import { loadBesProtos } from './protos.js';
import { type PushCommitter, PushQueue, type PushRetryOptions, publishPushEvent } from './push-queue.js';
import { PushTargetTracker, type PushTargetTrackerOptions } from './push-targets.js';

/** `node:diagnostics_channel` name of stream events (StreamEvent). */
export const STREAM_CHANNEL = 'img:bes:stream';
const streamChannel = diagnostics.channel(STREAM_CHANNEL);

/** A build event stream opened, finished, or an event the listener could not read (it was acknowledged all the same). */
export type StreamEvent =
  | { readonly state: 'opened'; readonly invocationId: string }
  | { readonly state: 'closed'; readonly invocationId: string; readonly events: number }
  | { readonly state: 'unreadable-event'; readonly invocationId: string; readonly error: unknown };

function publishStreamEvent(event: StreamEvent): void {
  if (streamChannel.hasSubscribers) streamChannel.publish(event);
}

/** The BES type URL of Bazel's events inside `bazel_event`. */
const BAZEL_EVENT_TYPE = 'type.googleapis.com/build_event_stream.BuildEvent';

export interface BesListenerOptions extends PushTargetTrackerOptions {
  /** Pushes one completed image_push target; see casPushCommitter. */
  readonly commit: PushCommitter;
  /** Interface to listen on. Default 127.0.0.1 (no TLS, no authentication: keep it local or behind a gateway). */
  readonly host?: string;
  /** Default 0: any free port (see BesListener.port). */
  readonly port?: number;
  /**
   * `background` (default): a stream ends when Bazel has sent its last event; pushes go on after.
   * `per-stream`: the end of a stream waits (up to `streamDrainMs`) for the pushes it started, so
   * `bazel build` returns once its images are pushed. Push failures never fail the stream.
   */
  readonly commitMode?: 'background' | 'per-stream';
  /** per-stream: the longest a stream's end waits for its pushes. Default 30 min. */
  readonly streamDrainMs?: number;
  /** Pushes at once. Default 4. */
  readonly concurrency?: number;
  readonly retry?: PushRetryOptions;
  /** Largest gRPC message accepted (a build event). Default 64 MiB. */
  readonly maxMessageBytes?: number;
  /** Directory of the vendored protos (default: found beside the package or bundle). */
  readonly protoDir?: string;
}

export interface BesListener {
  /** `host:port` to give Bazel as `--bes_backend=grpc://ADDRESS`. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  /** Resolves when every push scheduled so far is done. */
  idle(): Promise<void>;
  /** Stops accepting streams, lets pushes finish for up to `graceMs` (default 30 s), then aborts the rest. */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** One build's stream state, kept across reconnects (Bazel resends only the events not acknowledged). */
interface Invocation {
  readonly tracker: PushTargetTracker;
  readonly pushes: Set<Promise<void>>;
  lastSeen: number;
}

/** Invocations forgotten after this long without an event (a build that never finished its stream). */
const INVOCATION_IDLE_MS = 6 * 3600_000;

interface StreamId {
  build_id?: string;
  invocation_id?: string;
  component?: string;
}

interface StreamRequest {
  ordered_build_event?: {
    stream_id?: StreamId;
    sequence_number?: string;
    event?: {
      bazel_event?: { type_url?: string; value?: Buffer };
      component_stream_finished?: unknown;
    };
  };
}

function streamKey(id: StreamId | undefined): string {
  return JSON.stringify([id?.build_id ?? '', id?.invocation_id ?? '', id?.component ?? '']);
}

function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function invalidOption(message: string): never {
  throw new BesError('IMG_INVALID_OPTIONS', message);
}

/**
 * Serves google.devtools.build.v1.PublishBuildEvent. Every event is acknowledged in order, at once,
 * whatever it holds; the listener follows Bazel's events, and when an image_push target completes
 * it schedules the push of its request in the background (PushQueue: retries, one push per request
 * at a time). Bazel never waits for a push unless `commitMode` is `per-stream`.
 */
export async function startBesListener(options: BesListenerOptions): Promise<BesListener> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) invalidOption(`port ${port} is not a port number`);
  const commitMode = options.commitMode ?? 'background';
  if (commitMode !== 'background' && commitMode !== 'per-stream')
    invalidOption(`commitMode ${JSON.stringify(commitMode)}: background or per-stream`);
  const drainMs = options.streamDrainMs ?? 30 * 60_000;
  const maxMessageBytes = options.maxMessageBytes ?? 64 * 1024 * 1024;
  const protos = loadBesProtos(findProtoDir(options.protoDir));
  const queue = new PushQueue({
    commit: options.commit,
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
  });
  const invocations = new Map<string, Invocation>();

  const invocationFor = (key: string): Invocation => {
    const now = Date.now();
    for (const [k, inv] of invocations) if (now - inv.lastSeen > INVOCATION_IDLE_MS) invocations.delete(k);
    let inv = invocations.get(key);
    if (!inv) {
      inv = { tracker: new PushTargetTracker(options), pushes: new Set(), lastSeen: now };
      invocations.set(key, inv);
    }
    inv.lastSeen = now;
    return inv;
  };

  const onBazelEvent = (inv: Invocation, invocationId: string, bytes: Buffer): void => {
    let event: BuildEvent;
    try {
      event = protos.decodeBuildEvent(bytes) as BuildEvent;
    } catch (error) {
      publishStreamEvent({ state: 'unreadable-event', invocationId, error });
      return;
    }
    const result = inv.tracker.onEvent(event);
    if (!result) return;
    if (result.kind === 'not-pushed') {
      publishPushEvent({ state: 'not-pushed', label: result.label, reason: result.reason });
      return;
    }
    const push = queue.add({ label: result.label, request: result.request, invocationId });
    inv.pushes.add(push);
    void push.finally(() => inv.pushes.delete(push));
  };

  const publishStream = (call: grpc.ServerDuplexStream<StreamRequest, unknown>): void => {
    let key: string | undefined;
    let invocationId = '';
    let events = 0;
    let finished = false;
    call.on('data', (req: StreamRequest) => {
      const ordered = req.ordered_build_event;
      if (key === undefined) {
        key = streamKey(ordered?.stream_id);
        invocationId = ordered?.stream_id?.invocation_id ?? '';
        publishStreamEvent({ state: 'opened', invocationId });
      }
      events++;
      const inv = invocationFor(key);
      const payload = ordered?.event;
      try {
        const bazel = payload?.bazel_event;
        if (bazel?.type_url === BAZEL_EVENT_TYPE && bazel.value) onBazelEvent(inv, invocationId, bazel.value);
        if (payload?.component_stream_finished) finished = true;
      } catch (error) {
        publishStreamEvent({ state: 'unreadable-event', invocationId, error });
      }
      call.write({ stream_id: ordered?.stream_id, sequence_number: ordered?.sequence_number ?? '0' });
    });
    call.on('error', () => {});
    call.on('end', () => {
      const inv = key !== undefined ? invocations.get(key) : undefined;
      const pending = inv ? [...inv.pushes] : [];
      if (finished && key !== undefined) invocations.delete(key);
      const end = () => {
        publishStreamEvent({ state: 'closed', invocationId, events });
        call.end();
      };
      if (commitMode !== 'per-stream' || pending.length === 0) return end();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, drainMs);
      });
      void Promise.race([Promise.all(pending), timeout]).then(() => {
        clearTimeout(timer);
        end();
      });
    });
  };

  const server = new grpc.Server({
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.keepalive_permit_without_calls': 1,
  });
  server.addService(protos.service, {
    PublishLifecycleEvent: (_call: unknown, callback: grpc.sendUnaryData<object>) => callback(null, {}),
    PublishBuildToolEventStream: publishStream,
  });
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(formatAddress(host, port), grpc.ServerCredentials.createInsecure(), (err, p) =>
      err
        ? reject(
            new BesError('IMG_BES_LISTEN', `cannot listen on ${formatAddress(host, port)}: ${err.message}`, {
              cause: err,
            }),
          )
        : resolve(p),
    );
  });

  let closing: Promise<void> | undefined;
  return {
    address: formatAddress(host, bound),
    host,
    port: bound,
    idle: () => queue.idle(),
    close({ graceMs = 30_000 } = {}) {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          const force = setTimeout(
            () => {
              server.forceShutdown();
              resolve();
            },
            Math.min(graceMs, 5_000),
          );
          server.tryShutdown(() => {
            clearTimeout(force);
            resolve();
          });
        });
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          queue.idle(),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, graceMs);
          }),
        ]);
        clearTimeout(timer);
        await queue.close();
      })();
      return closing;
    },
  };
}
