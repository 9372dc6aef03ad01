import type { Version } from '@triekv/protocol';
import { formatValue, type Doc, type Value } from '@triekv/record';

export type OpKind = 'put' | 'delete' | 'get' | 'query' | 'scan';

/** PUT and DELETE: the operations that write. */
export function isWriteKind(kind: OpKind): boolean {
  return kind === 'put' || kind === 'delete';
}

/**
 * One client operation as the client saw it. Times are ms since the run began, from one clock (every
 * broker runs in the torture process).
 */
export interface Op {
  id: number;
  /** The client that ran it: `b<broker>c<client>`. */
  client: string;
  kind: OpKind;
  key: string;
  /** QUERY: the path inside the record (after the key). SCAN: `key` is the prefix. */
  path?: string[];
  /** SCAN: the keys returned. */
  keys?: string[];
  /** The servers that answered (reads) or acknowledged (writes). */
  servers?: string[];
  /** PUT: the document written. */
  value?: Doc;
  invokeAt: number;
  completeAt: number;
  /**
   * `ok`: the broker answered. `fail`: it refused before sending anything (nothing can have changed).
   * `unknown`: it sent the write but no replica acknowledged; a replica may still have applied it.
   */
  outcome: 'ok' | 'fail' | 'unknown';
  /** Writes: the version written (also when `unknown`). Reads: the version of the answer, if any. */
  version?: Version;
  /** Writes: it reached every replica it was meant for (no "written to n of k" warning). */
  full?: boolean;
  /** Reads and deletes: whether a value (a live record) was found. */
  found?: boolean;
  /** Reads: the value returned. */
  result?: Value;
  warnings: string[];
  error?: string;
}

/** Something the nemesis did, at a time on the history's clock. */
export interface NemesisEvent {
  at: number;
  what: string;
}

/** A stretch during which k or more servers were impaired (killed, paused, cut off, or not repaired). */
export interface UnsafeWindow {
  start: number;
  end: number;
}

/** Everything a run recorded; what the checker reads. */
export interface History {
  k: number;
  ops: Op[];
  events: NemesisEvent[];
  unsafe: UnsafeWindow[];
}

/** The warning a broker adds to every answer while k or more servers are down. */
export function isDownWarning(warning: string): boolean {
  return /servers are down \(k=\d+\)/.test(warning);
}

export function versionText(v: Version | undefined): string {
  return v === undefined ? '-' : `${v[0]}.${v[1]}.${v[2]}`;
}

/** One line of a history printout. */
export function formatOp(op: Op): string {
  const at = `${op.invokeAt.toFixed(1).padStart(9)}–${op.completeAt.toFixed(1).padEnd(9)}`;
  const target = op.kind === 'query' ? [op.key, ...(op.path ?? [])].join('.') : op.key;
  let request = `${op.kind.toUpperCase()} ${target}`;
  if (op.kind === 'put' && op.value !== undefined) request += ` ${formatValue(op.value)}`;
  let answer: string = op.outcome;
  if (op.error !== undefined) answer += ` (${op.error})`;
  if (op.version !== undefined) answer += ` v=${versionText(op.version)}`;
  if (op.kind === 'scan' && op.outcome === 'ok') {
    answer += ` ${op.keys?.length ?? 0} keys`;
  } else if (op.kind === 'get' || op.kind === 'query') {
    if (op.outcome === 'ok')
      answer +=
        op.found === true && op.result !== undefined ? ` ${formatValue(op.result)}` : ' NOT FOUND';
  } else if (op.full === false) {
    answer += ' under-replicated';
  }
  if (op.servers !== undefined && op.servers.length > 0) answer += ` from ${op.servers.join(' ')}`;
  if (op.warnings.length > 0) answer += ` [${op.warnings.join('; ')}]`;
  return `${at} ${op.client.padEnd(5)} ${request} -> ${answer}`;
}
