import {
  formatDisplay,
  formatJson,
  formatPath,
  parsePath,
  parseRecord,
  type KvRecord,
  type Path,
  type Style,
  type Value,
} from '@triekv/record';
import type { Broker } from './broker.js';
import { parseExpression, type Expr } from './compute.js';
import { DEFAULT_SCAN_LIMIT } from './defaults.js';
import { CommandLine } from './command-line.js';
import { CommandError } from './errors.js';
import { versionText, type RebalanceProgress, type RebalanceSummary } from './rebalance.js';
import type { ServerAddress } from './server-file.js';

/** A parsed command line. */
export type Command =
  /** `nested`: GET was given a path inside a record, which it does not look into (NOT FOUND). */
  | { name: 'GET'; key: string; nested?: Path }
  | { name: 'QUERY'; path: Path }
  | { name: 'DELETE'; key: string }
  | { name: 'PUT'; record: KvRecord }
  | { name: 'SCAN'; prefix: string; limit: number }
  | { name: 'COMPUTE'; expr: Expr; bindings: { name: string; path: Path }[] }
  | { name: 'STATUS' }
  | { name: 'REPAIR' }
  | { name: 'ADD SERVER'; address: ServerAddress; force: boolean }
  | { name: 'REMOVE SERVER'; server: string; force: boolean }
  | { name: 'REBALANCE' }
  | { name: 'HELP' }
  | { name: 'EXIT' };

/** What a command produced: the lines for stdout, the JSON object, warnings, and whether it failed. */
export interface CommandResult {
  command: string;
  ok: boolean;
  lines: string[];
  json: Record<string, unknown>;
  warnings: string[];
  exit?: boolean;
}

export const COMMANDS = [
  'GET',
  'QUERY',
  'PUT',
  'DELETE',
  'SCAN',
  'COMPUTE',
  'STATUS',
  'REPAIR',
  'ADD',
  'REMOVE',
  'REBALANCE',
  'HELP',
  'EXIT',
  'QUIT',
];

export const HELP = [
  'GET key                     the whole record of a top-level key',
  'QUERY key.sub.sub           the value at a path (quote a key with a dot or space: a."b.c"; list items: a.items[0])',
  'PUT record                  store a record: PUT "k" : { "a" : 1 ; "l" : [ 1 ; true ; null ] }',
  'DELETE key                  remove a record everywhere (refused while a server that may hold it is down)',
  'SCAN [prefix [limit]]       top-level keys starting with prefix (all without one), sorted; at most limit (default 1000)',
  'COMPUTE expr WHERE x = QUERY path [AND y = QUERY path]...',
  '                            arithmetic over queried numbers: + - * / ^, parentheses,',
  '                            sin cos tan (degrees; kv-broker --angles radians), log (base 10);',
  '                            ints stay exact under + - * ^, strings holding numbers count',
  'STATUS                      each server: up or down, latency, keys; the membership',
  'REPAIR                      copy to every live server the records it should hold',
  'ADD SERVER host port [name] [FORCE]',
  '                            grow the cluster: the new server gets its share of keys (handoff)',
  'REMOVE SERVER name|host:port [FORCE]',
  "                            shrink it: the server's keys move first, then it can be stopped",
  'REBALANCE                   finish a change whose broker stopped; else hand stand-in copies back',
  '                            (FORCE: change although servers are down)',
  'HELP, EXIT (or QUIT, Ctrl-D)',
];

/** Parses one command line (keywords are case-insensitive). */
export function parseCommand(line: string): Command {
  const cl = new CommandLine(line);
  const first = cl.word();
  if (first.text.length === 0) throw new CommandError('empty command (try HELP)');
  const keyword = first.text.toUpperCase();
  switch (keyword) {
    case 'GET':
    case 'DELETE': {
      const { path, at } = cl.path('a key');
      cl.end(`${keyword} takes one key: expected the end of the command`);
      if (path.length === 1) return { name: keyword, key: path[0] as string };
      // GET of anything but a top-level key finds nothing (as the assignment says); DELETE refuses.
      if (keyword === 'GET') return { name: 'GET', key: path[0] as string, nested: path };
      return cl.fail('DELETE takes a top-level key, not a path inside a record', at);
    }
    case 'QUERY': {
      const { path } = cl.path('a path (key.sub.sub)');
      cl.end('QUERY takes one path: expected the end of the command');
      return { name: 'QUERY', path };
    }
    case 'PUT': {
      cl.skipSpace();
      const at = cl.pos;
      if (cl.atEnd) cl.fail('PUT needs a record: PUT "key" : { ... }');
      // The line is in memory already: no line limit (the frame limit bounds what can be sent).
      const options = { maxLineLength: Number.MAX_SAFE_INTEGER };
      return { name: 'PUT', record: cl.within(() => parseRecord(line.slice(at), options), at) };
    }
    case 'SCAN':
      return parseScan(cl);
    case 'COMPUTE':
      return parseCompute(cl);
    case 'STATUS':
    case 'REPAIR':
    case 'REBALANCE':
    case 'HELP':
      cl.end(`${keyword} takes no arguments`);
      return { name: keyword };
    case 'ADD':
    case 'REMOVE':
      return parseMembership(cl, keyword);
    case 'EXIT':
    case 'QUIT':
      return { name: 'EXIT' };
    default:
      throw new CommandError(`unknown command ${JSON.stringify(first.text)} (try HELP)`);
  }
}

/** `ADD SERVER host port [name] [FORCE]`, `REMOVE SERVER name|host:port [FORCE]`. */
function parseMembership(cl: CommandLine, keyword: 'ADD' | 'REMOVE'): Command {
  const usage =
    keyword === 'ADD'
      ? 'ADD SERVER host port [name] [FORCE]'
      : 'REMOVE SERVER name|host:port [FORCE]';
  const server = cl.word();
  if (server.text.toUpperCase() !== 'SERVER')
    cl.fail(`expected SERVER after ${keyword} (${usage})`, server.at);
  const words: { text: string; at: number }[] = [];
  for (let w = cl.word(); w.text.length > 0; w = cl.word()) words.push(w);
  const force = words.length > 0 && words[words.length - 1]?.text.toUpperCase() === 'FORCE';
  if (force) words.pop();
  if (keyword === 'REMOVE') {
    const [which, extra] = words;
    if (which === undefined) cl.fail(`REMOVE SERVER needs a member: ${usage}`);
    if (extra !== undefined)
      cl.fail(`expected FORCE or the end of the command (${usage})`, extra.at);
    return { name: 'REMOVE SERVER', server: which.text, force };
  }
  const [host, port, name, extra] = words;
  if (host === undefined || port === undefined)
    cl.fail(`ADD SERVER needs a host and a port: ${usage}`);
  const number = Number(port.text);
  if (!/^\d+$/.test(port.text) || number < 1 || number > 65535)
    cl.fail(
      `the port must be a whole number from 1 to 65535, found ${JSON.stringify(port.text)}`,
      port.at,
    );
  if (extra !== undefined) cl.fail(`expected FORCE or the end of the command (${usage})`, extra.at);
  return {
    name: 'ADD SERVER',
    address: { host: host.text, port: number, ...(name === undefined ? {} : { name: name.text }) },
    force,
  };
}

/** `SCAN [prefix [limit]]`. */
function parseScan(cl: CommandLine): Command {
  const prefixWord = cl.word();
  let prefix = '';
  if (prefixWord.text.length > 0) {
    const path = cl.within(() => parsePath(prefixWord.text), prefixWord.at);
    if (path.length !== 1)
      cl.fail('SCAN takes a prefix of top-level keys, not a path', prefixWord.at);
    prefix = path[0] as string;
  }
  const limitWord = cl.word();
  let limit = DEFAULT_SCAN_LIMIT;
  if (limitWord.text.length > 0) {
    limit = Number(limitWord.text);
    if (!/^\d+$/.test(limitWord.text) || !Number.isSafeInteger(limit) || limit < 1)
      cl.fail(
        `SCAN's limit must be a whole number >= 1, found ${JSON.stringify(limitWord.text)}`,
        limitWord.at,
      );
  }
  cl.end('SCAN takes a prefix and a limit: expected the end of the command');
  return { name: 'SCAN', prefix, limit };
}

/** `COMPUTE expr [WHERE x = QUERY path [AND y = QUERY path]...]`. */
function parseCompute(cl: CommandLine): Command {
  cl.skipSpace();
  const start = cl.pos;
  const where = /(?:^|\s)WHERE(?=\s|$)/i.exec(cl.text.slice(start));
  const end = where === null ? cl.text.length : start + where.index;
  if (cl.text.slice(start, end).trim().length === 0) cl.fail('COMPUTE needs an expression');
  const expr = cl.within(() => parseExpression(cl.text.slice(start, end)), start);
  const bindings: { name: string; path: Path }[] = [];
  if (where === null) return { name: 'COMPUTE', expr, bindings };
  cl.pos = end + where[0].length;
  for (;;) {
    cl.skipSpace();
    const at = cl.pos;
    const binding = /^([A-Za-z_]\w*)\s*=\s*/.exec(cl.text.slice(at));
    if (binding === null)
      cl.fail(`expected "name = QUERY path" after WHERE or AND, found ${cl.found()}`);
    const name = binding[1] as string;
    if (bindings.some((b) => b.name === name)) cl.fail(`variable ${name} is bound twice`, at);
    cl.pos = at + binding[0].length;
    const query = cl.word();
    if (query.text.toUpperCase() !== 'QUERY')
      cl.fail(`expected QUERY after "${name} =", found ${JSON.stringify(query.text)}`, query.at);
    const word = cl.word();
    const comma = word.text.endsWith(',') && !cl.atEnd;
    if (comma) cl.fail("expected AND between bindings, found ','", word.at + word.text.length - 1);
    cl.pos = word.at;
    bindings.push({ name, path: cl.path(`a path for ${name}`).path });
    if (cl.atEnd) break;
    const and = cl.word();
    if (and.text.toUpperCase() !== 'AND')
      cl.fail(`expected AND or the end of the command, found ${JSON.stringify(and.text)}`, and.at);
  }
  return { name: 'COMPUTE', expr, bindings };
}

/** Runs a parsed command against the broker. Failures become `ok: false` results, never exceptions. */
/** Options of `execute` and `run`. */
export interface ExecuteOptions {
  /** How GET and QUERY print values (`colon`, canonical; or `arrow`). @default 'colon' */
  style?: Style;
  /** Called as ADD SERVER, REMOVE SERVER and REBALANCE move data (a progress bar). */
  onProgress?: (progress: RebalanceProgress) => void;
  /**
   * Whether the results' `json` is wanted (a JSON line per command): `false` leaves GET's and QUERY's
   * exact-JSON `value` out of it, which only the JSON lines print. @default true
   */
  json?: boolean;
}

/** JSON text placed as it is in a JSON line (a value `JSON.stringify` would not write exactly). */
export class JsonText {
  constructor(readonly text: string) {}
}

export async function execute(
  broker: Broker,
  command: Command,
  options?: ExecuteOptions,
): Promise<CommandResult> {
  const base = { command: command.name };
  try {
    switch (command.name) {
      case 'GET':
      case 'QUERY': {
        if (command.name === 'GET' && command.nested !== undefined) {
          const hint = `GET takes a top-level key; for a path inside a record use QUERY ${formatPath(command.nested)}`;
          const text = 'NOT FOUND';
          return {
            ...base,
            ok: true,
            lines: [text],
            json: { found: false, text },
            warnings: [hint],
          };
        }
        const path = command.name === 'GET' ? [command.key] : command.path;
        const r =
          command.name === 'GET' ? await broker.get(command.key) : await broker.query(command.path);
        const found = r.found && r.value !== undefined;
        const text = found ? formatDisplay(path, r.value as Value, options) : 'NOT FOUND';
        return {
          ...base,
          ok: true,
          lines: [text],
          json: found
            ? {
                found: true,
                text,
                // The exact JSON only for whoever prints JSON lines (it costs as much as the text).
                ...(options?.json === false
                  ? {}
                  : { value: new JsonText(formatJson(r.value as Value)) }),
              }
            : { found: false, text },
          warnings: r.warnings,
        };
      }
      case 'PUT': {
        const r = await broker.put(command.record.key, command.record.value);
        return {
          ...base,
          ok: true,
          lines: ['OK'],
          json: { replicas: r.replicas },
          warnings: r.warnings,
        };
      }
      case 'DELETE': {
        const r = await broker.delete(command.key);
        return {
          ...base,
          ok: true,
          lines: [r.found === true ? 'OK' : 'NOT FOUND'],
          json: { found: r.found === true },
          warnings: r.warnings,
        };
      }
      case 'SCAN': {
        const r = await broker.scan(command.prefix, command.limit);
        const text = r.keys.length === 0 ? '(none)' : r.keys.map((k) => formatPath([k])).join(' ');
        return { ...base, ok: true, lines: [text], json: { keys: r.keys }, warnings: r.warnings };
      }
      case 'COMPUTE':
        return await compute(broker, command, base);
      case 'STATUS': {
        const servers = await broker.status();
        const lines = servers.map(
          (s) =>
            `${s.server} ${s.up ? 'up' : 'down'}${s.latencyMs === undefined ? '' : ` ${s.latencyMs.toFixed(2)} ms`}${s.keys === undefined ? '' : ` ${s.keys} keys`}`,
        );
        const m = broker.membership();
        const p = m.progress;
        lines.push(
          `membership ${m.version === undefined ? 'from the server file (never changed)' : `version ${versionText(m.version)}`}: ${m.members.length} members${m.change === undefined ? '' : `, last change ${m.change}`}`,
        );
        if (m.rebalancing)
          lines.push(
            `rebalancing${m.previous === undefined ? '' : ` from ${m.previous.length} members`}${
              p === undefined
                ? ' (run by another broker)'
                : `: ${p.phase}, ${p.scanned} of ~${p.total} entries read, ${p.copied} copied, ${p.removed} removed`
            }`,
          );
        return {
          ...base,
          ok: true,
          lines,
          json: {
            servers,
            membership: {
              ...(m.version === undefined ? {} : { version: versionText(m.version) }),
              members: m.members,
              ...(m.previous === undefined ? {} : { previous: m.previous }),
              ...(m.change === undefined ? {} : { change: m.change }),
            },
            rebalancing: m.rebalancing,
            ...(p === undefined ? {} : { progress: p }),
          },
          warnings: broker.downWarnings(),
        };
      }
      case 'ADD SERVER':
      case 'REMOVE SERVER':
      case 'REBALANCE': {
        const moveOptions = {
          ...(command.name === 'REBALANCE' ? {} : { force: command.force }),
          ...(options?.onProgress === undefined ? {} : { onProgress: options.onProgress }),
        };
        const r =
          command.name === 'ADD SERVER'
            ? await broker.addServer(command.address, moveOptions)
            : command.name === 'REMOVE SERVER'
              ? await broker.removeServer(command.server, moveOptions)
              : await broker.rebalance(moveOptions);
        return { ...base, ok: true, ...moveResult(r), warnings: r.warnings };
      }
      case 'REPAIR': {
        const r = await broker.repair();
        const lines = [
          `repaired: ${r.copied} copies over ${r.keys} keys${r.removed === 0 ? '' : `, ${r.removed} stand-in copies removed`}`,
          ...r.servers.map((s) => `${s.server} ${s.copied} copied`),
          ...r.skipped.map((s) => `${s.server} skipped: ${s.reason}`),
        ];
        return {
          ...base,
          ok: true,
          lines,
          json: {
            keys: r.keys,
            copied: r.copied,
            removed: r.removed,
            servers: r.servers,
            skipped: r.skipped,
          },
          warnings: r.warnings,
        };
      }
      case 'HELP':
        return { ...base, ok: true, lines: HELP, json: { help: HELP }, warnings: [] };
      case 'EXIT':
        return { ...base, ok: true, lines: [], json: {}, warnings: [], exit: true };
    }
  } catch (error) {
    return failure(command.name, error);
  }
}

/** The lines and JSON of a finished membership change. */
function moveResult(r: RebalanceSummary): Pick<CommandResult, 'lines' | 'json'> {
  const version = r.membership.version[0] === 0 ? undefined : versionText(r.membership.version);
  return {
    lines: [
      `OK ${r.change}: ${r.membership.members.length} members (${version === undefined ? 'membership from the server file' : `membership version ${version}`}); ${r.copied} copies made, ${r.removed} removed, ${r.keys} keys looked at in ${r.seconds.toFixed(1)} s`,
    ],
    json: {
      change: r.change,
      membership: { ...(version === undefined ? {} : { version }), members: r.membership.members },
      keys: r.keys,
      copied: r.copied,
      removed: r.removed,
      seconds: r.seconds,
    },
  };
}

async function compute(
  broker: Broker,
  command: Extract<Command, { name: 'COMPUTE' }>,
  base: { command: string },
): Promise<CommandResult> {
  const bindings = new Map(command.bindings.map((b) => [b.name, b.path]));
  const { value, warnings } = await broker.compute(command.expr, bindings);
  // An exact int beyond 2^53 goes into the JSON line as its digits.
  const json = typeof value === 'bigint' ? new JsonText(String(value)) : value;
  return { ...base, ok: true, lines: [String(value)], json: { value: json }, warnings };
}

/** A failed command's result, with the error's code and message. */
export function failure(command: string, error: unknown): CommandResult {
  const e = error as Error & { code?: string };
  const code = typeof e.code === 'string' ? e.code : 'ERROR';
  const message = error instanceof Error ? error.message : String(error);
  return {
    command,
    ok: false,
    lines: [`ERROR: ${message}`],
    json: { error: { code, message } },
    warnings: [],
  };
}

/** Parses and runs one line; a parse error is a failed result too. */
export async function run(
  broker: Broker,
  line: string,
  options?: ExecuteOptions,
): Promise<CommandResult> {
  let command: Command;
  try {
    command = parseCommand(line);
  } catch (error) {
    const keyword = (/^\s*(\S+)/.exec(line)?.[1] ?? '').toUpperCase();
    return failure(COMMANDS.includes(keyword) ? keyword : 'UNKNOWN', error);
  }
  return execute(broker, command, options);
}

/** The JSON line for a result: `ok`, `command`, the command's fields, warnings if any. */
export function toJsonLine(result: CommandResult): string {
  return stringify({
    ok: result.ok,
    command: result.command,
    ...result.json,
    ...(result.warnings.length > 0 ? { warnings: result.warnings } : {}),
  });
}

/** `JSON.stringify` for a result object, with `JsonText` placed as it is. */
function stringify(value: unknown): string {
  if (value instanceof JsonText) return value.text;
  if (Array.isArray(value)) return `[${value.map(stringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined) parts.push(`${JSON.stringify(k)}:${stringify(v)}`);
    }
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value);
}
