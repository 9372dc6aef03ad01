/**
 * The layout of one node's region in the pool:
 *
 *   [VALUE] value slot index, or -1 when the node holds no value (a branch point only)
 *   [TAIL]  length of the edge label after its first code unit (that one is stored in the parent)
 *   [COUNT] number of children
 *   [CAP]   room for children before the region must move
 *   [INDEX] 0, or the offset of a direct index table for a wide node (see below)
 *   tail:   the tail's UTF-16 code units, two per word (low half first)
 *   codes:  CAP words; the first COUNT are the children's first code units, strictly ascending
 *   kids:   CAP words; the children's region offsets, parallel to codes
 *
 * Everything a lookup needs at one level sits in one region, usually one or two cache lines. A node with
 * more than LINEAR_SCAN children whose codes span a compact range also gets an index table, a region of
 * its own: [base, range, entry for base, entry for base+1, ...], each entry a child index + 1 (0: none).
 * It turns the branchy binary search (several mispredictions per level) into one load.
 */
export const VALUE = 0;
export const TAIL = 1;
export const COUNT = 2;
export const CAP = 3;
export const INDEX = 4;
export const HEADER = 5;
export const NO_VALUE = -1;

/** Words taken by a tail of `length` code units. */
export const tailWords = (length: number): number => (length + 1) >> 1;

/** Size in words of a region with this tail length and child capacity. */
export const regionSize = (tail: number, cap: number): number => HEADER + tailWords(tail) + 2 * cap;

/** Offset of the first child code of the node at `at`. */
export const codesAt = (words: Int32Array, at: number): number =>
  at + HEADER + tailWords(words[at + TAIL] as number);

/** The `j`-th code unit of the tail of the node at `at`. */
export function tailUnit(words: Int32Array, at: number, j: number): number {
  const word = words[at + HEADER + (j >> 1)] as number;
  return (j & 1) === 0 ? word & 0xffff : word >>> 16;
}

/**
 * Reusable argument arrays for `String.fromCharCode.apply`, one per length: the tail becomes a string in
 * one allocation, where appending unit by unit would copy it over and over.
 */
const scratch: number[][] = [];
const MAX_SCRATCH = 64;

/** The tail of the node at `at` as a string. */
export function readTail(words: Int32Array, at: number): string {
  const length = words[at + TAIL] as number;
  if (length === 0) return '';
  const base = at + HEADER;
  if (length > MAX_SCRATCH) {
    let text = '';
    for (let j = 0; j < length; j++) text += String.fromCharCode(tailUnit(words, at, j));
    return text;
  }
  let units = scratch[length];
  if (units === undefined) units = scratch[length] = new Array<number>(length).fill(0);
  for (let j = 0; j + 1 < length; j += 2) {
    const word = words[base + (j >> 1)] as number;
    units[j] = word & 0xffff;
    units[j + 1] = word >>> 16;
  }
  if ((length & 1) === 1) units[length - 1] = (words[base + (length >> 1)] as number) & 0xffff;
  return String.fromCharCode.apply(null, units);
}

/** How many leading code units of the tail at `at` equal `key` from `from` (at most `limit`). */
export function commonTail(
  words: Int32Array,
  at: number,
  key: string,
  from: number,
  limit: number,
): number {
  let j = 0;
  while (j < limit && tailUnit(words, at, j) === key.charCodeAt(from + j)) j++;
  return j;
}

/** Children up to this count are scanned linearly; more use the index table or a binary search. */
export const LINEAR_SCAN = 8;

/** A table may span at most this many codes (beyond 4 per child), else binary search is used. */
export const TABLE_SLACK = 64;

/**
 * Index `j` of the child of `node` whose code is `code`, or `-(insertion point) - 1` when there is none.
 * `codes` is `codesAt(words, node)`.
 */
export function kidIndex(words: Int32Array, node: number, codes: number, code: number): number {
  const count = words[node + COUNT] as number;
  if (count > LINEAR_SCAN) {
    const table = words[node + INDEX] as number;
    if (table !== 0) {
      const d = code - (words[table] as number);
      if (d >= 0 && d < (words[table + 1] as number)) {
        const entry = words[table + 2 + d] as number;
        if (entry !== 0) return entry - 1;
      }
    }
  }
  return findCode(words, codes, count, code);
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
