/**
 * Layout of a frozen trie, in UTF-16 code units of one string. Numbers (slots, lengths, offsets) take two
 * units, high then low 16 bits. A node at `p`:
 *
 *   [slot + 1 (0: no key ends here)] [tail length] [tail units...] [child count]
 *   [child code, child offset] * count, sorted by code
 *
 * The root is at 0. A lookup compares the node's tail, then either stops (the key ends here) or takes
 * the child for its next code unit.
 */
const NUM = 2;
const CHILD = 1 + NUM;
/** Children scanned one by one up to this count; a binary search above it. */
const LINEAR = 8;
/** Code units per `String.fromCharCode` call when building (below the engine's argument limit). */
const CHUNK = 8192;

const stack: number[] = [];
const orderScratch: number[] = [];

/**
 * Indexes of `keys` in key order (UTF-16 code units), equal keys by index. Insertion sort into a reused
 * array for the few keys of a typical document; the engine's sort for more.
 */
function sortedOrder(keys: readonly string[]): number[] {
  const n = keys.length;
  if (n > 24) {
    const order = keys.map((_, i) => i);
    return order.sort((a, b) => {
      const x = keys[a] as string;
      const y = keys[b] as string;
      return x < y ? -1 : x > y ? 1 : a - b;
    });
  }
  const order = orderScratch;
  order.length = n;
  for (let i = 0; i < n; i++) {
    const key = keys[i] as string;
    let j = i - 1;
    while (j >= 0 && (keys[order[j] as number] as string) > key) {
      order[j + 1] = order[j] as number;
      j--;
    }
    order[j + 1] = i;
  }
  return order;
}

function readNum(s: string, at: number): number {
  return s.charCodeAt(at) * 0x10000 + s.charCodeAt(at + 1);
}

/**
 * A read-only radix trie over a fixed list of string keys, mapping each key to its index in that list
 * (the last index, for a key listed twice). It is built once and held in a single string, so it costs
 * one heap object however many keys it has: the form for the small, immutable key sets a store keeps
 * by the million (the keys of every stored document). Lookups walk it like a `Trie`; iteration is in
 * key order (UTF-16 code units, as `Array.prototype.sort()`).
 */
export class FrozenTrie implements Iterable<[string, number]> {
  private readonly code: string;
  /** Number of distinct keys. */
  readonly size: number;

  /**
   * The trie of `keys`: `get(keys[i])` is `i`. A subclass can carry data of its own beside the trie and
   * still be one object (a store's documents do).
   */
  constructor(keys: readonly string[]) {
    this.code = build(keys);
    this.size = builtDistinct;
  }

  /** Builds the trie of `keys`; `get(keys[i])` is `i`. */
  static from(keys: readonly string[]): FrozenTrie {
    return new FrozenTrie(keys);
  }

  /** The index of `key` in the list the trie was built from, or undefined. */
  get(key: string): number | undefined {
    const s = this.code;
    let p = 0;
    let i = 0;
    const length = key.length;
    for (;;) {
      const tail = s.charCodeAt(p + 2) * 0x10000 + s.charCodeAt(p + 3);
      if (i + tail > length) return undefined;
      let q = p + 4;
      for (let t = 0; t < tail; t++)
        if (s.charCodeAt(q++) !== key.charCodeAt(i++)) return undefined;
      const count = s.charCodeAt(q) * 0x10000 + s.charCodeAt(q + 1);
      if (i === length) {
        const slot = s.charCodeAt(p) * 0x10000 + s.charCodeAt(p + 1);
        return slot === 0 ? undefined : slot - 1;
      }
      const c = key.charCodeAt(i++);
      const table = q + NUM;
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

  /** Whether `key` is in the trie. */
  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Every key with its index, in key order. */
  *entries(): IterableIterator<[string, number]> {
    const s = this.code;
    const stack: [number, string][] = [[0, '']];
    while (stack.length > 0) {
      const [p, prefix] = stack.pop() as [number, string];
      const tail = readNum(s, p + 2);
      const key = prefix + s.slice(p + 4, p + 4 + tail);
      const slot = readNum(s, p);
      if (slot !== 0) yield [key, slot - 1];
      const q = p + 4 + tail;
      const count = readNum(s, q);
      const table = q + NUM;
      // Pushed last-first, so the smallest child comes off the stack next.
      for (let g = count - 1; g >= 0; g--) {
        const c = s.charCodeAt(table + g * CHILD);
        stack.push([readNum(s, table + g * CHILD + 1), key + String.fromCharCode(c)]);
      }
    }
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

/** Distinct keys of the last `build` (a field, not a returned pair: no array per build). */
let builtDistinct = 0;

/** The code string of the trie of `keys` (its number of distinct keys in `builtDistinct`). */
function build(keys: readonly string[]): string {
  const n = keys.length;
  const order = sortedOrder(keys);
  // The code units, in a plain array: appends need no capacity checks or closures, and
  // String.fromCharCode.apply takes a packed array of small ints fastest.
  const out: number[] = [];
  let distinct = 0;
  // Nodes to write, four numbers each: the sorted keys order[lo..hi), which share their first `depth`
  // code units, and where the parent's table keeps this node's offset (-1 for the root). A stack, not
  // recursion: a chain of keys each a prefix of the next would otherwise recurse once per key. Shared
  // by every build (a build is synchronous and never reentrant).
  const pending = stack;
  pending.length = 0;
  if (n > 0) pending.push(0, n, 0, -1);
  else out.push(0, 0, 0, 0, 0, 0);
  while (pending.length > 0) {
    const patch = pending.pop() as number;
    const depth = pending.pop() as number;
    const hi = pending.pop() as number;
    let lo = pending.pop() as number;
    const at = out.length;
    if (patch >= 0) {
      out[patch] = Math.floor(at / 0x10000);
      out[patch + 1] = at % 0x10000;
    }
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
    const tail = end - depth;
    out.push(
      Math.floor((slot + 1) / 0x10000),
      (slot + 1) % 0x10000,
      Math.floor(tail / 0x10000),
      tail % 0x10000,
    );
    for (let i = depth; i < end; i++) out.push(first.charCodeAt(i));
    // The rest, grouped by their next code unit: one child each. Count the groups first.
    let groups = 0;
    for (let i = lo, previous = -1; i < hi; i++) {
      const c = (keys[order[i] as number] as string).charCodeAt(end);
      if (c !== previous) groups++;
      previous = c;
    }
    out.push(Math.floor(groups / 0x10000), groups % 0x10000);
    for (let i = lo; i < hi;) {
      const c = (keys[order[i] as number] as string).charCodeAt(end);
      let j = i + 1;
      while (j < hi && (keys[order[j] as number] as string).charCodeAt(end) === c) j++;
      const entry = out.length;
      out.push(c, 0, 0);
      pending.push(i, j, end + 1, entry + 1);
      i = j;
    }
  }
  builtDistinct = distinct;
  if (out.length <= CHUNK) return String.fromCharCode.apply(null, out);
  let code = '';
  for (let i = 0; i < out.length; i += CHUNK)
    code += String.fromCharCode.apply(null, out.slice(i, i + CHUNK));
  return code;
}
