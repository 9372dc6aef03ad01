import fc from 'fast-check';
import { Float, type Doc, type Value } from '@triekv/record';
import type { Membership, Message, Version } from '@triekv/protocol';

const keyArb = fc.string({ unit: 'binary', maxLength: 6 });
export const { value: valueArb, doc: docArb } = fc.letrec<{ value: Value; doc: Doc }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer(),
    fc
      .bigInt({ min: -(2n ** 100n), max: 2n ** 100n })
      .filter((n) => n < -(2n ** 53n) || n > 2n ** 53n),
    fc
      .double({ noNaN: true, noDefaultInfinity: true })
      .map((d) => (Number.isInteger(d) ? new Float(d) : d)),
    fc.string({ unit: 'binary', maxLength: 10 }),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 8 }),
    fc.array(tie('value'), { maxLength: 3 }),
    tie('doc'),
  ),
  doc: fc
    .uniqueArray(fc.tuple(keyArb, tie('value')), { selector: ([k]) => k, maxLength: 4 })
    .map((entries) => new Map(entries)),
}));

export const versionArb: fc.Arbitrary<Version> = fc.tuple(
  fc.nat({ max: 2 ** 48 }),
  fc.nat({ max: 1000 }),
  fc.string({ maxLength: 8 }),
);
const id = fc.nat({ max: 2 ** 32 - 1 });
const str = fc.string({ unit: 'binary', maxLength: 12 });
const memberArb = fc.record({ name: str, host: str, port: fc.integer({ min: 1, max: 65535 }) });
const membersArb = fc.array(memberArb, { minLength: 1, maxLength: 4 });
const membershipArb: fc.Arbitrary<Membership> = fc.record(
  { version: versionArb, members: membersArb, previous: membersArb, change: str },
  { requiredKeys: ['version', 'members'] },
);

export const messageArb: fc.Arbitrary<Message> = fc.oneof(
  fc.record(
    { type: fc.constant('HELLO' as const), id, protocol: fc.nat(5), token: str, client: str },
    { requiredKeys: ['type', 'id', 'protocol'] },
  ),
  fc.record({ type: fc.constant('PING' as const), id }),
  fc.record({
    type: fc.constant('PUT' as const),
    id,
    key: str,
    value: valueArb,
    version: versionArb,
  }),
  fc.record({
    type: fc.constant('PUT_BATCH' as const),
    id,
    records: fc.array(fc.record({ key: str, value: valueArb, version: versionArb }), {
      maxLength: 4,
    }),
  }),
  fc.record(
    { type: fc.constant('GET' as const), id, key: str, versionOnly: fc.constant(true) },
    { requiredKeys: ['type', 'id', 'key'] },
  ),
  fc.record(
    {
      type: fc.constant('QUERY' as const),
      id,
      key: str,
      path: fc.array(fc.oneof(str, fc.nat()), { maxLength: 3 }),
      versionOnly: fc.constant(true),
    },
    { requiredKeys: ['type', 'id', 'key', 'path'] },
  ),
  fc.record({ type: fc.constant('DELETE' as const), id, key: str, version: versionArb }),
  fc.record(
    { type: fc.constant('SCAN' as const), id, prefix: str, limit: fc.nat(), after: str },
    { requiredKeys: ['type', 'id', 'prefix', 'limit'] },
  ),
  fc.record({ type: fc.constant('STATS' as const), id }),
  fc.record(
    { type: fc.constant('MEMBERS' as const), id, known: versionArb },
    { requiredKeys: ['type', 'id'] },
  ),
  fc.record({ type: fc.constant('MEMBERS_SET' as const), id, members: membershipArb }),
  fc.record({ type: fc.constant('EVICT' as const), id, key: str, version: versionArb }),
  fc.record(
    { type: fc.constant('EXPORT' as const), id, limit: fc.nat(), after: str },
    { requiredKeys: ['type', 'id', 'limit'] },
  ),
  fc.record(
    {
      type: fc.constant('OK' as const),
      id,
      value: valueArb,
      version: versionArb,
      applied: fc.boolean(),
      appliedCount: fc.nat(),
      ignoredCount: fc.nat(),
      keys: fc.array(str, { maxLength: 3 }),
      cursor: str,
      members: membershipArb,
      entries: fc.array(
        fc.oneof(
          fc.record({ key: str, value: valueArb, version: versionArb }),
          fc.record({
            key: str,
            value: fc.constant(null),
            version: versionArb,
            deleted: fc.constant(true as const),
          }),
        ),
        { maxLength: 3 },
      ),
    },
    { requiredKeys: ['type', 'id'] },
  ),
  fc.record(
    { type: fc.constant('NOT_FOUND' as const), id, version: versionArb },
    { requiredKeys: ['type', 'id'] },
  ),
  fc.record({ type: fc.constant('ERROR' as const), id, code: str, message: str }),
);
