import { isUtf8 } from 'node:buffer';

/** The fast slices Node's Buffer has (not in its type declarations): no encoding switch, no view made. */
interface Slicing {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

/** Below this many bytes a JavaScript loop finds out whether bytes are ASCII faster than a native call. */
const SHORT = 128;

/**
 * The text of UTF-8 `bytes`, or undefined when they are not valid UTF-8 (what a server that keeps text
 * keys must refuse). Short ASCII bytes, the common key, are decoded without a validation call.
 */
export function utf8Text(bytes: Buffer): string | undefined {
  const n = bytes.length;
  if (n <= SHORT) {
    let i = 0;
    while (i < n && (bytes[i] as number) < 0x80) i++;
    if (i === n) return (bytes as unknown as Slicing).latin1Slice(0, n);
  }
  return isUtf8(bytes) ? (bytes as unknown as Slicing).utf8Slice(0, n) : undefined;
}

/** The ASCII lower case of a byte (A-Z to a-z, every other byte as it is). */
const lower = (c: number): number => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c);

interface Named<T> {
  bytes: Buffer;
  value: T;
}

/**
 * Values by name, found from the bytes a client sent in any ASCII case without making a string: what a
 * server dispatching commands looks up for every request.
 */
export class NameIndex<T> {
  private readonly byHash = new Map<number, Named<T>[]>();

  private static hash(bytes: Uint8Array): number {
    let h = bytes.length;
    for (let i = 0; i < bytes.length; i++) h = (Math.imul(h, 31) + lower(bytes[i] as number)) | 0;
    return h;
  }

  /** Adds (or replaces) the value of `name` (compared in ASCII lower case). */
  set(name: string, value: T): this {
    const bytes = Buffer.from(name.toLowerCase(), 'utf8');
    const h = NameIndex.hash(bytes);
    const list = this.byHash.get(h) ?? [];
    const at = list.findIndex((e) => e.bytes.equals(bytes));
    if (at >= 0) list[at] = { bytes, value };
    else list.push({ bytes, value });
    this.byHash.set(h, list);
    return this;
  }

  /** The value whose name `bytes` spell in any ASCII case, or undefined. */
  get(bytes: Uint8Array): T | undefined {
    const list = this.byHash.get(NameIndex.hash(bytes));
    if (list === undefined) return undefined;
    for (const entry of list) {
      const name = entry.bytes;
      if (name.length !== bytes.length) continue;
      let i = 0;
      while (i < name.length && name[i] === lower(bytes[i] as number)) i++;
      if (i === name.length) return entry.value;
    }
    return undefined;
  }
}
