import { OPCODES, type Message, type MessageType } from './messages.js';

/**
 * How one field travels. A message is the array `[opcode, id, ...fields]`; each field's kind says what
 * the writer emits, what the reader accepts and what the checks require. Every codec (the general one
 * over msgpackr and the fast one) is derived from the layouts below, so a message's shape is written
 * once.
 */
export const Kind = {
  /** A whole number >= 0 in the safe range. */
  COUNT: 0,
  STRING: 1,
  /** A string, or nil when absent. */
  OPT_STRING: 2,
  /** A path: an array of strings (keys) and whole numbers (list indexes). */
  PATH: 3,
  /** `[wall ms, counter, node]`. */
  VERSION: 4,
  /** A version, or nil when absent. */
  OPT_VERSION: 5,
  /** An array of strings. */
  STRINGS: 6,
  /** An array of `[key, value, version]`. */
  RECORDS: 7,
  /** An array of `[key, value, version]`, a tombstone `[key, nil, version, true]`. */
  ENTRIES: 8,
  /** `true` when set, left off the end of the message when not (only last fields may be flags). */
  FLAG: 9,
  /** A map of the OK reply's fields by name (`OK_FIELDS`). */
  OK_FIELDS: 10,
  /** Any record value. */
  VALUE: 11,
  BOOLEAN: 12,
  /** A small map of numbers and strings, one level of groups (STATS). */
  STATS: 13,
  /** A small map of numbers and strings (HELLO's server info). */
  SERVER: 14,
  /** A membership record: `[version, members, previous | nil, change | nil]`, a member `[name, host, port]`. */
  MEMBERS: 15,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

/** One field of a message: its name on the typed message and how it travels. */
export interface Field<Name extends string = string> {
  readonly name: Name;
  readonly kind: Kind;
}

/** Where a message type's fields are: what the codecs walk. */
export interface Layout {
  readonly type: MessageType;
  readonly op: number;
  readonly fields: readonly Field[];
  /** Fields before the trailing flags: a message has at least this many after `[opcode, id]`. */
  readonly required: number;
}

type FieldsOf<T extends MessageType> = Exclude<keyof Extract<Message, { type: T }>, 'type' | 'id'> &
  string;

const field = <N extends string>(name: N, kind: Kind): Field<N> => ({ name, kind });

/** The fields of every message type, in the order they travel after `[opcode, id]`. */
const FIELDS: { readonly [T in MessageType]: readonly Field<FieldsOf<T>>[] } = {
  HELLO: [
    field('protocol', Kind.COUNT),
    field('token', Kind.OPT_STRING),
    field('client', Kind.OPT_STRING),
  ],
  PING: [],
  PUT: [field('key', Kind.STRING), field('value', Kind.VALUE), field('version', Kind.VERSION)],
  PUT_BATCH: [field('records', Kind.RECORDS)],
  GET: [field('key', Kind.STRING), field('versionOnly', Kind.FLAG)],
  QUERY: [field('key', Kind.STRING), field('path', Kind.PATH), field('versionOnly', Kind.FLAG)],
  DELETE: [field('key', Kind.STRING), field('version', Kind.VERSION)],
  SCAN: [field('prefix', Kind.STRING), field('limit', Kind.COUNT), field('after', Kind.OPT_STRING)],
  STATS: [],
  EXPORT: [field('after', Kind.OPT_STRING), field('limit', Kind.COUNT)],
  MEMBERS: [field('known', Kind.OPT_VERSION)],
  MEMBERS_SET: [field('members', Kind.MEMBERS)],
  EVICT: [field('key', Kind.STRING), field('version', Kind.VERSION)],
  OK: [],
  NOT_FOUND: [field('version', Kind.OPT_VERSION)],
  ERROR: [field('code', Kind.STRING), field('message', Kind.STRING)],
};

/** The OK reply's result map: its fields by name, in the order they are written. */
export const OK_FIELDS: readonly Field<FieldsOf<'OK'>>[] = [
  field('value', Kind.VALUE),
  field('version', Kind.VERSION),
  field('applied', Kind.BOOLEAN),
  field('appliedCount', Kind.COUNT),
  field('ignoredCount', Kind.COUNT),
  field('keys', Kind.STRINGS),
  field('entries', Kind.ENTRIES),
  field('cursor', Kind.STRING),
  field('stats', Kind.STATS),
  field('server', Kind.SERVER),
  field('members', Kind.MEMBERS),
];

/** The OK reply travels as one field: the map of its result fields. */
const OK_MAP: Field = { name: 'result', kind: Kind.OK_FIELDS };

function layout(type: MessageType): Layout {
  const fields = type === 'OK' ? [OK_MAP] : (FIELDS[type] as readonly Field[]);
  let required = fields.length;
  while (required > 0 && fields[required - 1]?.kind === Kind.FLAG) required--;
  if (fields.slice(0, required).some((f) => f.kind === Kind.FLAG))
    throw new Error(`layout of ${type}: flags may only be last`);
  return { type, op: OPCODES[type], fields, required };
}

/** Every message type's layout. */
export const LAYOUTS: Readonly<Record<MessageType, Layout>> = Object.fromEntries(
  (Object.keys(OPCODES) as MessageType[]).map((type) => [type, layout(type)]),
) as Record<MessageType, Layout>;

/** Layouts by opcode (an array: opcodes are small numbers). */
export const LAYOUTS_BY_OP: readonly (Layout | undefined)[] = (() => {
  const byOp: (Layout | undefined)[] = [];
  for (const l of Object.values(LAYOUTS)) byOp[l.op] = l;
  return byOp;
})();

/**
 * How many fields `message` travels with after `[opcode, id]`: trailing flags that are not set are
 * left off.
 */
export function fieldCount(l: Layout, message: Message): number {
  let n = l.fields.length;
  if (n === l.required) return n;
  const m = message as unknown as Record<string, unknown>;
  while (n > l.required && m[(l.fields[n - 1] as Field).name] !== true) n--;
  return n;
}
