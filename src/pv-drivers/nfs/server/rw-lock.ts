/**
 * An async readers–writer lock (writer-preferring). The NFS program holds it shared for
 * procedures that only look names up and exclusive for those that change the namespace, so
 * a client cannot swap a directory for a symlink (RENAME + SYMLINK on a second connection)
 * between the moment a path is verified and the moment it is used. Host-local processes can
 * still race the server; Node has no openat(2) to close that window.
 */
export class RwLock {
  private readers = 0;
  private writer = false;
  private readonly queue: { exclusive: boolean; wake: () => void }[] = [];

  /** Runs `fn` holding the lock shared (`exclusive` false) or exclusive. */
  async run<T>(exclusive: boolean, fn: () => Promise<T>): Promise<T> {
    await this.acquire(exclusive);
    try {
      return await fn();
    } finally {
      this.release(exclusive);
    }
  }

  private acquire(exclusive: boolean): Promise<void> {
    const free = exclusive ? !this.writer && this.readers === 0 : !this.writer && this.queue.length === 0;
    if (free && this.queue.length === 0) {
      if (exclusive) this.writer = true;
      else this.readers++;
      return Promise.resolve();
    }
    return new Promise((wake) => this.queue.push({ exclusive, wake }));
  }

  private release(exclusive: boolean): void {
    if (exclusive) this.writer = false;
    else this.readers--;
    // Wake the head of the queue: one writer, or every reader up to the next writer.
    while (this.queue.length > 0 && !this.writer) {
      const next = this.queue[0]!;
      if (next.exclusive) {
        if (this.readers > 0) break;
        this.queue.shift();
        this.writer = true;
        next.wake();
        break;
      }
      this.queue.shift();
      this.readers++;
      next.wake();
    }
  }
}
