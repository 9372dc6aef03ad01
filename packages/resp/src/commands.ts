import { R, type RespValue } from './writer.js';

/** One argument of a command, as `COMMAND DOCS` describes it (and `redis-cli` shows as hints). */
export interface ArgumentDoc {
  name: string;
  /** `key`, `string`, `integer`, `double`, `pattern`, `pure-token`, `oneof` or `block`. */
  type: string;
  /** The literal word of a `pure-token` (or of an argument that follows one: `MATCH pattern`). */
  token?: string;
  optional?: boolean;
  multiple?: boolean;
  /** The choices of a `oneof`, the parts of a `block`. */
  arguments?: ArgumentDoc[];
}

/** One command: what `COMMAND INFO` and `COMMAND DOCS` say of it, and what the server checks first. */
export interface CommandSpec {
  /** Lower case, as Redis reports names (`get`, `json.set`, `client|list` for a subcommand). */
  name: string;
  /** Redis's convention: N exactly N arguments (the name included), -N at least N. */
  arity: number;
  flags: string[];
  firstKey: number;
  lastKey: number;
  step: number;
  group: string;
  summary: string;
  since: string;
  arguments: ArgumentDoc[];
  subcommands?: CommandSpec[];
}

/**
 * Argument docs from a compact form: `key:key value:string [NX|XX] [GET] [MATCH pattern:pattern]
 * [COUNT count:integer] field:string...`: `name:type` is an argument, `WORD` a pure token, `a|b` one of
 * tokens, `[...]` optional, `...` after an argument multiple; a token followed by an argument inside
 * brackets gives that argument its token.
 */
export function parseArgs(spec: string): ArgumentDoc[] {
  const out: ArgumentDoc[] = [];
  const re = /\[([^\]]+)\]|(\S+)/g;
  for (const m of spec.matchAll(re)) {
    const optional = m[1] !== undefined;
    const text = (m[1] ?? m[2]) as string;
    const words = text.trim().split(/\s+/);
    if (words.length === 2 && /^[A-Z]+$/.test(words[0] as string)) {
      out.push({ ...argument(words[1] as string), token: words[0], optional });
      continue;
    }
    for (const word of words) {
      const arg = argument(word);
      out.push(optional ? { ...arg, optional: true } : arg);
    }
  }
  return out;
}

function argument(word: string): ArgumentDoc {
  const multiple = word.endsWith('...');
  const text = multiple ? word.slice(0, -3) : word;
  const base: ArgumentDoc = text.includes('|')
    ? {
        name: text.toLowerCase().replace(/\|/g, '-'),
        type: 'oneof',
        arguments: text
          .split('|')
          .map((t) => ({ name: t.toLowerCase(), type: 'pure-token', token: t })),
      }
    : text.includes(':')
      ? { name: text.split(':')[0] as string, type: text.split(':')[1] as string }
      : { name: text.toLowerCase(), type: 'pure-token', token: text };
  return multiple ? { ...base, multiple: true } : base;
}

/** A spec from its parts (`keys` = [first, last, step]). */
export function command(
  name: string,
  arity: number,
  flags: string[],
  keys: [number, number, number],
  group: string,
  summary: string,
  since: string,
  args = '',
  subcommands?: CommandSpec[],
): CommandSpec {
  return {
    name,
    arity,
    flags,
    firstKey: keys[0],
    lastKey: keys[1],
    step: keys[2],
    group,
    summary,
    since,
    arguments: parseArgs(args),
    ...(subcommands === undefined ? {} : { subcommands }),
  };
}

/** A table of commands by name, with the replies `COMMAND` gives about them. */
export class CommandTable {
  private readonly byName = new Map<string, CommandSpec>();

  constructor(specs: readonly CommandSpec[]) {
    for (const spec of specs) this.byName.set(spec.name, spec);
  }

  get size(): number {
    return this.byName.size;
  }

  /** The spec of a command (its name in any case), or undefined. */
  get(name: string): CommandSpec | undefined {
    return this.byName.get(name) ?? this.byName.get(name.toLowerCase());
  }

  all(): CommandSpec[] {
    return [...this.byName.values()];
  }

  /**
   * Why `args` (the name first) does not fit the command's arity, as Redis says it, or undefined:
   * `ERR wrong number of arguments for 'get' command`.
   */
  arityError(spec: CommandSpec, count: number): string | undefined {
    const ok = spec.arity >= 0 ? count === spec.arity : count >= -spec.arity;
    return ok ? undefined : `ERR wrong number of arguments for '${spec.name}' command`;
  }

  /** `COMMAND INFO` of one command (Redis 7's ten fields). */
  info(spec: CommandSpec): RespValue {
    return R.array([
      R.bulk(spec.name),
      R.integer(spec.arity),
      R.set(spec.flags.map((f) => R.simple(f))),
      R.integer(spec.firstKey),
      R.integer(spec.lastKey),
      R.integer(spec.step),
      R.set([R.simple(`@${spec.group}`)]),
      R.set([]),
      R.array([]),
      R.array((spec.subcommands ?? []).map((s) => this.info(s))),
    ]);
  }

  /** `COMMAND DOCS` of one command: a map of its name to its summary, group and arguments. */
  docs(spec: CommandSpec): [RespValue, RespValue] {
    const fields: [string, RespValue][] = [
      ['summary', R.bulk(spec.summary)],
      ['since', R.bulk(spec.since)],
      ['group', R.bulk(spec.group)],
    ];
    if (spec.arguments.length > 0) fields.push(['arguments', R.array(spec.arguments.map(argDoc))]);
    if (spec.subcommands !== undefined)
      fields.push(['subcommands', R.map(spec.subcommands.map((s) => this.docs(s)))]);
    return [R.bulk(spec.name), R.fields(fields)];
  }
}

function argDoc(arg: ArgumentDoc): RespValue {
  const fields: [string, RespValue][] = [
    ['name', R.bulk(arg.name)],
    ['type', R.bulk(arg.type)],
  ];
  if (arg.token !== undefined) fields.push(['token', R.bulk(arg.token)]);
  const flags = [
    ...(arg.optional === true ? ['optional'] : []),
    ...(arg.multiple === true ? ['multiple'] : []),
  ];
  if (flags.length > 0) fields.push(['flags', R.array(flags.map((f) => R.simple(f)))]);
  if (arg.arguments !== undefined) fields.push(['arguments', R.array(arg.arguments.map(argDoc))]);
  return R.fields(fields);
}
