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

describe('HybridClock#latest', () => {
  it('is the newest version issued or observed, which every later tick is newer than', () => {
    let now = 500;
    const clock = new HybridClock('a', () => now);
    expect(clock.latest()).toEqual([0, 0, 'a']);
    const t = clock.tick();
    expect(clock.latest()).toEqual(t);
    clock.observe([900, 4, 'z']);
    expect(clock.latest()).toEqual([900, 4, 'a']);
    expect(compareVersions(clock.tick(), [900, 4, 'z'])).toBeGreaterThan(0);
    now = 2000;
    expect(clock.tick()).toEqual(clock.latest());
    expect(clock.latest()[0]).toBe(2000);
  });
});
