import { FrozenTrie } from '@triekv/trie';
import type { Doc, Float, Value } from '@triekv/record';

/** A stored value: a scalar as is, a document as a `StoredDoc`. */
export type StoredValue = number | bigint | Float | string | StoredDoc;

/**
 * A document as the server keeps it: its keys indexed by a trie (key → slot, the only lookup there is),
 * and its keys and values in the order they were written, so a read gives the document back in its own
 * key order without walking the trie. A stored document never changes (a write replaces the whole
 * record), so its trie is a `FrozenTrie`: one string, built once, instead of a growable trie's pool and
 * bookkeeping objects for every nested document.
 */
export class StoredDoc {
  constructor(
    readonly index: FrozenTrie,
    readonly keys: string[],
    readonly values: StoredValue[],
  ) {}

  /** Number of keys. */
  get size(): number {
    return this.values.length;
  }

  /** The value under `key` in this document (not nested), or undefined. */
  get(key: string): StoredValue | undefined {
    const slot = this.index.get(key);
    return slot === undefined ? undefined : this.values[slot];
  }
}

/** Builds the stored (trie-indexed) form of a document. */
export function toStored(doc: Doc): StoredDoc {
  // Arrays of exactly the document's size: grown by push, each would reserve room for 17 entries, and
  // a store keeps two per document, by the million.
  const size = doc.size;
  const keys = new Array<string>(size);
  const values = new Array<StoredValue>(size);
  let slot = 0;
  // forEach, not for-of: no [key, value] pair allocated per entry on this path of every write.
  doc.forEach((value, key) => {
    keys[slot] = key;
    values[slot++] = value instanceof Map ? toStored(value) : value;
  });
  return new StoredDoc(FrozenTrie.from(keys), keys, values);
}

/** Rebuilds a document (a `Map` in written key order) from its stored form. */
export function toDoc(stored: StoredDoc): Doc {
  const { keys } = stored;
  const doc: Doc = new Map();
  for (let slot = 0; slot < keys.length; slot++) {
    const value = stored.values[slot] as StoredValue;
    doc.set(keys[slot] as string, value instanceof StoredDoc ? toDoc(value) : value);
  }
  return doc;
}

/** Follows `path` trie by trie; undefined when a key is missing or a non-document is in the way. */
export function lookup(doc: StoredDoc, path: readonly string[]): StoredValue | undefined {
  let current: StoredValue = doc;
  for (const key of path) {
    if (!(current instanceof StoredDoc)) return undefined;
    const next = current.get(key);
    if (next === undefined) return undefined;
    current = next;
  }
  return current;
}

/** A stored value back as a record value. */
export function toValue(value: StoredValue): Value {
  return value instanceof StoredDoc ? toDoc(value) : value;
}
