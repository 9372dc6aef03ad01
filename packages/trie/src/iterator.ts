import { CAP, codesAt, COUNT, NO_VALUE, readTail, TAIL, VALUE } from './layout.js';
import type { TrieStore } from './store.js';

/** What an iterator yields: keys alone never touch the value array (a cache miss per key saved). */
export type Yield = 'keys' | 'values' | 'entries';

/** A frame's next-child index before the frame's own node has been considered. */
const SELF = -1;

/**
 * Depth-first, pre-order walk in lexicographic (UTF-16 code unit) order over an explicit stack of frames
 * (node, full key of the node, index of the next child to enter). A child's key is built only when the
 * walk enters it, so taking the first k keys costs O(k + depth), whatever the fan-out.
 */
export class TrieIterator<V, R> implements IterableIterator<R> {
  private readonly nodes: number[] = [];
  private readonly paths: string[] = [];
  private readonly nextKid: number[] = [];
  private readonly epoch: number;

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

  next(): IteratorResult<R, undefined> {
    const store = this.store;
    if (store.epoch !== this.epoch) {
      throw new Error('Trie changed during iteration; resume with { after: lastKey }');
    }
    const words = store.pool.words;
    const { nodes, paths, nextKid } = this;
    while (nodes.length > 0) {
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
      const codes = codesAt(words, node);
      const child = words[codes + (words[node + CAP] as number) + j] as number;
      let path = (paths[top] as string) + String.fromCharCode(words[codes + j] as number);
      if ((words[child + TAIL] as number) !== 0) path += readTail(words, child);
      // A leaf (always valued) is yielded at once, without a frame: most keys a scan yields are leaves.
      if ((words[child + COUNT] as number) === 0) {
        return { value: this.item(path, words[child + VALUE] as number), done: false };
      }
      this.push(child, path);
    }
    return { value: undefined, done: true };
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
