/**
 * A growable Int32Array carved into regions, with exact-size free lists so freed regions are reused.
 * Offset 0 is never handed out, so 0 can mean "no region".
 */
export class RegionPool {
  /** The backing array; replaced (never shrunk) when it grows, so re-read it after `alloc`. */
  words: Int32Array;
  private top = 1;
  /**
   * Free-list heads for small sizes, indexed by size; a free region's first word links to the next.
   * Made on the first free and grown as needed: a small trie (one per stored document) never pays for it.
   */
  private smallFree: Int32Array | null = null;
  /** Free-list heads for larger sizes (rare: nodes with very many children). */
  private largeFree: Map<number, number> | null = null;

  constructor(initialWords = 16) {
    this.words = allocWords(initialWords);
  }

  /** Words handed out or free, i.e. the high-water mark. */
  get used(): number {
    return this.top;
  }

  /** A region of `size` words; its contents are unspecified. */
  alloc(size: number): number {
    const small = this.smallFree;
    if (size < SMALL_SIZES) {
      const head = small !== null && size < small.length ? (small[size] as number) : 0;
      if (head !== 0) {
        (small as Int32Array)[size] = this.words[head] as number;
        return head;
      }
    } else {
      const head = this.largeFree?.get(size);
      if (head !== undefined) {
        const next = this.words[head] as number;
        if (next === 0) this.largeFree?.delete(size);
        else this.largeFree?.set(size, next);
        return head;
      }
    }
    const at = this.top;
    if (at + size > this.words.length) this.grow(at + size);
    this.top = at + size;
    return at;
  }

  /** Returns a region of `size` words for reuse. */
  free(at: number, size: number): void {
    // A tiny pool (a trie of a few keys, like most stored documents) keeps no free lists: what it would
    // save is smaller than the lists, and compaction reclaims it anyway.
    if (this.words.length < TINY_POOL) return;
    if (size < SMALL_SIZES) {
      let small = this.smallFree;
      if (small === null || size >= small.length) {
        const grown = new Int32Array(Math.min(SMALL_SIZES, Math.max(64, 2 * size)));
        if (small !== null) grown.set(small);
        small = this.smallFree = grown;
      }
      this.words[at] = small[size] as number;
      small[size] = at;
    } else {
      const large = (this.largeFree ??= new Map<number, number>());
      this.words[at] = large.get(size) ?? 0;
      large.set(size, at);
    }
  }

  private grow(needed: number): void {
    // 1.5x rather than 2x: the pool is most of a large trie's memory, and slack is paid for in full.
    const next = allocWords(Math.max(needed, Math.ceil(this.words.length * 1.5)));
    next.set(this.words.subarray(0, this.top));
    this.words = next;
  }
}

const SMALL_SIZES = 1024;
const TINY_POOL = 256;

/**
 * Small pools are views into shared 8 KiB slabs instead of arrays of their own: a trie per stored
 * document would otherwise cost an ArrayBuffer allocation (and external-memory pressure on the GC) each.
 * A slab is freed when the last pool viewing it is; large pools get their own buffer.
 */
const SLAB_WORDS = 2048;
const MAX_SLAB_POOL = 256;
let slab = new ArrayBuffer(SLAB_WORDS * 4);
let slabTop = 0;

function allocWords(length: number): Int32Array {
  if (length > MAX_SLAB_POOL) return new Int32Array(length);
  if (slabTop + length > SLAB_WORDS) {
    slab = new ArrayBuffer(SLAB_WORDS * 4);
    slabTop = 0;
  }
  const words = new Int32Array(slab, slabTop * 4, length);
  slabTop += length;
  return words;
}
