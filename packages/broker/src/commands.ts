import {
  ParseError,
  PathError,
  formatDisplay,
  formatPath,
  parsePath,
  parseRecord,
  type KvRecord,
  type Path,
} from '@triekv/record';
import type { Broker } from './broker.js';
import { parseExpression, type Expr } from './compute.js';
import { DEFAULT_SCAN_LIMIT } from './defaults.js';
import { CommandError, ComputeError } from './errors.js';

/** A parsed command line. */
export type Command =
  | { name: 'GET'; key: string }
  | { name: 'QUERY'; path: Path }
  | { name: 'DELETE'; key: string }
  | { name: 'PUT'; record: KvRecord }
  | { name: 'SCAN'; prefix: string; limit: number }
  | { name: 'COMPUTE'; expr: Expr; bindings: { name: string; path: Path }[] }
  | { name: 'STATUS' }
  | { name: 'REPAIR' }
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
  'HELP',
  'EXIT',
  'QUIT',
];

export const HELP = [
  'GET key                     the whole record of a top-level key',
  'QUERY key.sub.sub           the value at a path (quote a key with a dot or space: a."b.c")',
  'PUT record                  store a record: PUT "k" : { "a" : 1 }',
  'DELETE key                  remove a record everywhere (refused while a server that may hold it is down)',
  'SCAN prefix [limit]         top-level keys starting with prefix, sorted',
  'COMPUTE expr WHERE x = QUERY path [AND y = QUERY path]...',
  '                            arithmetic (+ - * / ^, parentheses, sin cos tan log) over queried numbers',
  'STATUS                      each server: up or down, latency, keys',
  'REPAIR                      copy to every live server the records it should hold',
  'HELP, EXIT (or QUIT, Ctrl-D)',
];

/** A single key given with or without quotes (`person1`, `"a b"`). */
function oneKey(text: string, command: string): string {
  const path = parsePath(text);
  if (path.length !== 1)
    throw new CommandError(
      `${command} takes one top-level key; use QUERY for a path inside a record`,
    );
  return path[0] as string;
}

/**
 * Runs `parse` on the command's argument; a parse error's column is moved to count from the start of the
 * whole command line, which is what the user typed.
 */
function within<T>(parse: () => T, offset: number): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ParseError)
      throw new CommandError(`col ${error.column + offset}: ${error.detail}`);
    if (error instanceof PathError)
      throw new CommandError(
        `col ${error.column + offset}: ${error.message.replace(/^col \d+: /, '')}`,
      );
    if (error instanceof ComputeError && error.column !== undefined) {
      throw new ComputeError(error.message.replace(/^col \d+: /, ''), error.column + offset);
    }
    throw error;
  }
}

/** Parses one command line (keywords are case-insensitive). */
export function parseCommand(line: string): Command {
  const match = /^(\s*)(\S+)(\s*)([\s\S]*?)\s*$/.exec(line);
  if (match === null) throw new CommandError('empty command (try HELP)');
  const keyword = (match[2] as string).toUpperCase();
  const rest = match[4] as string;
  const offset =
    (match[1] as string).length + (match[2] as string).length + (match[3] as string).length;
  const needs = (what: string): void => {
    if (rest.length === 0) throw new CommandError(`${keyword} needs ${what}`);
  };
  switch (keyword) {
    case 'GET':
    case 'DELETE':
      needs('a key');
      return { name: keyword, key: within(() => oneKey(rest, keyword), offset) };
    case 'QUERY':
      needs('a path (key.sub.sub)');
      return { name: 'QUERY', path: within(() => parsePath(rest), offset) };
    case 'PUT':
      needs('a record: PUT "key" : { ... }');
      return { name: 'PUT', record: within(() => parseRecord(rest), offset) };
    case 'SCAN': {
      const limitMatch = /^(.*?)(?:\s+(\d+))?$/.exec(rest) as RegExpExecArray;
      const prefixText = (limitMatch[1] as string).trim();
      const limit = limitMatch[2] === undefined ? DEFAULT_SCAN_LIMIT : Number(limitMatch[2]);
      return {
        name: 'SCAN',
        prefix: prefixText.length === 0 ? '' : oneKey(prefixText, 'SCAN'),
        limit,
      };
    }
    case 'COMPUTE':
      return within(() => parseCompute(rest), offset);
    case 'STATUS':
    case 'REPAIR':
    case 'HELP':
      if (rest.length > 0) throw new CommandError(`${keyword} takes no arguments`);
      return { name: keyword };
    case 'EXIT':
    case 'QUIT':
      return { name: 'EXIT' };
    default:
      throw new CommandError(`unknown command ${JSON.stringify(match[2])} (try HELP)`);
  }
}

function parseCompute(rest: string): Command {
  const parts = rest.split(/\s+WHERE\s+/i);
  if (rest.length === 0 || (parts[0] as string).trim().length === 0)
    throw new CommandError('COMPUTE needs an expression');
  if (parts.length > 2)
    throw new CommandError('COMPUTE takes one WHERE clause (join bindings with AND)');
  const expr = parseExpression(parts[0] as string);
  const bindings: { name: string; path: Path }[] = [];
  if (parts.length === 2) {
    for (const clause of (parts[1] as string).split(/\s+AND\s+/i)) {
      const binding = /^([A-Za-z_]\w*)\s*=\s*QUERY\s+(.+)$/i.exec(clause.trim());
      if (binding === null)
        throw new CommandError(
          `expected "name = QUERY path" in WHERE, found ${JSON.stringify(clause.trim())}`,
        );
      const name = binding[1] as string;
      if (bindings.some((b) => b.name === name))
        throw new CommandError(`variable ${name} is bound twice`);
      bindings.push({ name, path: parsePath(binding[2] as string) });
    }
  }
  return { name: 'COMPUTE', expr, bindings };
}

/** Runs a parsed command against the broker. Failures become `ok: false` results, never exceptions. */
export async function execute(broker: Broker, command: Command): Promise<CommandResult> {
  const base = { command: command.name };
  try {
    switch (command.name) {
      case 'GET':
      case 'QUERY': {
        const path = command.name === 'GET' ? [command.key] : command.path;
        const r =
          command.name === 'GET' ? await broker.get(command.key) : await broker.query(command.path);
        const text = r.found && r.value !== undefined ? formatDisplay(path, r.value) : 'NOT FOUND';
        return {
          ...base,
          ok: true,
          lines: [text],
          json: { found: r.found, text },
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
        return { ...base, ok: true, lines, json: { servers }, warnings: broker.downWarnings() };
      }
      case 'REPAIR': {
        const r = await broker.repair();
        const lines = [
          `repaired: ${r.copied} copies over ${r.keys} keys`,
          ...r.servers.map((s) => `${s.server} ${s.copied} copied`),
        ];
        return {
          ...base,
          ok: true,
          lines,
          json: { keys: r.keys, copied: r.copied, servers: r.servers },
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

async function compute(
  broker: Broker,
  command: Extract<Command, { name: 'COMPUTE' }>,
  base: { command: string },
): Promise<CommandResult> {
  const bindings = new Map(command.bindings.map((b) => [b.name, b.path]));
  const { value, warnings } = await broker.compute(command.expr, bindings);
  return { ...base, ok: true, lines: [String(value)], json: { value }, warnings };
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
export async function run(broker: Broker, line: string): Promise<CommandResult> {
  let command: Command;
  try {
    command = parseCommand(line);
  } catch (error) {
    const keyword = (/^\s*(\S+)/.exec(line)?.[1] ?? '').toUpperCase();
    return failure(COMMANDS.includes(keyword) ? keyword : 'UNKNOWN', error);
  }
  return execute(broker, command);
}

/** The JSON line for a result: `ok`, `command`, the command's fields, warnings if any. */
export function toJsonLine(result: CommandResult): string {
  return JSON.stringify({
    ok: result.ok,
    command: result.command,
    ...result.json,
    ...(result.warnings.length > 0 ? { warnings: result.warnings } : {}),
  });
}
