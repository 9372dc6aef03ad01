/**
 * The trie is a burst trie (Heinz, Zobel and Williams; the HAT-trie of Askitis and Sinha refines it):
 * the top levels are small branch nodes in one `Int32Array`, one level per code unit, and the keys below
 * them live in containers, each one JS string that holds up to `MAX_CONTAINER` sorted key tails. A
 * lookup reads a few hot nodes and then one container string, where a radix trie reads one cold node per
 * level; a container that outgrows its limit bursts into a node with containers below it.
 *
 * A node's region in the pool:
 *
 *   [VALUE]  index in the value array of the key that ends at this node, or -1
 *   [COUNT]  number of children
 *   [CAP]    room for children in the two lists below
 *   [TBASE]  the first code unit the direct table covers
 *   [TRANGE] how many code units it covers (0: no table, search `codes` instead)
 *   codes:   CAP words; the first COUNT are the children's code units, strictly ascending
 *   kids:    CAP words, parallel to codes: a child node's offset (> 0) or `~id` of a container (< 0)
 *   table:   TRANGE words; the kid for code TBASE + d, or 0: a lookup takes one load per level
 *
 * A kid of 0 means none: offset 0 of the pool is never handed out.
 */
export const VALUE = 0;
export const COUNT = 1;
export const CAP = 2;
export const TBASE = 3;
export const TRANGE = 4;
export const HEADER = 5;
export const NO_VALUE = -1;

/** Size in words of a node region with room for `cap` children and a table over `range` codes. */
export const nodeSize = (cap: number, range: number): number => HEADER + 2 * cap + range;

/** A node's direct table may span at most this many code units beyond 4 per child; else it is searched. */
export const TABLE_SLACK = 64;

/** Whether a node whose children's codes span `range` units gets a direct table. */
export const wantsTable = (count: number, range: number): boolean =>
  count > 0 && range <= 4 * count + TABLE_SLACK;

/** Children up to this count are searched linearly when a node has no table; more, by bisection. */
export const LINEAR_SCAN = 8;

/**
 * A container is one string of code units:
 *
 *   [C_COUNT]        n, the number of entries (at most MAX_CONTAINER)
 *   [C_BASE .. +3]   where its values start in the value array (four byte-sized units, high first)
 *   [C_LOG]          log2 of the room its value range has
 *   lengths:         n units, each entry's tail length (LONG: the length is in the data, see below)
 *   data:            the tails in ascending order, back to back; a LONG tail is preceded by its length
 *                    in four byte-sized units
 *
 * Entry k's value is at `values[base + k]`. A tail is the key after the container's own code unit (the
 * one in its parent node); it may be empty. Header units stay below 256, so a container of Latin-1 keys is
 * a one-byte string: one byte per key character.
 */
export const C_COUNT = 0;
export const C_BASE = 1;
export const C_LOG = 5;
export const C_HEADER = 6;
export const LONG = 0xff;
/** Units of the length written before a LONG tail. */
export const LONG_UNITS = 4;

/** Keys a container holds before it bursts. 32 measured best for both benchmark key shapes. */
export const MAX_CONTAINER = 32;

/** The kid of `node` for code unit `code`: a node offset, `~id` of a container, or 0 for none. */
export function kidOf(words: Int32Array, node: number, code: number): number {
  const cap = words[node + CAP] as number;
  const range = words[node + TRANGE] as number;
  if (range !== 0) {
    const d = code - (words[node + TBASE] as number);
    return d >= 0 && d < range ? (words[node + HEADER + 2 * cap + d] as number) : 0;
  }
  const j = findCode(words, node + HEADER, words[node + COUNT] as number, code);
  return j < 0 ? 0 : (words[node + HEADER + cap + j] as number);
}

/** Index of `code` among the `count` sorted codes at `codes`, or `-(insertion point) - 1`. */
export function findCode(words: Int32Array, codes: number, count: number, code: number): number {
  if (count <= LINEAR_SCAN) {
    for (let j = 0; j < count; j++) {
      const c = words[codes + j] as number;
      if (c >= code) return c === code ? j : -j - 1;
    }
    return -count - 1;
  }
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((words[codes + mid] as number) < code) lo = mid + 1;
    else hi = mid;
  }
  return lo < count && words[codes + lo] === code ? lo : -lo - 1;
}

/** The number in four byte-sized units at `at` of `s` (a container's value base, a LONG length). */
export function readUnits4(s: string, at: number): number {
  return (
    s.charCodeAt(at) * 0x1000000 +
    ((s.charCodeAt(at + 1) << 16) | (s.charCodeAt(at + 2) << 8) | s.charCodeAt(at + 3))
  );
}

/** `n` as four byte-sized units. */
export function units4(n: number): string {
  return String.fromCharCode((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/** A container's header for `count` entries whose values start at `base` in a range of 2^`log`. */
export function containerHeader(count: number, base: number, log: number): string {
  return String.fromCharCode(
    count,
    (base >>> 24) & 0xff,
    (base >>> 16) & 0xff,
    (base >>> 8) & 0xff,
    base & 0xff,
    log,
  );
}

/**
 * Compares the tail at `start` (of `length` units) in container `s` with `key` from `from`, by code
 * unit: negative when the tail sorts first, 0 when equal, positive when it sorts after.
 */
export function compareTail(
  s: string,
  start: number,
  length: number,
  key: string,
  from: number,
): number {
  const rest = key.length - from;
  const m = length < rest ? length : rest;
  for (let j = 0; j < m; j++) {
    const d = s.charCodeAt(start + j) - key.charCodeAt(from + j);
    if (d !== 0) return d;
  }
  return length - rest;
}
