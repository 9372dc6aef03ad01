/**
 * The layout of one node's region in the pool:
 *
 *   [VALUE] value slot index, or -1 when the node holds no value (a branch point only)
 *   [TAIL]  length of the edge label after its first code unit (that one is stored in the parent)
 *   [COUNT] number of children
 *   [CAP]   room for children before the region must move
 *   tail:   the tail's UTF-16 code units, two per word (low half first)
 *   codes:  CAP words; the first COUNT are the children's first code units, strictly ascending
 *   kids:   CAP words; the children's region offsets, parallel to codes
 *
 * Everything a lookup needs at one level sits in one region, usually one or two cache lines.
 */
export const VALUE = 0;
export const TAIL = 1;
export const COUNT = 2;
export const CAP = 3;
export const HEADER = 4;
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

/** The tail of the node at `at` as a string. */
export function readTail(words: Int32Array, at: number): string {
  const length = words[at + TAIL] as number;
  let text = '';
  const base = at + HEADER;
  for (let j = 0; j + 1 < length; j += 2) {
    const word = words[base + (j >> 1)] as number;
    text += String.fromCharCode(word & 0xffff, word >>> 16);
  }
  if ((length & 1) === 1)
    text += String.fromCharCode((words[base + (length >> 1)] as number) & 0xffff);
  return text;
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

/** Children up to this count are scanned linearly; more are binary-searched. */
const LINEAR_SCAN = 8;

/**
 * Index `j` of the child of the node at `at` whose code is `code`, or `-(insertion point) - 1` when
 * there is none. `codes` is `codesAt(words, at)`.
 */
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
