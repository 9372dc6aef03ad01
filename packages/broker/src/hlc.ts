import { compareVersions, type Version } from '@triekv/protocol';

/**
 * A hybrid logical clock: versions follow wall-clock milliseconds, with a counter for events in the same
 * millisecond (or while the wall clock lags a version already seen), and the node id to break ties. Every
 * version it issues is newer than every version it has issued or observed.
 */
export class HybridClock {
  private wall = 0;
  private counter = 0;

  constructor(
    readonly node: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new version, newer than anything issued or observed. */
  tick(): Version {
    const physical = this.now();
    if (physical > this.wall) {
      this.wall = physical;
      this.counter = 0;
    } else {
      this.counter++;
    }
    return [this.wall, this.counter, this.node];
  }

  /** Takes note of a version seen elsewhere, so later ticks are newer than it. */
  observe(version: Version): void {
    if (compareVersions(version, [this.wall, this.counter, this.node]) > 0) {
      this.wall = version[0];
      this.counter = version[1];
    }
  }
}
