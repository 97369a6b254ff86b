import { RegistryError } from '../errors.js';

/** TCP connect plus TLS handshake. undici's default; a host that takes longer is not going to answer. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/**
 * No byte for this long fails a request: waiting for response headers (a registry committing a
 * multi-GiB blob can take a while), between body chunks, and while an upload cannot be written.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;
/** Longest one library call (a push, a pull, a blob stream until its end) may take; 0 = none. */
export const DEFAULT_DEADLINE_MS = 60 * 60 * 1000;

export interface TimeoutOptions {
  /** Connect (TCP + TLS) timeout in ms; see DEFAULT_CONNECT_TIMEOUT_MS. Our own Agents only. */
  readonly connectTimeoutMs?: number;
  /** Idle timeout in ms: no byte received, or none accepted while sending; see DEFAULT_IDLE_TIMEOUT_MS. */
  readonly idleTimeoutMs?: number;
  /** Overall deadline of each call in ms, 0 for none; see DEFAULT_DEADLINE_MS. */
  readonly deadlineMs?: number;
}

export type ResolvedTimeouts = Required<TimeoutOptions>;

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

export function describeTimeout(kind: 'connect' | 'idle' | 'deadline', ms: number): string {
  if (kind === 'connect') return `no connection within ${seconds(ms)} (connect timeout)`;
  if (kind === 'idle') return `nothing received for ${seconds(ms)} (idle timeout)`;
  return `not done within ${seconds(ms)} (deadline; raise it with deadlineMs or img --timeout)`;
}

/**
 * A signal that aborts when `signal` does or, with the deadline's RegistryError as its reason, when
 * `deadlineMs` pass. `done()` stops the clock (call it when the operation ends).
 */
export function withDeadline(
  deadlineMs: number,
  what: string,
  signal: AbortSignal | undefined,
): { signal: AbortSignal | undefined; done(): void } {
  if (deadlineMs <= 0) return { signal, done: () => {} };
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(
      new RegistryError('IMG_REGISTRY_TIMEOUT', `${what}: ${describeTimeout('deadline', deadlineMs)}`),
    );
  }, deadlineMs);
  timer.unref();
  const combined = signal ? AbortSignal.any([signal, controller.signal]) : controller.signal;
  return { signal: combined, done: () => clearTimeout(timer) };
}
