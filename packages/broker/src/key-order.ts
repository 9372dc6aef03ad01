/**
 * Orders operations that run side by side by the keys they touch: one waits for the earlier ones on
 * any of its keys, and one on every key (a barrier: `keys` undefined) waits for everything before it
 * and holds back everything after. What a script or a pipelined connection needs to run many commands
 * at once with the effects of running them one by one.
 */
export class KeyOrder {
  private readonly lastByKey = new Map<string, Promise<void>>();
  private readonly sinceBarrier = new Set<Promise<void>>();
  private barrier: Promise<void> = Promise.resolve();

  /** What an operation on `keys` (undefined: on every key) must wait for before it starts. */
  before(keys: readonly string[] | undefined): Promise<unknown> {
    return keys === undefined
      ? Promise.all([this.barrier, ...this.sinceBarrier])
      : Promise.all([this.barrier, ...keys.map((k) => this.lastByKey.get(k))]);
  }

  /**
   * Takes note of an operation on `keys` just started: `done` settles (never rejects) when it is over.
   * Call it right after `before`, in the order operations arrive.
   */
  add(keys: readonly string[] | undefined, done: Promise<void>): void {
    if (keys === undefined) {
      this.barrier = done;
      this.sinceBarrier.clear();
      this.lastByKey.clear();
      return;
    }
    this.sinceBarrier.add(done);
    void done.then(() => this.sinceBarrier.delete(done));
    for (const key of keys) {
      this.lastByKey.set(key, done);
      void done.then(() => {
        if (this.lastByKey.get(key) === done) this.lastByKey.delete(key);
      });
    }
  }
}
