import { compareVersions, type Version } from './version.js';

/**
 * A hybrid logical clock: versions follow wall-clock milliseconds, with a counter for events in the same
 * millisecond (or while the wall clock lags a version already seen), and the node id to break ties. Every
 * version it issues is newer than every version it has issued or observed.
 */
export class HybridClock {
  private wall = 0;
  private counter = 0;
  private last: Version | undefined;

  /**
   * @param maxDriftMs versions further ahead of this clock's wall time are not observed (a planted
   *   or badly skewed version cannot drag the clock along) @default 60000
   */
  constructor(
    readonly node: string,
    private readonly now: () => number = Date.now,
    readonly maxDriftMs = 60_000,
  ) {}

  /** A new version, newer than anything issued or observed. */
  tick(): Version {
    const physical = this.now();
    if (physical > this.wall) {
      this.wall = physical;
      this.counter = 0;
    } else if (this.counter >= MAX_COUNTER) {
      // The counter never leaves the safe-integer range: the next millisecond is newer anyway.
      this.wall++;
      this.counter = 0;
    } else {
      this.counter++;
    }
    this.last = [this.wall, this.counter, this.node];
    return this.last;
  }

  /**
   * The newest version issued or observed (what every later tick is newer than): a writer holding a
   * version that is not newer than this one need not observe it before it ticks.
   */
  latest(): Version {
    this.last ??= [this.wall, this.counter, this.node];
    return this.last;
  }

  /** How far `version` is ahead of this clock's wall time, ms (0 or less: not ahead). */
  ahead(version: Version): number {
    return version[0] - this.now();
  }

  /**
   * Takes note of a version seen elsewhere, so later ticks are newer than it; false (and not observed)
   * when it is more than `maxDriftMs` ahead.
   */
  observe(version: Version): boolean {
    if (this.ahead(version) > this.maxDriftMs) return false;
    if (compareVersions(version, [this.wall, this.counter, this.node]) > 0) {
      this.wall = version[0];
      this.counter = Math.min(version[1], MAX_COUNTER);
      this.last = undefined;
    }
    return true;
  }
}

/** Events in one millisecond before the clock moves to the next: far more than any broker issues. */
const MAX_COUNTER = 2 ** 32 - 1;
