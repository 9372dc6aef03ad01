import {
  ErrorCode,
  compareVersions,
  type Member,
  type Membership,
  PROTOCOL_VERSION,
  type PutBatchRequest,
  type Reply,
  type Request,
  type ServerInfo,
  type Stats,
  type Version,
  type WireRecord,
} from '@triekv/protocol';
import type { Value } from '@triekv/record';
import type { Store } from './store.js';

/** What the handler needs besides the request: the store, the limits, and how to describe the server. */
export interface HandlerContext {
  store: Store;
  /**
   * Called with every applied write (the key and the packed record now stored, a tombstone for a
   * delete) before its reply is sent: the data directory's log.
   */
  journal?: (key: string, record: string) => void;
  maxKeyLength: number;
  /** Most keys in one document (at any depth). */
  maxDocKeys: number;
  /** How far ahead of this server's clock a write's version may be, ms. */
  maxClockDriftMs: number;
  maxScan: number;
  /** The request frame limit: SCAN and EXPORT pages are kept well within it. */
  maxFrameSize: number;
  info: ServerInfo;
  stats: () => Stats;
  /** The cluster's membership record as this server keeps it (MEMBERS, MEMBERS_SET). */
  members: MembersKeeper;
}

/** Where a server keeps the cluster's membership record: in memory, and in the data directory. */
export interface MembersKeeper {
  current(): Membership | undefined;
  /** Stores a record newer than the current one (the handler has checked that it is). */
  store(members: Membership): void;
}

/** Why a membership record is malformed (a name or an address twice), or undefined. */
function membersProblem(m: Membership): string | undefined {
  for (const [list, what] of [
    [m.members, 'members'],
    [m.previous ?? [], 'previous'],
  ] as [Member[], string][]) {
    const names = new Set<string>();
    const addresses = new Set<string>();
    for (const member of list) {
      const address = `${member.host}:${member.port}`;
      if (names.has(member.name))
        return `${what}: the name ${JSON.stringify(member.name)} is there twice`;
      if (addresses.has(address)) return `${what}: the address ${address} is there twice`;
      names.add(member.name);
      addresses.add(address);
    }
  }
  return undefined;
}

const error = (id: number, code: string, message: string): Reply => ({
  type: 'ERROR',
  id,
  code,
  message,
});

function tooLong(key: string, max: number): boolean {
  return key.length > max;
}

/** What is over a limit in a value, at any depth: a document key too long, or too many keys in one. */
function valueProblem(value: unknown, maxKey: number, maxKeys: number): string | undefined {
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = valueProblem(item, maxKey, maxKeys);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  if (!(value instanceof Map)) return undefined;
  const doc = value as Map<string, unknown>;
  if (doc.size > maxKeys)
    return `a document has ${doc.size} keys, more than the limit of ${maxKeys} (maxDocKeys)`;
  for (const [key, item] of doc) {
    if (key.length > maxKey) return `a document key is longer than ${maxKey}`;
    if (item instanceof Map || Array.isArray(item)) {
      const problem = valueProblem(item, maxKey, maxKeys);
      if (problem !== undefined) return problem;
    }
  }
  return undefined;
}

/** The batch's refusal when any record is over a limit: a batch is applied entirely or not at all. */
function checkBatch(request: PutBatchRequest, ctx: HandlerContext): Reply | undefined {
  for (const r of request.records) {
    const limit = checkRecord(r.key, r.value, ctx);
    if (limit !== undefined)
      return error(
        request.id,
        ErrorCode.LIMIT,
        `record ${JSON.stringify(r.key.slice(0, 40))}: ${limit}`,
      );
    const future = futureVersion(r.key, r.version, ctx);
    if (future !== undefined) return error(request.id, ErrorCode.BAD_VALUE, future);
  }
  return undefined;
}

/** Stores one record of a batch (and journals it); whether it was applied. */
function applyRecord(r: WireRecord, ctx: HandlerContext): boolean {
  const result = ctx.store.put(r.key, r.value, r.version);
  if (!result.applied) return false;
  ctx.journal?.(r.key, result.record as string);
  return true;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A PUT_BATCH applied `slice` records at a time, with a turn of the event loop in between, so that one
 * large batch does not keep every other connection waiting. Checked whole first, as `handle` does.
 */
export async function handleBatch(
  request: PutBatchRequest,
  ctx: HandlerContext,
  slice: number,
): Promise<Reply> {
  const refused = checkBatch(request, ctx);
  if (refused !== undefined) return refused;
  let appliedCount = 0;
  const records = request.records;
  for (let i = 0; i < records.length; i++) {
    if (i > 0 && i % slice === 0) await nextTurn();
    if (applyRecord(records[i] as WireRecord, ctx)) appliedCount++;
  }
  return {
    type: 'OK',
    id: request.id,
    appliedCount,
    ignoredCount: records.length - appliedCount,
  };
}

/**
 * Answers one request (after authentication) against the store. Pure apart from the store: no I/O, so
 * it is tested without sockets. HELLO's protocol and auth checks happen in the connection.
 */
export function handle(request: Request, ctx: HandlerContext): Reply {
  const { id } = request;
  switch (request.type) {
    case 'HELLO':
      if (request.protocol !== PROTOCOL_VERSION) {
        return error(
          id,
          ErrorCode.PROTOCOL_VERSION,
          `protocol ${request.protocol} not supported (this server speaks ${PROTOCOL_VERSION})`,
        );
      }
      return { type: 'OK', id, server: ctx.info };
    case 'PING':
      return { type: 'OK', id };
    case 'GET':
    case 'QUERY': {
      if (tooLong(request.key, ctx.maxKeyLength))
        return error(id, ErrorCode.LIMIT, `key longer than ${ctx.maxKeyLength}`);
      const path = request.type === 'GET' ? [] : request.path;
      // A version-only (digest) read says whether there is a value, and its version, not the value.
      const digest = request.versionOnly === true;
      const result: { found: boolean; value?: Value; version?: Version } = digest
        ? ctx.store.probe(request.key, path)
        : ctx.store.query(request.key, path);
      if (result.found) {
        const version = result.version as Version;
        return digest
          ? { type: 'OK', id, version }
          : { type: 'OK', id, value: result.value as Value, version };
      }
      return result.version === undefined
        ? { type: 'NOT_FOUND', id }
        : { type: 'NOT_FOUND', id, version: result.version };
    }
    case 'PUT': {
      const limit = checkRecord(request.key, request.value, ctx);
      if (limit !== undefined) return error(id, ErrorCode.LIMIT, limit);
      const future = futureVersion(request.key, request.version, ctx);
      if (future !== undefined) return error(id, ErrorCode.BAD_VALUE, future);
      const result = ctx.store.put(request.key, request.value, request.version);
      if (result.applied) ctx.journal?.(request.key, result.record as string);
      return { type: 'OK', id, applied: result.applied, version: result.version };
    }
    case 'PUT_BATCH': {
      const refused = checkBatch(request, ctx);
      if (refused !== undefined) return refused;
      let appliedCount = 0;
      for (const r of request.records) if (applyRecord(r, ctx)) appliedCount++;
      return { type: 'OK', id, appliedCount, ignoredCount: request.records.length - appliedCount };
    }
    case 'DELETE': {
      if (tooLong(request.key, ctx.maxKeyLength))
        return error(id, ErrorCode.LIMIT, `key longer than ${ctx.maxKeyLength}`);
      const future = futureVersion(request.key, request.version, ctx);
      if (future !== undefined) return error(id, ErrorCode.BAD_VALUE, future);
      const result = ctx.store.delete(request.key, request.version);
      if (result.applied) ctx.journal?.(request.key, result.record as string);
      if (!result.existed && result.applied)
        return { type: 'NOT_FOUND', id, version: request.version };
      return { type: 'OK', id, applied: result.applied, version: result.version };
    }
    case 'SCAN': {
      const page = ctx.store.scan(
        request.prefix,
        Math.min(request.limit, ctx.maxScan),
        request.after,
        ctx.maxFrameSize / 2,
      );
      return {
        type: 'OK',
        id,
        keys: page.keys,
        ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
      };
    }
    case 'EXPORT': {
      const page = ctx.store.export(
        Math.min(request.limit, ctx.maxScan),
        request.after,
        ctx.maxFrameSize / 4,
      );
      return {
        type: 'OK',
        id,
        entries: page.entries,
        ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
      };
    }
    case 'STATS':
      return { type: 'OK', id, stats: ctx.stats() };
    case 'MEMBERS': {
      const current = ctx.members.current();
      if (current === undefined) return { type: 'OK', id };
      const newer =
        request.known === undefined || compareVersions(current.version, request.known) > 0;
      return newer
        ? { type: 'OK', id, version: current.version, members: current }
        : { type: 'OK', id, version: current.version };
    }
    case 'MEMBERS_SET': {
      const offered = request.members;
      const problem = membersProblem(offered);
      if (problem !== undefined) return error(id, ErrorCode.BAD_MESSAGE, `MEMBERS_SET: ${problem}`);
      const future = futureVersion('the membership', offered.version, ctx);
      if (future !== undefined) return error(id, ErrorCode.BAD_VALUE, future);
      const current = ctx.members.current();
      // The newest record wins on every server; an older one is answered with the one kept.
      if (current !== undefined && compareVersions(offered.version, current.version) <= 0)
        return { type: 'OK', id, applied: false, version: current.version, members: current };
      ctx.members.store(offered);
      return { type: 'OK', id, applied: true, version: offered.version };
    }
    case 'EVICT': {
      if (tooLong(request.key, ctx.maxKeyLength))
        return error(id, ErrorCode.LIMIT, `key longer than ${ctx.maxKeyLength}`);
      const result = ctx.store.evict(request.key, request.version);
      if (result.applied) ctx.journal?.(request.key, result.record as string);
      return { type: 'OK', id, applied: result.applied };
    }
  }
}

function checkRecord(key: string, value: Value, ctx: HandlerContext): string | undefined {
  if (tooLong(key, ctx.maxKeyLength)) return `key longer than ${ctx.maxKeyLength}`;
  return valueProblem(value, ctx.maxKeyLength, ctx.maxDocKeys);
}

/**
 * Why a write's version is refused: its wall time is further ahead of this server's clock than
 * `maxClockDriftMs`. Such a version would make the key impossible to overwrite (every honest write is
 * older), and a broker that saw it would move its clock that far ahead.
 */
function futureVersion(key: string, version: Version, ctx: HandlerContext): string | undefined {
  const ahead = version[0] - Date.now();
  if (ahead <= ctx.maxClockDriftMs) return undefined;
  return `the version of ${JSON.stringify(key.slice(0, 40))} is ${ahead} ms ahead of this server's clock (at most ${ctx.maxClockDriftMs} ms, --max-clock-drift)`;
}
