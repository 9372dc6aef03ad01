import { compareVersions, isVersion, type Version } from '@triekv/protocol';
import { HybridClock } from '../src/hlc.js';

describe('HybridClock', () => {
  it('never leaves the safe-integer range, whatever it observes within the drift', () => {
    let now = 1_000_000;
    const clock = new HybridClock('b', () => now);
    expect(clock.observe([now, Number.MAX_SAFE_INTEGER, '~'])).toBe(true);
    let last: Version = [now, Number.MAX_SAFE_INTEGER, '~'];
    for (let i = 0; i < 5; i++) {
      const v = clock.tick();
      expect(isVersion(v)).toBe(true);
      expect(compareVersions(v, last)).toBeGreaterThan(0);
      last = v;
    }
    now += 10;
    expect(clock.tick()).toEqual([now, 0, 'b']);
  });

  it('does not observe a version further ahead than maxDriftMs', () => {
    const now = 1_000_000;
    const clock = new HybridClock('b', () => now, 5000);
    expect(clock.observe([Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, '~'])).toBe(false);
    expect(clock.observe([now + 6000, 0, 'x'])).toBe(false);
    expect(clock.tick()).toEqual([now, 0, 'b']);
    expect(clock.observe([now + 4000, 7, 'x'])).toBe(true);
    expect(clock.tick()).toEqual([now + 4000, 8, 'b']);
    expect(clock.ahead([now + 6000, 0, 'x'])).toBe(6000);
  });
});
