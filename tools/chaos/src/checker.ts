import { compareVersions } from '@triekv/protocol';
import { valueAt, valuesEqual, type Value } from '@triekv/record';
import {
  formatOp,
  isDownWarning,
  isWriteKind,
  versionText,
  type History,
  type Op,
} from './history.js';

export type ViolationKind =
  'lost-write' | 'stale-read' | 'resurrected' | 'unknown-version' | 'future-read' | 'wrong-value';

/** A read that the model says could not have happened. */
export interface Violation {
  kind: ViolationKind;
  key: string;
  read: Op;
  /** The acknowledged write the read should have seen (for lost, stale and resurrected). */
  expected?: Op;
  message: string;
}

export interface CheckResult {
  reads: number;
  /** SCANs checked (each key they returned). */
  scans: number;
  /** Reads held to the full rule (newest acknowledged version). */
  strict: number;
  /** Reads that carried the k-or-more-down warning: checked only for values that were never written. */
  warned: number;
  writes: number;
  violations: Violation[];
}

function isWrite(op: Op): boolean {
  return isWriteKind(op.kind);
}

/**
 * Replays a history against a model of the store, key by key. Every read that answered is checked:
 * - it returns something that was written (a version some write carried, with that write's value, or
 *   the value at the path inside it), by a write that began before the read ended;
 * - unless it carries the k-or-more-down warning, its version is at least the newest version
 *   acknowledged before the read began: no acknowledged write lost, no deleted key back, no stale read.
 * A write acknowledged by fewer than k replicas during a window when k or more servers were impaired is
 * excused until that window ends (it was made while k or more were down); every other acknowledged write
 * counts from the moment it was acknowledged.
 */
export function check(history: History): CheckResult {
  const byKey = new Map<string, Op[]>();
  const scans: Op[] = [];
  for (const op of history.ops) {
    if (op.kind === 'scan') {
      if (op.outcome === 'ok') scans.push(op);
      continue;
    }
    let ops = byKey.get(op.key);
    if (ops === undefined) byKey.set(op.key, (ops = []));
    ops.push(op);
  }
  const result: CheckResult = {
    reads: 0,
    scans: scans.length,
    strict: 0,
    warned: 0,
    writes: 0,
    violations: [],
  };
  for (const [key, ops] of byKey) {
    const writes = ops.filter((op) => isWrite(op) && op.version !== undefined);
    result.writes += writes.filter((w) => w.outcome === 'ok').length;
    const byVersion = new Map(writes.map((w) => [versionText(w.version), w]));
    for (const read of ops) {
      if (isWrite(read) || read.outcome !== 'ok') continue;
      result.reads++;
      const bad = checkRead(history, key, read, writes, byVersion);
      if (read.warnings.some(isDownWarning)) result.warned++;
      else result.strict++;
      if (bad !== undefined) result.violations.push(bad);
    }
  }
  for (const scan of scans)
    for (const key of scan.keys ?? []) {
      const bad = checkScanned(history, scan, key, byKey.get(key) ?? []);
      if (bad !== undefined) result.violations.push(bad);
    }
  return result;
}

/**
 * A key a SCAN returned must have been live at some point of the scan: some PUT of it began before the
 * scan ended, and (unless the scan warned that k or more servers were down) no deletion acknowledged
 * before the scan began is newer than every PUT of it begun before the scan ended.
 */
function checkScanned(history: History, scan: Op, key: string, ops: Op[]): Violation | undefined {
  const what = `SCAN ${scan.key} returned ${key}`;
  const puts = ops.filter(
    (op) => op.kind === 'put' && op.version !== undefined && op.invokeAt <= scan.completeAt,
  );
  if (!key.startsWith(scan.key) || puts.length === 0)
    return {
      kind: 'unknown-version',
      key,
      read: scan,
      message: `${what}, which ${key.startsWith(scan.key) ? 'was never written' : 'does not start with the prefix'}`,
    };
  if (scan.warnings.some(isDownWarning)) return undefined;
  let deleted: Op | undefined;
  for (const op of ops)
    if (
      op.kind === 'delete' &&
      op.outcome === 'ok' &&
      op.completeAt < scan.invokeAt &&
      !excused(history, op, scan) &&
      (deleted === undefined || compareVersions(op.version!, deleted.version!) > 0)
    )
      deleted = op;
  if (deleted === undefined) return undefined;
  if (puts.some((p) => compareVersions(p.version!, deleted.version!) > 0)) return undefined;
  return {
    kind: 'resurrected',
    key,
    read: scan,
    expected: deleted,
    message: `${what}, deleted at version ${versionText(deleted.version)} before the scan began and not written since`,
  };
}

function checkRead(
  history: History,
  key: string,
  read: Op,
  writes: Op[],
  byVersion: Map<string, Op>,
): Violation | undefined {
  const what = `${read.kind.toUpperCase()} ${[key, ...(read.path ?? [])].join('.')}`;
  // 1. The answer was written by someone.
  let source: Op | undefined;
  if (read.version !== undefined) {
    source = byVersion.get(versionText(read.version));
    if (source === undefined)
      return {
        kind: 'unknown-version',
        key,
        read,
        message: `${what} returned version ${versionText(read.version)}, which no write of ${key} carried`,
      };
    if (source.invokeAt > read.completeAt)
      return {
        kind: 'future-read',
        key,
        read,
        expected: source,
        message: `${what} returned version ${versionText(read.version)} before the write of it began`,
      };
    const expected = expectedValue(source, read);
    const same =
      expected === undefined
        ? read.found !== true
        : read.found === true && read.result !== undefined && valuesEqual(read.result, expected);
    if (!same)
      return {
        kind: 'wrong-value',
        key,
        read,
        expected: source,
        message: `${what} returned a value that the write of version ${versionText(read.version)} did not write`,
      };
  } else if (read.found === true) {
    return {
      kind: 'unknown-version',
      key,
      read,
      message: `${what} found a value without a version`,
    };
  }
  if (read.warnings.some(isDownWarning)) return undefined;
  // 2. The answer is at least as new as every write acknowledged before the read began.
  let floor: Op | undefined;
  for (const w of writes) {
    if (w.outcome !== 'ok' || w.completeAt >= read.invokeAt || excused(history, w, read)) continue;
    if (floor === undefined || compareVersions(w.version!, floor.version!) > 0) floor = w;
  }
  if (floor === undefined) return undefined;
  if (read.version !== undefined && compareVersions(read.version, floor.version!) >= 0)
    return undefined;
  if (floor.kind === 'delete') {
    if (read.found !== true) return undefined; // absent, as deleted (a tombstone may be gone)
    return {
      kind: 'resurrected',
      key,
      read,
      expected: floor,
      message: `${what} found version ${versionText(read.version)}, but ${key} was deleted at version ${versionText(floor.version)} before the read began`,
    };
  }
  if (read.version === undefined)
    return {
      kind: 'lost-write',
      key,
      read,
      expected: floor,
      message: `${what} found nothing, but version ${versionText(floor.version)} was acknowledged before the read began`,
    };
  return {
    kind: 'stale-read',
    key,
    read,
    expected: floor,
    message: `${what} returned version ${versionText(read.version)}, older than version ${versionText(floor.version)} acknowledged before the read began`,
  };
}

/** What `read` should return if it saw `write`: undefined for a miss. */
function expectedValue(write: Op, read: Op): Value | undefined {
  if (write.kind === 'delete' || write.value === undefined) return undefined;
  if (read.kind === 'get') return write.value;
  return valueAt(write.value, read.path ?? []);
}

/** An under-replicated write made during an unsafe window need not be seen until the window ends. */
function excused(history: History, write: Op, read: Op): boolean {
  if (write.full !== false) return false;
  return history.unsafe.some(
    (u) => write.invokeAt <= u.end && write.completeAt >= u.start && read.invokeAt < u.end,
  );
}

/**
 * The history around a violation: the operations on its key from the start of the write it should have
 * seen (or of the one it returned) to the end of the read, and what the nemesis did meanwhile.
 */
export function explain(history: History, violation: Violation, maxLines = 60): string[] {
  const read = violation.read;
  const returned =
    read.version === undefined
      ? undefined
      : history.ops.find(
          (op) =>
            op.key === violation.key &&
            isWrite(op) &&
            versionText(op.version) === versionText(read.version),
        );
  const from = Math.min(
    read.invokeAt,
    violation.expected?.invokeAt ?? Infinity,
    returned?.invokeAt ?? Infinity,
  );
  const lines: { at: number; text: string }[] = [];
  for (const op of history.ops)
    if (
      (op.key === violation.key || op === read) &&
      op.completeAt >= from &&
      op.invokeAt <= read.completeAt
    )
      lines.push({ at: op.invokeAt, text: `${op === read ? '>>' : '  '} ${formatOp(op)}` });
  for (const e of history.events)
    if (e.at >= from && e.at <= read.completeAt)
      lines.push({ at: e.at, text: `   ${e.at.toFixed(1).padStart(9)}  nemesis: ${e.what}` });
  lines.sort((a, b) => a.at - b.at);
  const text = lines.map((l) => l.text);
  if (text.length <= maxLines) return text;
  return [`   … ${text.length - maxLines} earlier lines left out`, ...text.slice(-maxLines)];
}
