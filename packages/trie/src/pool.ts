/**
 * A growable Int32Array carved into regions, with exact-size free lists so freed regions are reused.
 * Offset 0 is never handed out, so 0 can mean "no region".
 */
export class RegionPool {
  /** The backing array; replaced (never shrunk) when it grows, so re-read it after `alloc`. */
  words: Int32Array;
  private top = 1;
  /** Free-list heads for small sizes, indexed by size; a free region's first word links to the next. */
  private readonly smallFree = new Int32Array(SMALL_SIZES);
  /** Free-list heads for larger sizes (rare: nodes with very many children). */
  private readonly largeFree = new Map<number, number>();

  constructor(initialWords = 16) {
    this.words = new Int32Array(initialWords);
  }

  /** Words handed out or free, i.e. the high-water mark. */
  get used(): number {
    return this.top;
  }

  /** A region of `size` words; its contents are unspecified. */
  alloc(size: number): number {
    if (size < SMALL_SIZES) {
      const head = this.smallFree[size] as number;
      if (head !== 0) {
        this.smallFree[size] = this.words[head] as number;
        return head;
      }
    } else {
      const head = this.largeFree.get(size);
      if (head !== undefined) {
        const next = this.words[head] as number;
        if (next === 0) this.largeFree.delete(size);
        else this.largeFree.set(size, next);
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
    if (size < SMALL_SIZES) {
      this.words[at] = this.smallFree[size] as number;
      this.smallFree[size] = at;
    } else {
      this.words[at] = this.largeFree.get(size) ?? 0;
      this.largeFree.set(size, at);
    }
  }

  private grow(needed: number): void {
    // 1.5x rather than 2x: the pool is most of a large trie's memory, and slack is paid for in full.
    const next = new Int32Array(Math.max(needed, Math.ceil(this.words.length * 1.5)));
    next.set(this.words.subarray(0, this.top));
    this.words = next;
  }
}

const SMALL_SIZES = 1024;
