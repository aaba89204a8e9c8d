/**
 * Per-name mutual exclusion for async read-modify-write: `run(name, f)` starts `f` after every
 * earlier `f` of the same name has settled, whatever its outcome. Names with nothing queued
 * hold no memory.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(name: string, f: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(name) ?? Promise.resolve();
    const run = previous.then(f, f);
    const tail = run.catch(() => undefined);
    this.tails.set(name, tail);
    void tail.then(() => {
      if (this.tails.get(name) === tail) this.tails.delete(name);
    });
    return run;
  }
}
