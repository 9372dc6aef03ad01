import fc from 'fast-check';
import { NameIndex, RespParser, RespWriter, utf8Text } from '@triekv/resp';

describe('utf8Text', () => {
  it('decodes ASCII, multi-byte and long text as Buffer#toString does', () => {
    for (const s of ['', 'key:1', 'κλειδί', '鍵🔑', 'x'.repeat(5000), `${'a'.repeat(127)}é`]) {
      expect(utf8Text(Buffer.from(s))).toBe(s);
    }
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        expect(utf8Text(Buffer.from(s, 'utf8'))).toBe(Buffer.from(s, 'utf8').toString('utf8'));
      }),
    );
  });

  it('refuses bytes that are not UTF-8, short or long', () => {
    expect(utf8Text(Buffer.from([0x6b, 0xff]))).toBeUndefined();
    expect(utf8Text(Buffer.from([0xc3]))).toBeUndefined();
    expect(utf8Text(Buffer.concat([Buffer.alloc(300, 0x61), Buffer.from([0xfe])]))).toBeUndefined();
  });
});

describe('NameIndex', () => {
  const index = new NameIndex<number>().set('get', 1).set('json.get', 2).set('GETSET', 3);

  it('finds a name from its bytes in any ASCII case', () => {
    for (const name of ['get', 'GET', 'gEt']) expect(index.get(Buffer.from(name))).toBe(1);
    expect(index.get(Buffer.from('JSON.GET'))).toBe(2);
    expect(index.get(Buffer.from('getset'))).toBe(3);
  });

  it('misses names that differ in a byte, in length, or only past ASCII case folding', () => {
    for (const name of ['ge', 'gets', 'gat', 'json_get', '', 'g\u00c9t']) {
      expect(index.get(Buffer.from(name))).toBeUndefined();
    }
    // 0x47 ('G') folds to 'g'; 0x07 (the same bits without 0x40) must not.
    expect(index.get(Buffer.from([0x07, 0x45, 0x54]))).toBeUndefined();
  });

  it('replaces the value of a name set again', () => {
    const i = new NameIndex<string>().set('ping', 'a').set('PING', 'b');
    expect(i.get(Buffer.from('ping'))).toBe('b');
  });
});

describe('parser arguments', () => {
  it('are Buffers over the received bytes, with every Buffer method', () => {
    const [command] = new RespParser().push(Buffer.from('*2\r\n$3\r\nGET\r\n$5\r\nkey:1\r\n'));
    expect(Array.isArray(command)).toBe(true);
    const [name, key] = command as Buffer[];
    expect(Buffer.isBuffer(name)).toBe(true);
    expect(name?.toString('latin1')).toBe('GET');
    expect(key?.equals(Buffer.from('key:1'))).toBe(true);
    expect(key?.subarray(4).toString()).toBe('1');
    expect(Buffer.concat([name as Buffer, key as Buffer]).toString()).toBe('GETkey:1');
  });
});

describe('RespWriter#bulkUnits', () => {
  it('writes a range of a string of byte units as a bulk string, short or long', () => {
    for (const length of [0, 3, 64, 65, 5000]) {
      const bytes = Buffer.from(Array.from({ length }, (_, i) => (i * 37) % 256));
      const text = `ab${bytes.toString('latin1')}cd`;
      const w = new RespWriter();
      w.bulkUnits(text, 2, length);
      expect(w.take()).toEqual(
        Buffer.concat([Buffer.from(`$${length}\r\n`), bytes, Buffer.from('\r\n')]),
      );
    }
  });
});
