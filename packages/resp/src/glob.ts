/**
 * Redis's glob patterns (KEYS, SCAN MATCH, CONFIG GET): `*` any run, `?` one character, `[abc]`,
 * `[^a]`, `[a-z]`, and `\x` for a literal x. Matched over code points of the key.
 */
export function globMatch(pattern: string, text: string): boolean {
  const p = [...pattern];
  const t = [...text];
  const match = (pi: number, ti: number): boolean => {
    while (pi < p.length) {
      const c = p[pi] as string;
      if (c === '*') {
        while (p[pi + 1] === '*') pi++;
        if (pi + 1 === p.length) return true;
        for (let k = ti; k <= t.length; k++) if (match(pi + 1, k)) return true;
        return false;
      }
      if (ti >= t.length) return false;
      if (c === '?') {
        pi++;
        ti++;
        continue;
      }
      if (c === '[') {
        let i = pi + 1;
        const negate = p[i] === '^';
        if (negate) i++;
        let matched = false;
        while (i < p.length && p[i] !== ']') {
          if (p[i] === '\\' && i + 1 < p.length) {
            if (p[i + 1] === t[ti]) matched = true;
            i += 2;
          } else if (p[i + 1] === '-' && i + 2 < p.length && p[i + 2] !== ']') {
            const lo = p[i] as string;
            const hi = p[i + 2] as string;
            const [a, b] = lo <= hi ? [lo, hi] : [hi, lo];
            if ((t[ti] as string) >= a && (t[ti] as string) <= b) matched = true;
            i += 3;
          } else {
            if (p[i] === t[ti]) matched = true;
            i++;
          }
        }
        if (matched === negate) return false;
        pi = i + 1;
        ti++;
        continue;
      }
      const literal = c === '\\' && pi + 1 < p.length ? (p[++pi] as string) : c;
      if (literal !== t[ti]) return false;
      pi++;
      ti++;
    }
    return ti === t.length;
  };
  return match(0, 0);
}

/** The literal start of a pattern (up to its first special character): the trie walks only that. */
export function literalPrefix(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' || c === '?' || c === '[') return out;
    if (c === '\\') {
      if (i + 1 >= pattern.length) return out;
      out += pattern[++i] as string;
    } else out += c;
  }
  return out;
}
