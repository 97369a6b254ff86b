interface Item<T> {
  readonly promise: Promise<T>;
  readonly bytes: number;
  done: boolean;
  value?: T;
}

/**
 * Results of jobs started in order, handed out in that same order as they finish. Lets a Transform keep
 * several blocks in flight on worker threads while emitting them in input order, with a bound on the
 * bytes (the buffers each job holds) that are outstanding.
 */
export class InOrder<T> {
  readonly #queue: Item<T>[] = [];
  #bytes = 0;

  get size(): number {
    return this.#queue.length;
  }

  /** Bytes held by outstanding jobs. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Add a job that holds `bytes` of buffers until its result has been taken. */
  add(promise: Promise<T>, bytes = 0): void {
    const item: Item<T> = { promise, bytes, done: false };
    promise.then(
      (value) => {
        item.value = value;
        item.done = true;
      },
      () => {}, // surfaced when the item reaches the head of the queue
    );
    this.#queue.push(item);
    this.#bytes += bytes;
  }

  /**
   * Hand finished results at the head of the queue to `take`, waiting for the head while more than
   * `maxJobs` jobs or more than `maxBytes` bytes are outstanding (so a negative `maxBytes` waits for
   * all). Rejects with the first failed job's error.
   */
  async settle(
    maxJobs: number,
    take: (value: T) => void,
    maxBytes = Number.POSITIVE_INFINITY,
  ): Promise<void> {
    for (;;) {
      while (this.#queue.length > 0 && this.#queue[0]!.done) take(this.#shift().value as T);
      if (this.#queue.length === 0 || (this.#queue.length <= maxJobs && this.#bytes <= maxBytes)) return;
      const head = this.#shift();
      take(await head.promise);
    }
  }

  #shift(): Item<T> {
    const item = this.#queue.shift()!;
    this.#bytes -= item.bytes;
    return item;
  }
}
