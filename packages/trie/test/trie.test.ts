import { Trie } from '@triekv/trie';

const sorted = (keys: Iterable<string>): string[] => [...keys].sort();

describe('Trie basics', () => {
  it('starts empty', () => {
    const trie = new Trie<number>();
    expect(trie.size).toBe(0);
    expect(trie.get('a')).toBeUndefined();
    expect(trie.has('')).toBe(false);
    expect([...trie]).toEqual([]);
    expect(Object.prototype.toString.call(trie)).toBe('[object Trie]');
  });

  it('sets, gets and overwrites', () => {
    const trie = new Trie<string>();
    expect(trie.set('key', 'a')).toBe(trie);
    trie.set('key', 'b');
    expect(trie.get('key')).toBe('b');
    expect(trie.size).toBe(1);
  });

  it('stores the empty key on the root', () => {
    const trie = new Trie<number>([
      ['', 1],
      ['a', 2],
    ]);
    expect(trie.get('')).toBe(1);
    expect([...trie.keys()]).toEqual(['', 'a']);
    expect(trie.delete('')).toBe(true);
    expect(trie.has('')).toBe(false);
    expect(trie.get('a')).toBe(2);
    expect(trie.size).toBe(1);
  });

  it('distinguishes a stored undefined from a missing key', () => {
    const trie = new Trie<undefined>();
    trie.set('x', undefined);
    expect(trie.has('x')).toBe(true);
    expect(trie.has('y')).toBe(false);
    expect(trie.size).toBe(1);
  });

  it('handles a key that is a prefix of another, both ways round', () => {
    const trie = new Trie<number>();
    trie.set('person10', 10).set('person1', 1).set('person', 0).set('person100', 100);
    expect(trie.get('person')).toBe(0);
    expect(trie.get('person1')).toBe(1);
    expect(trie.get('person10')).toBe(10);
    expect(trie.get('person100')).toBe(100);
    expect(trie.get('person1000')).toBeUndefined();
    expect(trie.get('perso')).toBeUndefined();
    expect(trie.has('person2')).toBe(false);
    expect([...trie.keys()]).toEqual(['person', 'person1', 'person10', 'person100']);
  });

  it('misses on keys that diverge inside a compressed edge', () => {
    const trie = new Trie<number>([['abcdef', 1]]);
    expect(trie.get('abcxef')).toBeUndefined();
    expect(trie.get('abcdefg')).toBeUndefined();
    expect(trie.get('abc')).toBeUndefined();
    expect(trie.delete('abcxef')).toBe(false);
    expect(trie.delete('abc')).toBe(false);
    expect(trie.size).toBe(1);
  });

  it('returns false when deleting a missing key and leaves the rest alone', () => {
    const trie = new Trie<number>([
      ['a', 1],
      ['ab', 2],
    ]);
    expect(trie.delete('b')).toBe(false);
    expect(trie.delete('abc')).toBe(false);
    expect(trie.delete('ab')).toBe(true);
    expect(trie.delete('ab')).toBe(false);
    expect([...trie]).toEqual([['a', 1]]);
  });

  it('prunes and re-compresses when the last key under a branch goes', () => {
    const trie = new Trie<number>();
    trie.set('team', 1).set('teamwork', 2).set('tea', 3).set('ten', 4);
    expect(trie.delete('teamwork')).toBe(true);
    expect(trie.delete('team')).toBe(true);
    expect([...trie.keys()]).toEqual(['tea', 'ten']);
    expect(trie.delete('tea')).toBe(true);
    expect(trie.delete('ten')).toBe(true);
    expect(trie.size).toBe(0);
    expect([...trie]).toEqual([]);
    // The structure is reusable after emptying out.
    trie.set('tea', 5);
    expect([...trie]).toEqual([['tea', 5]]);
  });

  it('keeps a value-less branch point correct after deleting one side', () => {
    const trie = new Trie<number>([
      ['abc', 1],
      ['abd', 2],
      ['abde', 3],
    ]);
    expect(trie.delete('abc')).toBe(true);
    expect(trie.get('abd')).toBe(2);
    expect(trie.get('abde')).toBe(3);
    expect(trie.delete('abd')).toBe(true);
    expect(trie.get('abde')).toBe(3);
    expect([...trie.keys('ab')]).toEqual(['abde']);
  });

  it('clears', () => {
    const trie = new Trie<number>([
      ['a', 1],
      ['b', 2],
    ]);
    trie.clear();
    expect(trie.size).toBe(0);
    expect(trie.get('a')).toBeUndefined();
  });

  it('accepts any Unicode, including astral characters and lone surrogates', () => {
    const keys = ['día', 'δ', '日本', '日本語', '😀', '😀x', '\ud800', '\u0000', 'a\u0000b'];
    const trie = new Trie<number>(keys.map((k, i) => [k, i]));
    keys.forEach((k, i) => expect(trie.get(k)).toBe(i));
    expect([...trie.keys()]).toEqual(sorted(keys));
  });

  it('handles wide nodes (binary-searched children) in order', () => {
    const alphabet = 'ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcba9876543210';
    const keys = [...alphabet].flatMap((a) => [a, `${a}${a}`, `x${a}`]);
    const trie = new Trie<string>(keys.map((k) => [k, k]));
    for (const k of keys) expect(trie.get(k)).toBe(k);
    expect(trie.get('x!')).toBeUndefined();
    expect(trie.get('!')).toBeUndefined();
    expect([...trie.keys()]).toEqual(sorted(new Set(keys)));
    expect([...trie.keys('x', { after: 'xm' })]).toEqual(
      sorted(new Set(keys.filter((k) => k > 'xm' && k.startsWith('x')))),
    );
    for (const k of [...alphabet].filter((_, i) => i % 2 === 0))
      expect(trie.delete(`x${k}`)).toBe(true);
    expect([...trie.keys('x')]).toEqual(
      sorted(new Set(keys.filter((k) => k.startsWith('x') && trie.has(k)))),
    );
    expect(trie.size).toBe(new Set(keys).size - alphabet.length / 2);
  });

  it('survives bulk churn: wide fan-out, pool growth and reuse of freed regions', () => {
    const trie = new Trie<number>();
    const model = new Map<string, number>();
    let seed = 1;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const word = (): string =>
      String.fromCharCode(0x4e00 + Math.floor(random() * 3000)) +
      Math.floor(random() * 1e6).toString(36);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 6000; i++) {
        const k = word();
        trie.set(k, i);
        model.set(k, i);
      }
      for (const k of [...model.keys()].filter((_, i) => i % 2 === round % 2)) {
        expect(trie.delete(k)).toBe(true);
        model.delete(k);
      }
      expect(trie.size).toBe(model.size);
    }
    for (const [k, v] of model) expect(trie.get(k)).toBe(v);
    expect([...trie.keys()]).toEqual(sorted(model.keys()));
  });

  it('keeps every key and value through an explicit compaction', () => {
    const trie = new Trie<number>();
    for (let i = 0; i < 3000; i++) trie.set(`k${(i * 7919) % 3000}`, i);
    for (let i = 0; i < 3000; i += 3) trie.delete(`k${i}`);
    const before = [...trie.entries()];
    const it = trie.keys();
    trie.compact();
    expect(() => it.next()).toThrow(/changed during iteration/);
    expect([...trie.entries()]).toEqual(before);
    for (const [k, v] of before) expect(trie.get(k)).toBe(v);
    trie.set('k0', -1);
    expect(trie.get('k0')).toBe(-1);
    expect(trie.size).toBe(before.length + 1);
  });

  it('keeps every container exact when reads make its string flat: Latin-1, wide, NFC-sensitive, lone surrogates', () => {
    // Each group shares a first unit, so its keys sit in one container; the tails of the second group
    // change under NFC (a combining accent, the Angstrom sign), and the third holds lone surrogates.
    const groups = [
      ['xa', 'xé', 'x\u00ff', 'x\u0000', 'xzz'],
      ['ye\u0301', 'y\u212b', 'y日本', 'y😀', 'yA\u030a'],
      ['z\ud800', 'z\udc00a', 'za\ud83d', 'zb'],
    ];
    const trie = new Trie<number>();
    const model = new Map<string, number>();
    const check = (): void => {
      // Enough reads of every key that each container goes from rope to flat on the way.
      for (let round = 0; round < 6; round++)
        for (const [k, v] of model) expect(trie.get(k)).toBe(v);
      expect([...trie.keys()]).toEqual(sorted(model.keys()));
    };
    groups.flat().forEach((k, i) => {
      trie.set(k, i);
      model.set(k, i);
    });
    check();
    // Edits after the flattening make ropes again; reads flatten those.
    for (const group of groups) {
      trie.set(`${group[0] as string}!`, -1);
      model.set(`${group[0] as string}!`, -1);
      trie.delete(group[1] as string);
      model.delete(group[1] as string);
    }
    check();
    for (const k of ['ye\u0301', 'yé', 'x\u00c5', 'y\u00c5', 'z\ud800\udc00'])
      expect(trie.has(k)).toBe(model.has(k));
  });

  it('fails fast when the keys change under an open iterator, and resumes with after', () => {
    const trie = new Trie<number>([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]);
    const it = trie.keys();
    expect(it.next().value).toBe('a');
    trie.set('b', 20); // a new value for an existing key is not a change of keys
    expect(it.next().value).toBe('b');
    trie.set('d', 4);
    expect(() => it.next()).toThrow(/changed during iteration/);
    expect([...trie.keys('', { after: 'b' })]).toEqual(['c', 'd']);
  });

  it('rejects a non-string key with a TypeError', () => {
    const trie = new Trie<number>();
    expect(() => trie.set(1 as unknown as string, 1)).toThrow(TypeError);
    expect(() => trie.keys(2 as unknown as string)).toThrow(TypeError);
  });
});

describe('Trie iteration', () => {
  const words = ['car', 'card', 'care', 'cared', 'cat', 'dog', 'do', 'a', ''];
  const trie = new Trie<number>(words.map((w, i) => [w, i]));

  it('yields entries, keys and values in lexicographic order', () => {
    const order = sorted(words);
    expect([...trie.keys()]).toEqual(order);
    expect([...trie.values()]).toEqual(order.map((w) => words.indexOf(w)));
    expect([...trie.entries()]).toEqual(order.map((w) => [w, words.indexOf(w)]));
    expect([...trie]).toEqual([...trie.entries()]);
  });

  it('filters by prefix, including prefixes ending inside an edge', () => {
    expect([...trie.keys('car')]).toEqual(['car', 'card', 'care', 'cared']);
    expect([...trie.keys('ca')]).toEqual(['car', 'card', 'care', 'cared', 'cat']);
    expect([...trie.keys('care')]).toEqual(['care', 'cared']);
    expect([...trie.keys('cared')]).toEqual(['cared']);
    expect([...trie.keys('cx')]).toEqual([]);
    expect([...trie.keys('caredx')]).toEqual([]);
    expect([...trie.keys('d')]).toEqual(['do', 'dog']);
  });

  it('resumes after a cursor key, present or not', () => {
    expect([...trie.keys('', { after: 'card' })]).toEqual(['care', 'cared', 'cat', 'do', 'dog']);
    expect([...trie.keys('', { after: 'carc' })]).toEqual([
      'card',
      'care',
      'cared',
      'cat',
      'do',
      'dog',
    ]);
    expect([...trie.keys('', { after: '' })]).toEqual(sorted(words).slice(1));
    expect([...trie.keys('', { after: 'zzz' })]).toEqual([]);
    expect([...trie.keys('car', { after: 'car' })]).toEqual(['card', 'care', 'cared']);
    expect([...trie.keys('car', { after: 'b' })]).toEqual(['car', 'card', 'care', 'cared']);
    expect([...trie.keys('car', { after: 'cb' })]).toEqual([]);
    expect([...trie.keys('ca', { after: 'cara' })]).toEqual(['card', 'care', 'cared', 'cat']);
  });

  it('is lazy: taking the first items does not walk the rest', () => {
    const big = new Trie<number>();
    for (let i = 0; i < 10000; i++) big.set(`k${i}`, i);
    const it = big.keys('k9');
    const first = [it.next().value, it.next().value, it.next().value];
    expect(first).toEqual(['k9', 'k90', 'k900']);
  });
});
