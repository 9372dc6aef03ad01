import { TrieIterator, type Yield } from './iterator.js';
import { CAP, COUNT, HEADER, findCode, kidOf } from './layout.js';
import type { TrieStore } from './store.js';

/**
 * An iterator over the keys that start with `prefix` and sort strictly after `after` (when given).
 * The prefix is followed through the nodes; if it ends inside a container, the iterator reads the run
 * of that container's tails that start with the rest of it. Otherwise every key of the node's subtree
 * starts with `prefix`, so `after` either sorts before all of them, after all of them, or starts with
 * the prefix and we descend along it, scheduling the greater siblings at each level.
 */
export function startIterator<V, R>(
  store: TrieStore<V>,
  prefix: string,
  after: string | undefined,
  yields: Yield,
): TrieIterator<V, R> {
  const words = store.pool.words;
  const it = new TrieIterator<V, R>(store, yields);
  let node = store.root;
  for (let i = 0; i < prefix.length; i++) {
    const kid = kidOf(words, node, prefix.charCodeAt(i));
    if (kid === 0) return it;
    if (kid < 0) {
      it.startRun(~kid, prefix.slice(0, i + 1), prefix.slice(i + 1), after);
      return it;
    }
    node = kid;
  }
  if (after === undefined || after < prefix) {
    it.push(node, prefix);
    return it;
  }
  if (!after.startsWith(prefix)) return it;
  let path = prefix;
  for (let depth = prefix.length; ; depth++) {
    // `node`'s own key is a prefix of `after`, so it is <= after: only its children can qualify.
    if (depth === after.length) {
      it.pushChildren(node, path);
      return it;
    }
    const code = after.charCodeAt(depth);
    const j = findCode(words, node + HEADER, words[node + COUNT] as number, code);
    if (j < 0) {
      it.pushChildren(node, path, -j - 1);
      return it;
    }
    it.pushChildren(node, path, j + 1);
    const kid = words[node + HEADER + (words[node + CAP] as number) + j] as number;
    path += String.fromCharCode(code);
    if (kid < 0) {
      it.startRun(~kid, path, '', after);
      return it;
    }
    node = kid;
  }
}
