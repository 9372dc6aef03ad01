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
  VALUE,
  readUnits4,
} from './layout.js';
import { GONE, type TrieStore } from './store.js';

/** What an iterator yields: keys alone touch the values only of containers with deleted entries. */
export type Yield = 'keys' | 'values' | 'entries';

/** A frame's next-child index before the frame's own node has been considered. */
const SELF = -1;

/**
 * Depth-first, pre-order walk in UTF-16 code unit order. Nodes sit on an explicit stack of frames (node,
 * full key of the node, index of the next child to enter); a container is read as a run, entry by entry,
 * each key made from the container's path and a slice of its string (two allocations, however long the
 * key). Taking the first k keys costs O(k + depth), whatever the fan-out.
 */
export class TrieIterator<V, R> implements IterableIterator<R> {
  private readonly nodes: number[] = [];
  private readonly paths: string[] = [];
  private readonly nextKid: number[] = [];
  private readonly epoch: number;
  /** The container being read: its string, path, next entry, entry count and data offset. */
  private run = '';
  private runPath = '';
  private runNext = 0;
  private runEnd = 0;
  private runOff = 0;
  /** Where the run's values start in the value array. */
  private runBase = 0;
  /** Whether the run has GONE entries to skip (when not, keys alone never touch the values). */
  private runGone = false;
  /** While reading a container, yield only tails starting with this; stop at the first that does not. */
  private runWant = '';

  constructor(
    private readonly store: TrieStore<V>,
    private readonly yields: Yield,
  ) {
    this.epoch = store.epoch;
  }

  /** Schedules a whole subtree whose root's full key is `path`. Later pushes are yielded first. */
  push(node: number, path: string): void {
    this.nodes.push(node);
    this.paths.push(path);
    this.nextKid.push(SELF);
  }

  /** Schedules the children of `node` from index `from` on (not the node itself). */
  pushChildren(node: number, path: string, from = 0): void {
    this.nodes.push(node);
    this.paths.push(path);
    this.nextKid.push(from);
  }

  /**
   * Starts reading container `id` (full key `path` before its tails) at the first tail that starts with
   * `want` and makes a key after `after` (when given); it is read before any scheduled frame.
   */
  startRun(id: number, path: string, want: string, after: string | undefined): void {
    const s = this.store.strings[id] as string;
    const n = s.charCodeAt(C_COUNT);
    let off = C_HEADER + n;
    let k = 0;
    for (; k < n; k++) {
      let length = s.charCodeAt(C_HEADER + k);
      let start = off;
      if (length === LONG) {
        length = readUnits4(s, off);
        start += LONG_UNITS;
      }
      const tail = s.slice(start, start + length);
      if (tail >= want && (after === undefined || path + tail > after)) break;
      off = start + length;
    }
    this.run = s;
    this.runPath = path;
    this.runNext = k;
    this.runEnd = n;
    this.runOff = off;
    this.runBase = readUnits4(s, C_BASE);
    this.runGone = this.store.gone[id] !== 0;
    this.runWant = want;
  }

  next(): IteratorResult<R, undefined> {
    const store = this.store;
    if (store.epoch !== this.epoch) {
      throw new Error('Trie changed during iteration; resume with { after: lastKey }');
    }
    for (;;) {
      if (this.runNext < this.runEnd) {
        const s = this.run;
        const k = this.runNext++;
        let length = s.charCodeAt(C_HEADER + k);
        let start = this.runOff;
        if (length === LONG) {
          length = readUnits4(s, start);
          start += LONG_UNITS;
        }
        this.runOff = start + length;
        // Deleted entries keep their tails until the container is rebuilt: skip them.
        const slot = this.runBase + k;
        if (this.runGone && store.values[slot] === GONE) continue;
        if (this.yields === 'values' && this.runWant === '')
          return { value: store.values[slot] as R, done: false };
        const tail = s.slice(start, start + length);
        if (this.runWant !== '' && !tail.startsWith(this.runWant)) {
          this.runEnd = this.runNext;
          continue;
        }
        return { value: this.item(this.runPath + tail, slot), done: false };
      }
      const { nodes, paths, nextKid } = this;
      if (nodes.length === 0) return { value: undefined, done: true };
      const words = store.pool.words;
      const top = nodes.length - 1;
      const node = nodes[top] as number;
      const j = nextKid[top] as number;
      if (j === SELF) {
        nextKid[top] = 0;
        const slot = words[node + VALUE] as number;
        if (slot !== NO_VALUE) return { value: this.item(paths[top] as string, slot), done: false };
        continue;
      }
      if (j >= (words[node + COUNT] as number)) {
        nodes.pop();
        paths.pop();
        nextKid.pop();
        continue;
      }
      nextKid[top] = j + 1;
      const path = (paths[top] as string) + String.fromCharCode(words[node + HEADER + j] as number);
      const kid = words[node + HEADER + (words[node + CAP] as number) + j] as number;
      if (kid > 0) {
        this.push(kid, path);
        continue;
      }
      const s = store.strings[~kid] as string;
      this.run = s;
      this.runPath = path;
      this.runNext = 0;
      this.runEnd = s.charCodeAt(C_COUNT);
      this.runOff = C_HEADER + this.runEnd;
      this.runBase = readUnits4(s, C_BASE);
      this.runGone = store.gone[~kid] !== 0;
      this.runWant = '';
    }
  }

  private item(key: string, slot: number): R {
    if (this.yields === 'keys') return key as R;
    const value = this.store.values[slot] as V;
    return (this.yields === 'values' ? value : [key, value]) as R;
  }

  [Symbol.iterator](): this {
    return this;
  }
}
