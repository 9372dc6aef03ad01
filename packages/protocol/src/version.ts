/**
 * A record version: a hybrid logical clock reading `[wall-clock ms, counter, node id]`. Versions order
 * by wall time, then counter, then node id, so concurrent writers never tie.
 */
export type Version = readonly [wall: number, counter: number, node: string];

/** Negative, zero or positive as `a` is older than, equal to or newer than `b`. */
export function compareVersions(a: Version, b: Version): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0;
}

/** Whether `v` is a well-formed version. */
export function isVersion(v: unknown): v is Version {
  return (
    Array.isArray(v) &&
    v.length === 3 &&
    Number.isSafeInteger(v[0]) &&
    (v[0] as number) >= 0 &&
    Number.isSafeInteger(v[1]) &&
    (v[1] as number) >= 0 &&
    typeof v[2] === 'string'
  );
}

/** The version older than every real one (wall time 0). */
export const ZERO_VERSION: Version = [0, 0, ''];
