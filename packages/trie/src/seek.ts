import { TrieIterator, type Yield } from './iterator.js';
import { CAP, codesAt, kidIndex, readTail } from './layout.js';
import type { TrieStore } from './store.js';

/** Child `j` of `node`. */
function kidAt(words: Int32Array, node: number, j: number): number {
  const codes = codesAt(words, node);
  return words[codes + (words[node + CAP] as number) + j] as number;
}

/** Index of the child of `node` reached by `code`, or `-(insertion point) - 1`. */
function findKid(words: Int32Array, node: number, code: number): number {
  return kidIndex(words, node, codesAt(words, node), code);
}

/** The node whose subtree holds exactly the keys starting with `prefix`, and that node's full key. */
export function findSubtree<V>(
  store: TrieStore<V>,
  prefix: string,
): { node: number; path: string } | undefined {
  const words = store.pool.words;
  let node = store.root;
  let i = 0;
  while (i < prefix.length) {
    const j = findKid(words, node, prefix.charCodeAt(i));
    if (j < 0) return undefined;
    node = kidAt(words, node, j);
    i += 1;
    const tail = readTail(words, node);
    if (tail.length >= prefix.length - i) {
      // The prefix ends inside (or at the end of) this edge.
      if (!tail.startsWith(prefix.slice(i))) return undefined;
      return { node, path: prefix.slice(0, i) + tail };
    }
    if (!prefix.startsWith(tail, i)) return undefined;
    i += tail.length;
  }
  return { node, path: prefix };
}

/**
 * An iterator over the keys of the subtree at `node` (full key `path`) that sort strictly after `after`.
 * Every key in the subtree starts with `path`, so `after` either sorts before all of them, after all of
 * them, or starts with `path` and we descend along it, scheduling the greater siblings at each level.
 */
export function iterateAfter<V, R>(
  store: TrieStore<V>,
  node: number,
  path: string,
  after: string,
  yields: Yield,
): TrieIterator<V, R> {
  const words = store.pool.words;
  const it = new TrieIterator<V, R>(store, yields);
  if (after < path) {
    it.push(node, path);
    return it;
  }
  if (!after.startsWith(path)) return it;
  let depth = path.length;
  for (;;) {
    // `node`'s own key is a prefix of `after`, so it is <= after: only its children can qualify.
    if (depth === after.length) {
      it.pushChildren(node, path);
      return it;
    }
    const code = after.charCodeAt(depth);
    const j = findKid(words, node, code);
    if (j < 0) {
      it.pushChildren(node, path, -j - 1);
      return it;
    }
    it.pushChildren(node, path, j + 1);
    const child = kidAt(words, node, j);
    const label = String.fromCharCode(code) + readTail(words, child);
    const childPath = path + label;
    const segment = after.slice(depth, depth + label.length);
    if (segment !== label) {
      // `after` ends inside the edge or diverges from it: every key of the child's subtree compares
      // with `after` the way the label compares with that segment of it.
      if (label > segment) it.push(child, childPath);
      return it;
    }
    node = child;
    path = childPath;
    depth += label.length;
  }
}
