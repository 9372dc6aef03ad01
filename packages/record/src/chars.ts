/** Character classes shared by the record parser and the path parser. */

/** Any whitespace the reader skips: ASCII, NBSP, BOM and the Unicode space separators. */
export function isSpace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  return (
    c === 0xa0 ||
    c === 0xfeff ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** The closing quote for an opening one, or -1: `"`, `'`, and the typographic “ ” and ‘ ’ pairs. */
export function closingQuote(c: number): number {
  switch (c) {
    case 0x22: // "
    case 0x27: // '
      return c;
    case 0x201c: // “
      return 0x201d;
    case 0x2018: // ‘
      return 0x2019;
    default:
      return -1;
  }
}

/** Characters a bare (unquoted) key may contain. */
export function isBareKeyChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x5f || // _
    c === 0x2d // -
  );
}

/** Human description of the character at `i` of `text`, for error messages. */
export function describeAt(text: string, i: number): string {
  if (i >= text.length) return 'end of line';
  const ch = String.fromCodePoint(text.codePointAt(i) as number);
  return JSON.stringify(ch);
}
