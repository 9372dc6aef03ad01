import { CursorError, ScanCursors } from '@triekv/resp';

const INT64_MAX = 2n ** 63n - 1n;

describe('SCAN cursors', () => {
  it('stands for any key with a number that every 64-bit client can hold', () => {
    const cursors = new ScanCursors();
    for (const key of ['', 'a', 'user:1234567890:profile', 'ключ', '🔑'.repeat(300), 'x\u0000y']) {
      const cursor = cursors.encode(key);
      expect(cursor).toMatch(/^[1-9][0-9]{0,18}$/);
      expect(BigInt(cursor) <= INT64_MAX).toBe(true);
      expect(cursors.decode(cursor)).toBe(key);
    }
    expect(cursors.decode('0')).toBeUndefined();
  });

  it('gives a key that already has a cursor the same one, and makes it new again', () => {
    const cursors = new ScanCursors(2);
    const a = cursors.encode('a');
    cursors.encode('b');
    expect(cursors.encode('a')).toBe(a);
    cursors.encode('c'); // 'b' is now the oldest, so it goes
    expect(cursors.decode(a)).toBe('a');
    expect(cursors.size).toBe(2);
  });

  it('forgets the oldest past its count, and says so when one of them comes back', () => {
    const cursors = new ScanCursors(3);
    const made = ['k1', 'k2', 'k3', 'k4', 'k5'].map((k) => cursors.encode(k));
    expect(cursors.size).toBe(3);
    for (const old of made.slice(0, 2)) {
      expect(() => cursors.decode(old)).toThrow(CursorError);
      expect(() => cursors.decode(old)).toThrow(
        /^ERR invalid cursor: this cursor has expired \(the server keeps its newest 3 SCAN cursors\); start again from 0$/,
      );
    }
    expect(made.slice(2).map((c) => cursors.decode(c))).toEqual(['k3', 'k4', 'k5']);
  });

  it('keeps at most its budget of key text, however long the keys', () => {
    const cursors = new ScanCursors(1000, 100);
    const first = cursors.encode('a'.repeat(60));
    const second = cursors.encode('b'.repeat(60));
    expect(() => cursors.decode(first)).toThrow(/expired/);
    expect(cursors.decode(second)).toBe('b'.repeat(60));
    // One key longer than the whole budget is still kept (the newest cursor always is).
    const huge = cursors.encode('c'.repeat(500));
    expect(cursors.decode(huge)).toBe('c'.repeat(500));
    expect(cursors.size).toBe(1);
  });

  it("refuses what it did not make: garbage, another table's cursors, numbers past 64 bits", () => {
    const cursors = new ScanCursors();
    const other = new ScanCursors();
    const theirs = other.encode('k');
    const ours = cursors.encode('k');
    for (const bad of ['abc', '-1', '01', '2', '1.5', '', ' 1', '9'.repeat(20), '9'.repeat(5000)])
      expect(() => cursors.decode(bad)).toThrow(/^ERR invalid cursor$/);
    // Two tables draw the same epoch once in about four million; only then is this not refused.
    if (BigInt(theirs) >> 40n !== BigInt(ours) >> 40n)
      expect(() => cursors.decode(theirs)).toThrow(/^ERR invalid cursor$/);
  });

  it('refuses a table of no cursors', () => {
    expect(() => new ScanCursors(0)).toThrow(/scanCursors/);
    expect(() => new ScanCursors(10, 0)).toThrow(/key text/);
  });
});
