import { NUM_UNITS, UnitWriter, readNum, readVarint, varintEnd } from './units.js';

/**
 * Layout of a frozen trie, in UTF-16 code units of a string; numbers take byte-sized units, so a trie of
 * Latin-1 keys is a one-byte string. A node at `p`:
 *
 *   [value + 1 (0: no key ends here): varint] [tail length: varint] [tail units...]
 *   [child count: varint] [child code, child offset: 4-unit number] * count, sorted by code
 *
 * (`UnitWriter#varint` and `#num`.) The offsets are fixed-size, so a node's table can be searched by
 * halves and filled in once its children are written; everything else is a varint, one unit when small.
 *
 * Offsets are positions in the whole string, so a trie can sit anywhere in a string that holds other
 * data too (the server keeps each record in one string: its documents' entries and tries). A lookup
 * compares the node's tail, then either stops (the key ends here) or takes the child for its next code
 * unit.
 */
/** Units of a child entry: its code unit, then its offset. */
const CHILD = 1 + NUM_UNITS;
/** Children scanned one by one up to this count; a binary search above it. */
const LINEAR = 8;

const stack: number[] = [];
const orderScratch: number[] = [];

/**
 * Indexes `from` to `to` of `keys` in key order (UTF-16 code units), equal keys by index. Insertion sort
 * into a reused array for the few keys of a typical document; the engine's sort for more.
 */
function sortedOrder(keys: readonly string[], from: number, to: number): number[] {
  const n = to - from;
  if (n > 24) {
    const order = Array.from({ length: n }, (_, i) => from + i);
    return order.sort((a, b) => {
      const x = keys[a] as string;
      const y = keys[b] as string;
      return x < y ? -1 : x > y ? 1 : a - b;
    });
  }
  // Only its first n places are read: no resizing (setting an array's length is a runtime call).
  const order = orderScratch;
  for (let i = 0; i < n; i++) {
    const key = keys[from + i] as string;
    let j = i - 1;
    while (j >= 0 && (keys[order[j] as number] as string) > key) {
      order[j + 1] = order[j] as number;
      j--;
    }
    order[j + 1] = from + i;
  }
  return order;
}

/**
 * Looks `key` up in the trie whose root is at `root` in `code`: the value stored with it, or undefined.
 */
export function trieGet(code: string, root: number, key: string): number | undefined {
  const s = code;
  let p = root;
  let i = 0;
  const length = key.length;
  for (;;) {
    let q = varintEnd(s, p);
    const tail = readVarint(s, q);
    if (i + tail > length) return undefined;
    q = varintEnd(s, q);
    for (let t = 0; t < tail; t++) if (s.charCodeAt(q++) !== key.charCodeAt(i++)) return undefined;
    if (i === length) {
      const value = readVarint(s, p);
      return value === 0 ? undefined : value - 1;
    }
    const count = readVarint(s, q);
    const c = key.charCodeAt(i++);
    const table = varintEnd(s, q);
    let found = -1;
    if (count <= LINEAR) {
      for (let g = 0; g < count; g++) {
        const gc = s.charCodeAt(table + g * CHILD);
        if (gc === c) {
          found = g;
          break;
        }
        if (gc > c) break;
      }
    } else {
      let lo = 0;
      let hi = count - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const mc = s.charCodeAt(table + mid * CHILD);
        if (mc === c) {
          found = mid;
          break;
        }
        if (mc < c) lo = mid + 1;
        else hi = mid - 1;
      }
    }
    if (found < 0) return undefined;
    p = readNum(s, table + found * CHILD + 1);
  }
}

/** Every key of the trie at `root` in `code` with its value, in key order. */
export function* trieEntries(code: string, root: number): IterableIterator<[string, number]> {
  const s = code;
  const stack: [number, string][] = [[root, '']];
  while (stack.length > 0) {
    const [p, prefix] = stack.pop() as [number, string];
    const value = readVarint(s, p);
    let q = varintEnd(s, p);
    const tail = readVarint(s, q);
    q = varintEnd(s, q);
    const key = prefix + s.slice(q, q + tail);
    if (value !== 0) yield [key, value - 1];
    q += tail;
    const count = readVarint(s, q);
    const table = varintEnd(s, q);
    // Pushed last-first, so the smallest child comes off the stack next.
    for (let g = count - 1; g >= 0; g--) {
      const c = s.charCodeAt(table + g * CHILD);
      stack.push([readNum(s, table + g * CHILD + 1), key + String.fromCharCode(c)]);
    }
  }
}

/** The writer every `FrozenTrie` is built in (a build is synchronous and never reentrant). */
const scratch = new UnitWriter();

/**
 * A read-only radix trie over a fixed list of string keys, mapping each key to its index in that list
 * (the last index, for a key listed twice). It is built once and held in a single string, so it costs
 * one heap object however many keys it has: the form for small, immutable key sets kept by the
 * million. Lookups walk it like a `Trie`; iteration is in key order (UTF-16 code units, as
 * `Array.prototype.sort()`). `writeTrie` puts the same layout inside a larger string.
 */
export class FrozenTrie implements Iterable<[string, number]> {
  private readonly code: string;
  /** Number of distinct keys. */
  readonly size: number;

  /**
   * The trie of `keys`: `get(keys[i])` is `i`. A subclass can carry data of its own beside the trie and
   * still be one object.
   */
  constructor(keys: readonly string[]) {
    scratch.reset();
    this.size = writeTrie(scratch, keys);
    this.code = scratch.toString();
  }

  /** Builds the trie of `keys`; `get(keys[i])` is `i`. */
  static from(keys: readonly string[]): FrozenTrie {
    return new FrozenTrie(keys);
  }

  /** The index of `key` in the list the trie was built from, or undefined. */
  get(key: string): number | undefined {
    return trieGet(this.code, 0, key);
  }

  /** Whether `key` is in the trie. */
  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Every key with its index, in key order. */
  entries(): IterableIterator<[string, number]> {
    return trieEntries(this.code, 0);
  }

  /** Keys in order. */
  *keys(): IterableIterator<string> {
    for (const [key] of this.entries()) yield key;
  }

  [Symbol.iterator](): IterableIterator<[string, number]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'FrozenTrie';
  }

  /** Code units the trie takes (its string's length): 2 bytes each at most, 1 when all are < 256. */
  get units(): number {
    return this.code.length;
  }
}

/**
 * Appends to `out` the trie of `keys[from..to)`, mapping `keys[i]` to `values[i]` (to `i` without
 * `values`; each 0 to 2^32 - 2), its root at `out.length` as it was, offsets counted from the start of
 * `out`. Of a key listed twice, the last wins. Returns the number of distinct keys.
 */
export function writeTrie(
  out: UnitWriter,
  keys: readonly string[],
  values?: readonly number[],
  from = 0,
  to = keys.length,
): number {
  const order = sortedOrder(keys, from, to);
  let distinct = 0;
  // Nodes to write, four numbers each: the sorted keys order[lo..hi), which share their first `depth`
  // code units, and where the parent's table keeps this node's offset (-1 for the root). A stack, not
  // recursion: a chain of keys each a prefix of the next would otherwise recurse once per key. Shared
  // by every build (a build is synchronous and never reentrant).
  const pending = stack;
  let top = 0;
  if (to > from) {
    pending[0] = 0;
    pending[1] = to - from;
    pending[2] = 0;
    pending[3] = -1;
    top = 4;
  } else {
    out.varint(0);
    out.varint(0);
    out.varint(0);
  }
  while (top > 0) {
    const patch = pending[--top] as number;
    const depth = pending[--top] as number;
    const hi = pending[--top] as number;
    let lo = pending[--top] as number;
    if (patch >= 0) out.setNum(patch, out.length);
    const first = keys[order[lo] as number] as string;
    const last = keys[order[hi - 1] as number] as string;
    let end = depth;
    while (
      end < first.length &&
      end < last.length &&
      first.charCodeAt(end) === last.charCodeAt(end)
    )
      end++;
    // Keys equal to the shared prefix sort first; the last of them wins, as with Map.
    let slot = -1;
    while (lo < hi && (keys[order[lo] as number] as string).length === end) {
      slot = order[lo] as number;
      lo++;
    }
    if (slot >= 0) distinct++;
    out.varint(slot < 0 ? 0 : (values === undefined ? slot : (values[slot] as number)) + 1);
    out.varint(end - depth);
    for (let i = depth; i < end; i++) out.unit(first.charCodeAt(i));
    // The rest, grouped by their next code unit: one child each. Count the groups first.
    let groups = 0;
    for (let i = lo, previous = -1; i < hi; i++) {
      const c = (keys[order[i] as number] as string).charCodeAt(end);
      if (c !== previous) groups++;
      previous = c;
    }
    out.varint(groups);
    for (let i = lo; i < hi;) {
      const c = (keys[order[i] as number] as string).charCodeAt(end);
      let j = i + 1;
      while (j < hi && (keys[order[j] as number] as string).charCodeAt(end) === c) j++;
      const entry = out.length;
      out.unit(c);
      out.num(0);
      pending[top++] = i;
      pending[top++] = j;
      pending[top++] = end + 1;
      pending[top++] = entry + 1;
      i = j;
    }
  }
  return distinct;
}
