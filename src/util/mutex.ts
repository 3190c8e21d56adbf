/** Runs async sections one at a time, in call order: a read-check-write sequence cannot interleave with another. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    // The chain continues whether fn succeeds or fails.
    this.tail = result.catch(() => {});
    return result;
  }
}
