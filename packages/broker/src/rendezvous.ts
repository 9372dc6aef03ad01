/**
 * Rendezvous (highest random weight) hashing: each server scores each key, and the key's servers are
 * taken in descending score order. Adding or removing a server only moves the keys it wins or loses.
 */

/** A 32-bit FNV-1a hash of a string's UTF-16 code units, finished with murmur3's avalanche. */
export function hash32(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Server indexes in the key's rendezvous order (best first). `seeds[i]` is server i's hash of its name. */
export function rendezvousOrder(key: string, seeds: readonly number[]): number[] {
  const scores = seeds.map((seed, index) => ({ index, score: hash32(key, seed) }));
  scores.sort((a, b) => b.score - a.score || a.index - b.index);
  return scores.map((s) => s.index);
}
