import type { Path, Value } from '@triekv/record';
import type { Version } from './version.js';

/** A record as carried by PUT_BATCH: its key, its value (any value) and its version. */
export interface WireRecord {
  key: string;
  value: Value;
  version: Version;
}

/**
 * One EXPORT entry: a record, or a tombstone (`deleted: true`, `value: null`) with the version of its
 * delete. On the wire `[key, value, version]`, and `[key, nil, version, true]` for a tombstone (a
 * record's value may itself be null).
 */
export interface ExportEntry {
  key: string;
  value: Value;
  version: Version;
  deleted?: true;
}

/** What STATS reports: flat counters, and one level of named groups of counters. */
export type Stats = Record<string, number | string | Record<string, number>>;

/** What a server says about itself in reply to HELLO. */
export interface ServerInfo {
  protocol: number;
  name: string;
  id: string;
}

/** One server of the cluster: the name placement hashes, and where it listens. */
export interface Member {
  name: string;
  host: string;
  port: number;
}

/**
 * The cluster's member list, kept by the servers themselves (MEMBERS / MEMBERS_SET) and versioned with
 * the writing broker's clock: the newest version wins on every server. While data moves after a change,
 * `previous` holds the members before it (reads ask both placements, writes go to both).
 */
export interface Membership {
  version: Version;
  members: Member[];
  previous?: Member[];
  /** What the change was, for STATUS (`ADD 127.0.0.1:7004`, `REMOVE s2`). */
  change?: string;
}

/** Opens a connection: the protocol version spoken, and the auth token when the server wants one. */
export interface HelloRequest {
  type: 'HELLO';
  id: number;
  protocol: number;
  token?: string;
  client?: string;
}
export interface PingRequest {
  type: 'PING';
  id: number;
}
/** Stores a record at a version; ignored (applied: false) when the stored version is newer. */
export interface PutRequest {
  type: 'PUT';
  id: number;
  key: string;
  value: Value;
  version: Version;
}
/** Many PUTs in one message, for bulk loads. */
export interface PutBatchRequest {
  type: 'PUT_BATCH';
  id: number;
  records: WireRecord[];
}
export interface GetRequest {
  type: 'GET';
  id: number;
  key: string;
  /**
   * Only the version: a found record is answered OK with its `version` and no `value` (a digest read,
   * for comparing replicas without moving their values). A server that predates the flag ignores it
   * and sends the value too.
   */
  versionOnly?: boolean;
}
/**
 * The value at `path` inside the record `key` (an empty path is the whole value): strings are keys
 * into documents, numbers indexes into lists.
 */
export interface QueryRequest {
  type: 'QUERY';
  id: number;
  key: string;
  path: Path;
  /** Only the record's version and whether the path is there (see `GetRequest.versionOnly`). */
  versionOnly?: boolean;
}
/** Deletes a record at a version, leaving a tombstone with that version. */
export interface DeleteRequest {
  type: 'DELETE';
  id: number;
  key: string;
  version: Version;
}
/** Live keys starting with `prefix`, sorted, at most `limit`, after the cursor `after`. */
export interface ScanRequest {
  type: 'SCAN';
  id: number;
  prefix: string;
  limit: number;
  after?: string;
}
export interface StatsRequest {
  type: 'STATS';
  id: number;
}
/** Records and tombstones with their versions, sorted by key, for repair: at most `limit`, after `after`. */
export interface ExportRequest {
  type: 'EXPORT';
  id: number;
  limit: number;
  after?: string;
}

/**
 * The server's membership record: answered OK with `members` when it holds one newer than `known`
 * (and with only `version`, its record's version, when it does not).
 */
export interface MembersRequest {
  type: 'MEMBERS';
  id: number;
  known?: Version;
}
/** Stores a membership record if it is newer than the server's: OK `applied`, `version` (the one kept). */
export interface MembersSetRequest {
  type: 'MEMBERS_SET';
  id: number;
  members: Membership;
}
/**
 * Removes the key's record or tombstone from this server, leaving no tombstone, if its version is at
 * most `version` (a newer write stays): handoff's cleanup of copies on servers that are no longer the
 * key's replicas. OK `applied`.
 */
export interface EvictRequest {
  type: 'EVICT';
  id: number;
  key: string;
  version: Version;
}

/** Success. Which fields are present depends on the request (see the README's table). */
export interface OkReply {
  type: 'OK';
  id: number;
  value?: Value;
  version?: Version;
  applied?: boolean;
  appliedCount?: number;
  ignoredCount?: number;
  keys?: string[];
  entries?: ExportEntry[];
  cursor?: string;
  stats?: Stats;
  server?: ServerInfo;
  members?: Membership;
}
/**
 * The key (or path) does not exist; `version` is the tombstone's when the record was deleted, or the
 * record's when a QUERY path is missing from it.
 */
export interface NotFoundReply {
  type: 'NOT_FOUND';
  id: number;
  version?: Version;
}
/** The request failed; `code` is one of `ErrorCode` (or a newer one). */
export interface ErrorReply {
  type: 'ERROR';
  id: number;
  code: string;
  message: string;
}

export type Request =
  | HelloRequest
  | PingRequest
  | PutRequest
  | PutBatchRequest
  | GetRequest
  | QueryRequest
  | DeleteRequest
  | ScanRequest
  | StatsRequest
  | ExportRequest
  | MembersRequest
  | MembersSetRequest
  | EvictRequest;
export type Reply = OkReply | NotFoundReply | ErrorReply;
export type Message = Request | Reply;
export type MessageType = Message['type'];

/** Wire opcodes: the first element of every message array. Never reuse a number. */
export const OPCODES: Readonly<Record<MessageType, number>> = {
  HELLO: 1,
  PING: 2,
  PUT: 3,
  PUT_BATCH: 4,
  GET: 5,
  QUERY: 6,
  DELETE: 7,
  SCAN: 8,
  STATS: 9,
  EXPORT: 10,
  MEMBERS: 11,
  MEMBERS_SET: 12,
  EVICT: 13,
  OK: 64,
  NOT_FOUND: 65,
  ERROR: 66,
};

/** Whether a message is a request (as opposed to a reply). */
export function isRequest(message: Message): message is Request {
  return OPCODES[message.type] < 64;
}
