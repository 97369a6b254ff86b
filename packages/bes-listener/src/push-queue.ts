import diagnostics from 'node:diagnostics_channel';
import { setTimeout as sleep } from 'node:timers/promises';
import { ImgError } from '@img/oci-spec';
import type { PushRequestBlob } from './push-targets.js';

/** `node:diagnostics_channel` name of the listener's push events (PushEvent); the library never logs. */
export const PUSH_CHANNEL = 'img:bes:push';
const pushChannel = diagnostics.channel(PUSH_CHANNEL);

/** One image_push target to push: its label and the blob of its push request. */
export interface PushJob {
  readonly label: string;
  readonly request: PushRequestBlob;
  /** Bazel's invocation id (BES stream id), for messages. */
  readonly invocationId?: string;
}

/** What a push did. */
export interface PushOutcome {
  /** `registry/repository[:tag]@digest` per reference now pointing at the image. */
  readonly references: readonly string[];
  readonly blobsUploaded: number;
  readonly bytesUploaded: number;
  readonly manifestsPushed: number;
}

/** Pushes one job (reads its request, pushes its image); throws on failure. */
export type PushCommitter = (job: PushJob, options: { readonly signal: AbortSignal }) => Promise<PushOutcome>;

/** A push event on PUSH_CHANNEL. */
export type PushEvent =
  | { readonly state: 'started'; readonly job: PushJob; readonly attempt: number }
  | {
      readonly state: 'pushed';
      readonly job: PushJob;
      readonly attempt: number;
      readonly outcome: PushOutcome;
      readonly durationMs: number;
    }
  | {
      readonly state: 'retrying';
      readonly job: PushJob;
      readonly attempt: number;
      readonly error: unknown;
      readonly delayMs: number;
    }
  | { readonly state: 'failed'; readonly job: PushJob; readonly attempt: number; readonly error: unknown }
  /** The same request is being pushed already: this target shares that push. */
  | { readonly state: 'joined'; readonly job: PushJob }
  /** A push target that completes without anything to push (failed build, no request...). */
  | { readonly state: 'not-pushed'; readonly label: string; readonly reason: string };

export interface PushRetryOptions {
  /** Attempts per push, the first included. Default 4. */
  readonly attempts?: number;
  /** Delay before the first retry, multiplied by 4 per retry. Default 1 s. */
  readonly initialDelayMs?: number;
  /** Upper bound of a delay. Default 60 s. */
  readonly maxDelayMs?: number;
}

export const DEFAULT_PUSH_RETRY: Required<PushRetryOptions> = {
  attempts: 4,
  initialDelayMs: 1_000,
  maxDelayMs: 60_000,
};

/** Errors a later attempt may not see: the network, a registry 5xx/429, a remote cache that was unavailable. */
export function isTransientPushError(err: unknown): boolean {
  if (!(err instanceof ImgError)) return !(err instanceof Error && err.name === 'AbortError');
  if (err.code === 'IMG_REMOTE_CACHE_RPC') return true;
  if (err.code === 'IMG_REGISTRY_NETWORK_ERROR' || err.code === 'IMG_REGISTRY_TIMEOUT') return true;
  return (err as { retryable?: unknown }).retryable === true;
}

export function publishPushEvent(event: PushEvent): void {
  if (pushChannel.hasSubscribers) pushChannel.publish(event);
}

export interface PushQueueOptions {
  readonly commit: PushCommitter;
  /** Pushes running at once. Default 4. */
  readonly concurrency?: number;
  readonly retry?: PushRetryOptions;
}

/**
 * Runs pushes in the background: `concurrency` at a time, each retried on transient errors, one job
 * per request digest at a time (a second target or build with the same request joins the running
 * push). `add` never throws and never waits for the push: acknowledging build events must not wait.
 */
export class PushQueue {
  readonly #commit: PushCommitter;
  readonly #concurrency: number;
  readonly #retry: Required<PushRetryOptions>;
  readonly #running = new Map<string, Promise<void>>();
  readonly #waiting: Array<() => void> = [];
  readonly #abort = new AbortController();
  #active = 0;

  constructor(options: PushQueueOptions) {
    this.#commit = options.commit;
    this.#concurrency = options.concurrency ?? 4;
    this.#retry = { ...DEFAULT_PUSH_RETRY, ...options.retry };
  }

  /** Schedules a push; resolves (never rejects) when it is done, pushed or failed. */
  add(job: PushJob): Promise<void> {
    const key = job.request.digest;
    const running = this.#running.get(key);
    if (running) {
      publishPushEvent({ state: 'joined', job });
      return running;
    }
    const done = this.#run(job).finally(() => this.#running.delete(key));
    this.#running.set(key, done);
    return done;
  }

  /** Resolves when every push scheduled so far is done. */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running.values());
  }

  /** Aborts running pushes (a push stopped before its manifest leaves no image behind) and waits for them. */
  async close(): Promise<void> {
    this.#abort.abort(new Error('the BES listener is stopping'));
    await this.idle();
  }

  async #slot(): Promise<void> {
    if (this.#active < this.#concurrency) {
      this.#active++;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#active--;
  }

  async #run(job: PushJob): Promise<void> {
    await this.#slot();
    const signal = this.#abort.signal;
    try {
      for (let attempt = 1; ; attempt++) {
        if (signal.aborted) {
          publishPushEvent({ state: 'failed', job, attempt, error: signal.reason });
          return;
        }
        const started = Date.now();
        publishPushEvent({ state: 'started', job, attempt });
        try {
          const outcome = await this.#commit(job, { signal });
          publishPushEvent({ state: 'pushed', job, attempt, outcome, durationMs: Date.now() - started });
          return;
        } catch (error) {
          if (signal.aborted || attempt >= this.#retry.attempts || !isTransientPushError(error)) {
            publishPushEvent({ state: 'failed', job, attempt, error });
            return;
          }
          const delayMs = Math.min(this.#retry.maxDelayMs, this.#retry.initialDelayMs * 4 ** (attempt - 1));
          publishPushEvent({ state: 'retrying', job, attempt, error, delayMs });
          await sleep(delayMs, undefined, { signal }).catch(() => {});
        }
      }
    } finally {
      this.#release();
    }
  }
}
