/**
 * A shared/exclusive lock between pushes (shared: many at once) and garbage collection (exclusive), so
 * a collection never deletes what a concurrent push has just validated and is about to reference.
 */
export class SharedExclusiveLock {
  private shared = 0;
  private exclusive = false;
  private waiting: Array<{ exclusive: boolean; grant: () => void }> = [];

  async withShared<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire(false);
    try {
      return await fn();
    } finally {
      this.shared--;
      this.wake();
    }
  }

  async withExclusive<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire(true);
    try {
      return await fn();
    } finally {
      this.exclusive = false;
      this.wake();
    }
  }

  private canGrant(exclusive: boolean): boolean {
    return exclusive ? !this.exclusive && this.shared === 0 : !this.exclusive;
  }

  private acquire(exclusive: boolean): Promise<void> {
    // A waiting exclusive request blocks new shared holders, so collection is not starved.
    if (this.waiting.length === 0 && this.canGrant(exclusive)) {
      this.take(exclusive);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push({ exclusive, grant: resolve }));
  }

  private take(exclusive: boolean): void {
    if (exclusive) this.exclusive = true;
    else this.shared++;
  }

  private wake(): void {
    while (this.waiting.length > 0 && this.canGrant(this.waiting[0]!.exclusive)) {
      const next = this.waiting.shift()!;
      this.take(next.exclusive);
      next.grant();
      if (next.exclusive) return;
    }
  }
}
