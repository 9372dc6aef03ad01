/**
 * @packageDocumentation
 * A generic, dependency-free burst trie: a sorted string-keyed map with cheap prefix queries. It is the
 * only index inside a triekv server. Keys are any JS strings (the empty string and any Unicode included),
 * ordered by UTF-16 code unit; `keys`, `values` and `entries` iterate lazily, optionally only under a
 * prefix and only after a cursor key, which is what paginated `SCAN` needs.
 *
 * @example
 * ```ts
 * import { Trie } from '@triekv/trie';
 *
 * const people = new Trie<number>();
 * people.set('person1', 22).set('person2', 31).set('pet1', 4);
 * people.get('person2'); // 31
 * [...people.keys('person')]; // ['person1', 'person2']
 * [...people.keys('', { after: 'person2' })]; // ['pet1']
 * ```
 */
export { Trie, type IterateOptions } from './trie.js';
export { FrozenTrie, trieEntries, trieGet, writeTrie } from './frozen.js';
export {
  FLOAT64_UNITS,
  NUM_UNITS,
  UnitWriter,
  readFloat64,
  readNum,
  readVarint,
  varintEnd,
} from './units.js';
