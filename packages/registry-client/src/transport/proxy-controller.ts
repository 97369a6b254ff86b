import type { Dispatcher } from 'undici';

/**
 * The controller a retrying handler hands downstream: it follows the current attempt's connection
 * and keeps the downstream's pause across attempts; an abort between attempts (no connection) is
 * handed to `onAbort`, which returns true when it ended the request itself.
 */
export class ProxyController implements Dispatcher.DispatchController {
  target: Dispatcher.DispatchController | undefined;
  #paused = false;
  #abortedBy: Error | undefined;
  readonly #onAbort: (reason: Error) => boolean;

  constructor(onAbort: (reason: Error) => boolean) {
    this.#onAbort = onAbort;
  }

  attach(target: Dispatcher.DispatchController): void {
    this.target = target;
    if (this.#paused) target.pause();
  }

  pause(): void {
    this.#paused = true;
    this.target?.pause();
  }

  resume(): void {
    this.#paused = false;
    this.target?.resume();
  }

  abort(reason: Error): void {
    if (this.#abortedBy) return;
    this.#abortedBy = reason;
    // Between attempts there is no connection to abort: the request ends here.
    if (!this.#onAbort(reason)) this.target?.abort(reason);
  }

  get abortedByCaller(): boolean {
    return this.#abortedBy !== undefined;
  }

  get aborted(): boolean {
    return this.#abortedBy !== undefined || (this.target?.aborted ?? false);
  }

  get paused(): boolean {
    return this.#paused;
  }

  get reason(): Error | null {
    return this.#abortedBy ?? this.target?.reason ?? null;
  }

  get rawHeaders() {
    return this.target?.rawHeaders;
  }

  set rawHeaders(value) {
    if (this.target) this.target.rawHeaders = value;
  }

  get rawTrailers() {
    return this.target?.rawTrailers;
  }

  set rawTrailers(value) {
    if (this.target) this.target.rawTrailers = value;
  }
}
