import { formatPath, type KvRecord, type Path, type Value } from '@triekv/record';

/** The first path (from the record's key) to a value that `accept` takes, depth first. */
function findPath(
  key: string,
  value: Value,
  accept: (v: Value, depth: number) => boolean,
): Path | undefined {
  const walk = (v: Value, path: Path): Path | undefined => {
    const children: [string | number, Value][] =
      v instanceof Map ? [...v] : Array.isArray(v) ? v.map((item, i) => [i, item]) : [];
    for (const [step, child] of children) {
      const here = [...path, step];
      if (accept(child, here.length - 1)) return here;
      const deeper = walk(child, here);
      if (deeper !== undefined) return deeper;
    }
    return undefined;
  };
  return walk(value, [key]);
}

/**
 * Commands worth trying on these records, each one that finds something: a GET, a QUERY two levels
 * down (or one), a SCAN, and a COMPUTE over a number. For the demo's banner, so that every example it
 * shows answers on the data it loaded.
 */
export function exampleCommands(records: readonly KvRecord[]): string[] {
  const first = records[0];
  if (first === undefined) return ['STATUS', 'HELP'];
  const commands = [`GET ${formatPath([first.key])}`];
  let query: Path | undefined;
  for (const depth of [2, 1]) {
    for (const r of records) {
      query = findPath(
        r.key,
        r.value,
        (v, d) => d >= depth && !(v instanceof Map) && !Array.isArray(v),
      );
      if (query !== undefined) break;
    }
    if (query !== undefined) break;
  }
  if (query !== undefined) commands.push(`QUERY ${formatPath(query)}`);
  commands.push(`SCAN ${formatPath([first.key.slice(0, Math.max(1, first.key.length - 1))])} 5`);
  for (const r of records) {
    const number = findPath(r.key, r.value, (v) => typeof v === 'number');
    if (number !== undefined) {
      commands.push(`COMPUTE 2*(x+3) WHERE x = QUERY ${formatPath(number)}`);
      break;
    }
  }
  return [...commands, 'STATUS', 'HELP'];
}
