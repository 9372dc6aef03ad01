import { FrozenTrie } from '@triekv/trie';
import type { Doc, Float, Value } from '@triekv/record';

/** A stored value: a scalar as is, a document as a `StoredDoc`. */
export type StoredValue = number | bigint | Float | string | StoredDoc;

/**
 * A document as the server keeps it: a trie of its keys (key → slot, the only lookup there is) that also
 * holds its keys and values in the order they were written, so a read gives the document back in its own
 * key order without walking the trie. A stored document never changes (a write replaces the whole
 * record), so it is a `FrozenTrie` (one string, built once) with one array beside it: two heap objects
 * and a string per document, where a store keeps them by the million.
 */
export class StoredDoc extends FrozenTrie {
  /** Key, value, key, value, ... in written order: slot i at 2i and 2i + 1. */
  readonly fields: (string | StoredValue)[];

  constructor(keys: string[], fields: (string | StoredValue)[]) {
    super(keys);
    this.fields = fields;
  }

  /** The value under `key` in this document (not nested), or undefined. */
  at(key: string): StoredValue | undefined {
    const slot = this.get(key);
    return slot === undefined ? undefined : this.fields[2 * slot + 1];
  }
}

/** Builds the stored (trie-indexed) form of a document. */
export function toStored(doc: Doc): StoredDoc {
  // Arrays of exactly the document's size: grown by push, an array reserves room for 17 entries, and a
  // store keeps one per document, by the million.
  const keys = new Array<string>(doc.size);
  const fields = new Array<string | StoredValue>(2 * doc.size);
  let slot = 0;
  // forEach, not for-of: no [key, value] pair allocated per entry on this path of every write.
  doc.forEach((value, key) => {
    keys[slot] = key;
    fields[2 * slot] = key;
    fields[2 * slot++ + 1] = value instanceof Map ? toStored(value) : value;
  });
  return new StoredDoc(keys, fields);
}

/** Rebuilds a document (a `Map` in written key order) from its stored form. */
export function toDoc(stored: StoredDoc): Doc {
  const { fields } = stored;
  const doc: Doc = new Map();
  for (let at = 0; at < fields.length; at += 2) {
    const value = fields[at + 1] as StoredValue;
    doc.set(fields[at] as string, value instanceof StoredDoc ? toDoc(value) : value);
  }
  return doc;
}

/** Follows `path` trie by trie; undefined when a key is missing or a non-document is in the way. */
export function lookup(doc: StoredDoc, path: readonly string[]): StoredValue | undefined {
  let current: StoredValue = doc;
  for (const key of path) {
    if (!(current instanceof StoredDoc)) return undefined;
    const next = current.at(key);
    if (next === undefined) return undefined;
    current = next;
  }
  return current;
}

/** A stored value back as a record value. */
export function toValue(value: StoredValue): Value {
  return value instanceof StoredDoc ? toDoc(value) : value;
}
