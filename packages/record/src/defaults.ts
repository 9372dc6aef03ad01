/** Deepest document nesting a parser accepts (the top-level document is depth 1). */
export const DEFAULT_MAX_DEPTH = 64;
/** Longest line a parser or reader accepts, in UTF-16 code units. */
export const DEFAULT_MAX_LINE_LENGTH = 1024 * 1024;
/** Largest integer a parser accepts, in bytes of its magnitude (about 154 decimal digits). */
export const DEFAULT_MAX_INT_BYTES = 64;
