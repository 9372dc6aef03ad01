import { Kind, OK_FIELDS, type Field, type Layout } from './layout.js';
import type { Message } from './messages.js';
import type { MsgpackReader } from './msgpack-reader.js';
import type { MsgpackWriter } from './msgpack-writer.js';

/** Writes one field's value of the given kind (the fast codec's switch over kinds). */
export type FieldWriter = (w: MsgpackWriter, kind: Kind, value: unknown) => void;
/** Reads one field of the given kind; undefined for an absent optional one. */
export type FieldReader = (r: MsgpackReader, kind: Kind) => unknown;
/** Thrown to leave the fast path. */
export type Bail = () => never;

export type MessageWriter = (w: MsgpackWriter, m: Message) => void;
/** Reads the fields of a message whose array holds `n` of them after `[opcode, id]`. */
export type MessageReader = (r: MsgpackReader, id: number, n: number) => Message;

/*
 * Each message type's writer and reader are generated from its layout, as source text compiled with
 * `new Function` (as msgpackr does for its records): a loop over the layout that reads `m[name]`
 * makes every property access megamorphic, which cost 10-20% of a round trip (protocol bench, GET and
 * OK replies); a function per type reads and builds its objects with fixed property names, which V8
 * keeps monomorphic. The layout stays the only place a message's shape is written.
 */

const NAME = /^[A-Za-z][A-Za-z0-9]*$/;
const checked = (f: Field): string => {
  if (!NAME.test(f.name)) throw new Error(`layout field name ${JSON.stringify(f.name)}`);
  return f.name;
};

/** The writer of `layout`'s messages. */
export function compileWriter(layout: Layout, writeField: FieldWriter): MessageWriter {
  const lines: string[] = [];
  if (layout.type === 'OK') {
    // At most 15 fields: always a fixmap, whose one-byte header is patched with the count.
    lines.push('w.arrayHeader(3);', `w.uint(${layout.op});`, 'w.number(m.id);');
    // An offset from the output's start, not a position: the output may move as it grows.
    lines.push('const at = w.length;', 'w.byte(0x80);', 'let n = 0;');
    for (const f of OK_FIELDS) {
      const name = checked(f);
      lines.push(
        `if (m.${name} !== undefined) { w.string(${JSON.stringify(name)}); writeField(w, ${f.kind}, m.${name}); n++; }`,
      );
    }
    lines.push('w.setByteAt(at, 0x80 | n);');
  } else {
    const { fields, required } = layout;
    // Trailing flags that are not set are left off the end.
    lines.push(`let n = ${required};`);
    for (let i = fields.length - 1; i >= required; i--)
      lines.push(
        `if (n === ${required} && m.${checked(fields[i] as Field)} === true) n = ${i + 1};`,
      );
    lines.push('w.arrayHeader(n + 2);', `w.uint(${layout.op});`, 'w.number(m.id);');
    fields.forEach((f, i) => {
      const write = `writeField(w, ${f.kind}, m.${checked(f)});`;
      lines.push(i < required ? write : `if (n > ${i}) ${write}`);
    });
  }
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from our own layout table (see above)
  const make = new Function(
    'writeField',
    `return function write${layout.type}(w, m) {\n${lines.join('\n')}\n};`,
  ) as (writeField: FieldWriter) => MessageWriter;
  return make(writeField);
}

/** The reader of `layout`'s messages. */
export function compileReader(layout: Layout, readField: FieldReader, bail: Bail): MessageReader {
  const lines: string[] = [];
  const type = JSON.stringify(layout.type);
  if (layout.type === 'OK') {
    lines.push(`const m = { type: ${type}, id };`, 'const count = r.mapLength();');
    lines.push('for (let i = 0; i < count; i++) {', 'switch (r.string()) {');
    for (const f of OK_FIELDS) {
      const name = checked(f);
      // A repeated field is the general decoder's to judge.
      lines.push(
        `case ${JSON.stringify(name)}: if (m.${name} !== undefined) bail(); m.${name} = readField(r, ${f.kind}); break;`,
      );
    }
    // Unknown fields too.
    lines.push('default: bail();', '}', '}', 'return m;');
  } else {
    const { fields, required } = layout;
    const fixed = fields
      .slice(0, required)
      .filter((f) => f.kind !== Kind.OPT_STRING && f.kind !== Kind.OPT_VERSION);
    if (fixed.length === required) {
      // Every field is always there: one object literal, properties read in order.
      const props = fields.slice(0, required).map((f) => `${checked(f)}: readField(r, ${f.kind})`);
      lines.push(`const m = { type: ${type}, id${props.map((p) => `, ${p}`).join('')} };`);
    } else {
      lines.push(`const m = { type: ${type}, id };`, 'let v;');
      for (const f of fields.slice(0, required))
        lines.push(`v = readField(r, ${f.kind}); if (v !== undefined) m.${checked(f)} = v;`);
    }
    fields.slice(required).forEach((f, j) => {
      lines.push(
        `if (n > ${required + j}) { const v = readField(r, ${f.kind}); if (v !== undefined) m.${checked(f)} = v; }`,
      );
    });
    lines.push('return m;');
  }
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from our own layout table (see above)
  const make = new Function(
    'readField',
    'bail',
    `return function read${layout.type}(r, id, n) {\n${lines.join('\n')}\n};`,
  ) as (readField: FieldReader, bail: Bail) => MessageReader;
  return make(readField, bail);
}
