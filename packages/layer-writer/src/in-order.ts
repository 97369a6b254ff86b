interface Item<T> {
  readonly promise: Promise<T>;
  done: boolean;
  value?: T;
}

/**
 * Results of jobs started in order, handed out in that same order as they finish. Lets a Transform keep
 * several blocks in flight on worker threads while emitting them in input order, with a bound on how
 * many are outstanding.
 */
export class InOrder<T> {
  readonly #queue: Item<T>[] = [];

  get size(): number {
    return this.#queue.length;
  }

  add(promise: Promise<T>): void {
    const item: Item<T> = { promise, done: false };
    promise.then(
      (value) => {
        item.value = value;
        item.done = true;
      },
      () => {}, // surfaced when the item reaches the head of the queue
    );
    this.#queue.push(item);
  }

  /**
   * Hand finished results at the head of the queue to `take`, waiting for the head while more than
   * `max` are outstanding. Rejects with the first failed job's error.
   */
  async settle(max: number, take: (value: T) => void): Promise<void> {
    for (;;) {
      while (this.#queue.length > 0 && this.#queue[0]!.done) take(this.#queue.shift()!.value as T);
      if (this.#queue.length <= max) return;
      take(await this.#queue.shift()!.promise);
    }
  }
}
