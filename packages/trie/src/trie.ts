import { TrieIterator, type Yield } from './iterator.js';
import {
  CAP,
  COUNT,
  HEADER,
  LINEAR_SCAN,
  NO_VALUE,
  TAIL,
  VALUE,
  commonTail,
  kidIndex,
  regionSize,
} from './layout.js';
import { findSubtree, iterateAfter } from './seek.js';
import { TrieStore } from './store.js';

/**
 * Pool words that entries are likely to need (a root with room for every key as a child, one leaf per
 * key, a quarter more for branch points), so a small trie built in one go allocates its pool once.
 */
function estimateWords(entries: readonly (readonly [string, unknown])[]): number {
  let words = 1 + regionSize(0, entries.length);
  for (const [key] of entries) words += regionSize(Math.max(0, key.length - 1), 0);
  return Math.ceil(words * 1.25);
}

/** Options for the iteration methods. */
export interface IterateOptions {
  /** Yield only keys that sort strictly after this key (a resume cursor). @default undefined (from the start) */
  after?: string;
}

/**
 * A radix (path-compressed) trie from string keys to values of type `V`. Keys are any JS strings,
 * compared by UTF-16 code unit, the order `Array.prototype.sort()` uses. Nodes live in one typed-array
 * pool (see `layout.ts`), values in one array. Iteration is lazy and ordered; an iterator throws if the
 * set of keys changes under it (resume with `{ after }` instead).
 */
export class Trie<V> implements Iterable<[string, V]> {
  private store = new TrieStore<V>();
  private count = 0;

  /** Builds a trie holding the given entries (later duplicates win, as with `Map`). */
  constructor(entries?: Iterable<readonly [string, V]>) {
    if (Array.isArray(entries)) {
      const list = entries as [string, V][];
      this.store = new TrieStore<V>(estimateWords(list), list.length);
    }
    if (entries !== undefined) for (const [key, value] of entries) this.set(key, value);
  }

  /** Number of keys stored. */
  get size(): number {
    return this.count;
  }

  get [Symbol.toStringTag](): string {
    return 'Trie';
  }

  /** The value stored under `key`, or `undefined`. */
  get(key: string): V | undefined {
    const node = this.find(key);
    if (node === 0) return undefined;
    const slot = this.store.pool.words[node + VALUE] as number;
    return slot === NO_VALUE ? undefined : this.store.values[slot];
  }

  /** Whether `key` is stored (even with the value `undefined`). */
  has(key: string): boolean {
    const node = this.find(key);
    return node !== 0 && this.store.pool.words[node + VALUE] !== NO_VALUE;
  }

  /** Stores `value` under `key`, replacing any previous value. */
  set(key: string, value: V): this {
    if (typeof key !== 'string') throw new TypeError('key must be a string');
    const store = this.store;
    let node = store.root;
    let holder = -1;
    let i = 0;
    const n = key.length;
    while (i < n) {
      const words = store.pool.words;
      const codes = node + HEADER + (((words[node + TAIL] as number) + 1) >> 1);
      const j = kidIndex(words, node, codes, key.charCodeAt(i));
      if (j < 0) {
        store.addLeaf(node, holder, -j - 1, key, i, value);
        this.added();
        return this;
      }
      const kidHolder = codes + (words[node + CAP] as number) + j;
      let child = words[kidHolder] as number;
      const tail = words[child + TAIL] as number;
      const common = commonTail(words, child, key, i + 1, Math.min(tail, n - i - 1));
      if (common < tail) {
        child = store.splitEdge(kidHolder, child, common);
        store.epoch++;
      }
      node = child;
      holder = kidHolder;
      i += 1 + common;
    }
    const words = store.pool.words;
    const slot = words[node + VALUE] as number;
    if (slot !== NO_VALUE) {
      store.values[slot] = value;
      return this;
    }
    words[node + VALUE] = store.storeValue(value);
    this.added();
    return this;
  }

  /** Removes `key`; returns whether it was there. Branches left empty are pruned and re-compressed. */
  delete(key: string): boolean {
    const store = this.store;
    const words = store.pool.words;
    let parent = 0;
    let parentHolder = -1;
    let indexInParent = -1;
    let holder = -1;
    let node = store.root;
    let i = 0;
    const n = key.length;
    while (i < n) {
      const codes = node + HEADER + (((words[node + TAIL] as number) + 1) >> 1);
      const j = kidIndex(words, node, codes, key.charCodeAt(i));
      if (j < 0) return false;
      const kidHolder = codes + (words[node + CAP] as number) + j;
      const child = words[kidHolder] as number;
      const tail = words[child + TAIL] as number;
      if (tail > n - i - 1 || commonTail(words, child, key, i + 1, tail) < tail) return false;
      parentHolder = holder;
      parent = node;
      indexInParent = j;
      holder = kidHolder;
      node = child;
      i += 1 + tail;
    }
    const slot = words[node + VALUE] as number;
    if (slot === NO_VALUE) return false;
    store.releaseValue(slot);
    words[node + VALUE] = NO_VALUE;
    this.count--;
    store.epoch++;
    if (parent === 0) return true; // the empty key lives on the root, which is never pruned
    const kids = words[node + COUNT] as number;
    if (kids === 0) {
      store.removeKid(parent, indexInParent);
      store.freeNode(node);
      if (
        parent !== store.root &&
        words[parent + VALUE] === NO_VALUE &&
        words[parent + COUNT] === 1
      ) {
        store.mergeWithOnlyKid(parent, parentHolder);
      }
    } else if (kids === 1) {
      store.mergeWithOnlyKid(node, holder);
    }
    store.maybeCompact();
    return true;
  }

  /** Removes every key and releases the memory. */
  clear(): void {
    const epoch = this.store.epoch;
    this.store = new TrieStore<V>();
    this.store.epoch = epoch + 1;
    this.count = 0;
  }

  /** `[key, value]` pairs in key order, optionally only under `prefix` and after `options.after`. */
  entries(prefix = '', options?: IterateOptions): IterableIterator<[string, V]> {
    return this.iterate<[string, V]>(prefix, options, 'entries');
  }

  /** Keys in order, optionally only under `prefix` and after `options.after`. */
  keys(prefix = '', options?: IterateOptions): IterableIterator<string> {
    return this.iterate<string>(prefix, options, 'keys');
  }

  /** Values in key order, optionally only under `prefix` and after `options.after`. */
  values(prefix = '', options?: IterateOptions): IterableIterator<V> {
    return this.iterate<V>(prefix, options, 'values');
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }

  /**
   * Re-lays the trie out in key order for lookup locality and drops freed space. It also runs on its own
   * whenever the storage has grown by half since the last time; call it after a bulk load for the best reads.
   */
  compact(): void {
    this.store.compact();
  }

  private added(): void {
    this.count++;
    this.store.epoch++;
    this.store.maybeCompact();
  }

  /** The region of the node for exactly `key` (which may hold no value), or 0. */
  private find(key: string): number {
    const words = this.store.pool.words;
    let node = this.store.root;
    let i = 0;
    const n = key.length;
    while (i < n) {
      const count = words[node + COUNT] as number;
      if (count === 0) return 0;
      const codes = node + HEADER + (((words[node + TAIL] as number) + 1) >> 1);
      const code = key.charCodeAt(i);
      let j = 0;
      if (count <= LINEAR_SCAN) {
        // Inlined linear scan: this loop is the hottest code in the server.
        while (j < count && (words[codes + j] as number) < code) j++;
        if (j === count || words[codes + j] !== code) return 0;
      } else {
        j = kidIndex(words, node, codes, code);
        if (j < 0) return 0;
      }
      node = words[codes + (words[node + CAP] as number) + j] as number;
      i += 1;
      const t = words[node + TAIL] as number;
      if (t !== 0) {
        if (t > n - i) return 0;
        const base = node + HEADER;
        for (let u = 0; u < t; u += 2) {
          const word = words[base + (u >> 1)] as number;
          if ((word & 0xffff) !== key.charCodeAt(i + u)) return 0;
          if (u + 1 < t && word >>> 16 !== key.charCodeAt(i + u + 1)) return 0;
        }
        i += t;
      }
    }
    return node;
  }

  private iterate<R>(
    prefix: string,
    options: IterateOptions | undefined,
    yields: Yield,
  ): IterableIterator<R> {
    if (typeof prefix !== 'string') throw new TypeError('prefix must be a string');
    const store = this.store;
    const found = findSubtree(store, prefix);
    if (found === undefined) return new TrieIterator<V, R>(store, yields);
    const after = options?.after;
    if (after !== undefined)
      return iterateAfter<V, R>(store, found.node, found.path, after, yields);
    const it = new TrieIterator<V, R>(store, yields);
    it.push(found.node, found.path);
    return it;
  }
}
