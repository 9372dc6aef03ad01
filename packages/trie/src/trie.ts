import { type Yield } from './iterator.js';
import {
  C_BASE,
  C_COUNT,
  C_HEADER,
  CAP,
  COUNT,
  HEADER,
  LONG,
  LONG_UNITS,
  NO_VALUE,
  TBASE,
  TRANGE,
  VALUE,
  findCode,
  kidOf,
  readUnits4,
} from './layout.js';
import { startIterator } from './seek.js';
import { GONE, TrieStore } from './store.js';

/** Options for the iteration methods. */
export interface IterateOptions {
  /** Yield only keys that sort strictly after this key (a resume cursor). @default undefined (from the start) */
  after?: string;
}

/**
 * An ordered map from string keys to values of type `V`, kept as a burst trie (see `layout.ts`): small
 * branch nodes in one typed array on top, sorted containers of key tails below. Keys are any JS strings,
 * compared by UTF-16 code unit, the order `Array.prototype.sort()` uses. Iteration is lazy and ordered;
 * an iterator throws if the set of keys changes under it (resume with `{ after }` instead).
 */
export class Trie<V> implements Iterable<[string, V]> {
  private store = new TrieStore<V>();
  private count = 0;
  /** Scratch for `delete`: the nodes on the path and the code units that lead to each. */
  private readonly pathNodes: number[] = [];
  private readonly pathCodes: number[] = [];
  /**
   * Where the last `get` found a live value: a `set` of the same key while the epoch is unchanged (no
   * key added or removed, no compaction since) writes there without walking the trie again, so a
   * read-modify-write (the server's stamped writes) walks it once.
   */
  private lastKey: string | undefined;
  private lastSlot = -1;
  private lastEpoch = -1;

  /** Builds a trie holding the given entries (later duplicates win, as with `Map`). */
  constructor(entries?: Iterable<readonly [string, V]>) {
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
    const slot = this.slot(key);
    if (slot < 0) return undefined;
    const value = this.store.values[slot];
    if (value === GONE) return undefined;
    this.lastKey = key;
    this.lastSlot = slot;
    this.lastEpoch = this.store.epoch;
    return value;
  }

  /** Whether `key` is stored (even with the value `undefined`). */
  has(key: string): boolean {
    const slot = this.slot(key);
    return slot >= 0 && this.store.values[slot] !== GONE;
  }

  /** Stores `value` under `key`, replacing any previous value. */
  set(key: string, value: V): this {
    if (typeof key !== 'string') throw new TypeError('key must be a string');
    const store = this.store;
    if (key === this.lastKey && this.lastEpoch === store.epoch) {
      store.values[this.lastSlot] = value;
      return this;
    }
    const n = key.length;
    let node = store.root;
    let parent = 0;
    let parentCode = 0;
    for (let i = 0; ; i++) {
      const words = store.pool.words;
      if (i === n) {
        const slot = words[node + VALUE] as number;
        if (slot !== NO_VALUE) {
          store.values[slot] = value;
          return this;
        }
        const fresh = store.allocRange(0);
        store.values[fresh] = value;
        words[node + VALUE] = fresh;
        break;
      }
      const code = key.charCodeAt(i);
      const kid = kidOf(words, node, code);
      if (kid > 0) {
        parent = node;
        parentCode = code;
        node = kid;
        continue;
      }
      if (kid === 0) {
        const made = store.newContainer([key.slice(i + 1)], [value], 0, 1);
        store.addKid(node, parent, parentCode, code, made);
        break;
      }
      const k = store.findEntry(~kid, key, i + 1);
      if (k >= 0) {
        // A GONE entry is a deleted key whose tail is still there: reviving it adds the key.
        const slot = store.slotOf(~kid, k);
        const was = store.values[slot];
        store.values[slot] = value;
        if (was !== GONE) return this;
        store.revive(~kid);
        break;
      }
      store.insertEntry(node, code, ~kid, -k - 1, key, i + 1, value);
      break;
    }
    this.count++;
    store.epoch++;
    store.maybeCompact();
    return this;
  }

  /** Removes `key`; returns whether it was there. Emptied containers and branches are pruned. */
  delete(key: string): boolean {
    const store = this.store;
    const words = store.pool.words;
    const nodes = this.pathNodes;
    const codes = this.pathCodes;
    const n = key.length;
    let node = store.root;
    let i = 0;
    for (; i < n; i++) {
      const code = key.charCodeAt(i);
      const kid = kidOf(words, node, code);
      if (kid === 0) return false;
      nodes[i] = node;
      codes[i] = code;
      if (kid < 0) {
        const k = store.matchEntry(~kid, key, i + 1);
        if (k < 0 || store.values[store.slotOf(~kid, k)] === GONE) return false;
        if (!store.removeEntry(~kid, k)) this.prune(nodes, codes, i);
        this.removed();
        return true;
      }
      node = kid;
    }
    const slot = words[node + VALUE] as number;
    if (slot === NO_VALUE) return false;
    store.freeRange(slot, 0);
    words[node + VALUE] = NO_VALUE;
    if (node !== store.root && (words[node + COUNT] as number) === 0) {
      store.freeNode(node);
      this.prune(nodes, codes, i - 1);
    }
    this.removed();
    return true;
  }

  /**
   * Drops the kid at depth `last` of the path (`nodes[last]` leads to it by `codes[last]`), and every
   * node above it that is left with neither a value nor a child (the root stays).
   */
  private prune(nodes: number[], codes: number[], last: number): void {
    const store = this.store;
    let d = last;
    for (;;) {
      const node = nodes[d] as number;
      const words = store.pool.words;
      const empty =
        d > 0 && words[node + VALUE] === NO_VALUE && (words[node + COUNT] as number) === 1;
      if (!empty) {
        store.removeKid(node, codes[d] as number);
        return;
      }
      store.freeNode(node);
      d--;
    }
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
   * Re-lays the nodes out in key order and packs the values, dropping freed space. It also runs on its
   * own whenever the node storage has grown by half since the last time.
   */
  compact(): void {
    this.store.compact();
  }

  private removed(): void {
    this.count--;
    this.store.epoch++;
    this.store.maybeCompact();
  }

  /**
   * The index in the value array of `key`'s value, or -1. The hottest code in the server: the node step
   * and the container scan are written out here rather than called. The scan is `matchEntry`'s; calling
   * a shared copy of it from here measured 7-25% slower on sequential gets (three side-by-side runs of
   * 1M keys), the same on random ones.
   */
  private slot(key: string): number {
    const store = this.store;
    const words = store.pool.words;
    const n = key.length;
    let node = store.root;
    for (let i = 0; i < n; i++) {
      const code = key.charCodeAt(i);
      const cap = words[node + CAP] as number;
      const range = words[node + TRANGE] as number;
      let kid: number;
      if (range !== 0) {
        const d = code - (words[node + TBASE] as number);
        if (d < 0 || d >= range) return -1;
        kid = words[node + HEADER + 2 * cap + d] as number;
      } else {
        const j = findCode(words, node + HEADER, words[node + COUNT] as number, code);
        if (j < 0) return -1;
        kid = words[node + HEADER + cap + j] as number;
      }
      if (kid > 0) {
        node = kid;
        continue;
      }
      if (kid === 0) return -1;
      // A container: scan the lengths, compare only the tails of the right length.
      const s = store.rope[~kid] === 0 ? (store.strings[~kid] as string) : store.read(~kid);
      const from = i + 1;
      const want = n - from;
      const entries = s.charCodeAt(C_COUNT);
      let off = C_HEADER + entries;
      for (let k = 0; k < entries; k++) {
        let length = s.charCodeAt(C_HEADER + k);
        if (length === LONG) {
          length = readUnits4(s, off);
          off += LONG_UNITS;
        }
        if (length === want) {
          let j = 0;
          while (j < want && s.charCodeAt(off + j) === key.charCodeAt(from + j)) j++;
          if (j === want) return readUnits4(s, C_BASE) + k;
        }
        off += length;
      }
      return -1;
    }
    return words[node + VALUE] as number;
  }

  private iterate<R>(
    prefix: string,
    options: IterateOptions | undefined,
    yields: Yield,
  ): IterableIterator<R> {
    if (typeof prefix !== 'string') throw new TypeError('prefix must be a string');
    return startIterator<V, R>(this.store, prefix, options?.after, yields);
  }
}
