import { createHash, timingSafeEqual } from 'node:crypto';
import type { CommandTable } from './commands.js';
import { R, type RespValue, type RespWriter } from './writer.js';

/** An error reply of its own prefix (`ERR`, `WRONGTYPE`, ...), thrown inside a command. */
export class RespError extends Error {}

export const SYNTAX = 'ERR syntax error';
export const NOT_INTEGER = 'ERR value is not an integer or out of range';

/** An argument in upper case (for options and subcommands). */
export const upper = (b: Buffer | undefined): string =>
  b === undefined ? '' : b.toString('latin1').toUpperCase();

/** Whether two secrets are equal, compared in constant time (digests of both, so any lengths). */
export function sameSecret(a: string, b: string): boolean {
  const digest = (x: string): Buffer => createHash('sha256').update(x).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** One RESP connection's state, as the commands see and change it. */
export interface RespSession {
  readonly id: number;
  readonly remote: string;
  readonly createdAt: number;
  name: string;
  protocol: 2 | 3;
  authenticated: boolean;
  libName: string;
  libVer: string;
  lastCommand: string;
  /** Close the connection once this reply is out (QUIT). */
  quit(): void;
}

/** What the connection commands need of the process serving them (a kv-server, a gateway). */
export interface SessionContext {
  table: CommandTable;
  authToken: string | undefined;
  /** For HELLO: the process's name and version. */
  name: string;
  version: string;
  sessions: () => Iterable<RespSession>;
}

/** A synchronous command handler over a context of type `C`. */
export type SessionHandler<C extends SessionContext> = (
  ctx: C,
  s: RespSession,
  args: Buffer[],
  w: RespWriter,
) => void;

/** Commands a connection may send before it has authenticated. */
export const BEFORE_AUTH = new Set(['auth', 'hello', 'quit', 'reset']);

/** Connection commands: PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET, CLIENT, COMMAND. */

function clientLine(s: RespSession): string {
  const age = Math.floor((Date.now() - s.createdAt) / 1000);
  return `id=${s.id} addr=${s.remote} laddr=? fd=0 name=${s.name} age=${age} idle=0 flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=${s.lastCommand} user=default redir=-1 resp=${s.protocol} lib-name=${s.libName} lib-ver=${s.libVer}`;
}

/** HELLO's reply: a map in RESP3, a flat array in RESP2. */
function helloReply(ctx: SessionContext, s: RespSession): RespValue {
  return R.fields([
    ['server', R.bulk('redis')],
    ['version', R.bulk('7.2.0')],
    ['proto', R.integer(s.protocol)],
    ['id', R.integer(s.id)],
    ['mode', R.bulk('standalone')],
    ['role', R.bulk('master')],
    ['modules', R.array([])],
    ['triekv', R.bulk(`${ctx.name} ${ctx.version}`)],
  ]);
}

function checkPassword(ctx: SessionContext, s: RespSession, user: string, password: string): void {
  if (ctx.authToken === undefined)
    throw new RespError(
      'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
    );
  if (user !== 'default' || !sameSecret(password, ctx.authToken))
    throw new RespError('WRONGPASS invalid username-password pair or user is disabled.');
  s.authenticated = true;
}

function auth(ctx: SessionContext, s: RespSession, args: Buffer[], w: RespWriter): void {
  if (args.length > 3) throw new RespError(SYNTAX);
  const user = args.length === 3 ? (args[1] as Buffer).toString('utf8') : 'default';
  checkPassword(ctx, s, user, (args[args.length - 1] as Buffer).toString('utf8'));
  w.simple('OK');
}

function hello(ctx: SessionContext, s: RespSession, args: Buffer[], w: RespWriter): void {
  let protocol = s.protocol;
  let i = 1;
  if (args.length > 1) {
    const version = (args[1] as Buffer).toString('latin1');
    if (!/^\d+$/.test(version))
      throw new RespError('ERR Protocol version is not an integer or out of range');
    if (version !== '2' && version !== '3')
      throw new RespError('NOPROTO unsupported protocol version');
    protocol = Number(version) as 2 | 3;
    i = 2;
  }
  let name: string | undefined;
  for (; i < args.length; i++) {
    const option = upper(args[i]);
    if (option === 'AUTH' && i + 2 < args.length) {
      checkPassword(
        ctx,
        s,
        (args[i + 1] as Buffer).toString('utf8'),
        (args[i + 2] as Buffer).toString('utf8'),
      );
      i += 2;
    } else if (option === 'SETNAME' && i + 1 < args.length) {
      name = (args[++i] as Buffer).toString('utf8');
    } else
      throw new RespError(
        `ERR Syntax error in HELLO option '${(args[i] as Buffer).toString('utf8')}'`,
      );
  }
  if (!s.authenticated)
    throw new RespError(
      'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
    );
  s.protocol = protocol;
  w.protocol = protocol;
  if (name !== undefined) s.name = name;
  w.reply(helloReply(ctx, s));
}

export const CONNECTION_HANDLERS: Record<string, SessionHandler<SessionContext>> = {
  ping: (_c, _s, args, w) => (args.length > 1 ? w.bulk(args[1] as Buffer) : w.simple('PONG')),
  echo: (_c, _s, args, w) => w.bulk(args[1] as Buffer),
  select: (_c, _s, args, w) => {
    const db = (args[1] as Buffer).toString('latin1');
    if (!/^-?\d+$/.test(db)) throw new RespError(NOT_INTEGER);
    if (db !== '0')
      throw new RespError('ERR DB index is out of range (triekv has database 0 only)');
    w.simple('OK');
  },
  quit: (_c, s, _args, w) => {
    w.simple('OK');
    s.quit();
  },
  reset: (ctx, s, _args, w) => {
    s.protocol = 2;
    w.protocol = 2;
    s.name = '';
    if (ctx.authToken !== undefined) s.authenticated = false;
    w.simple('RESET');
  },
  client: (_c, s, args, w) => {
    const sub = upper(args[1]);
    switch (sub) {
      case 'SETNAME': {
        const name = args[2]?.toString('utf8');
        if (args.length !== 3 || name === undefined)
          throw new RespError("ERR wrong number of arguments for 'client|setname' command");
        if (/[\s]/.test(name))
          throw new RespError(
            'ERR Client names cannot contain spaces, newlines or special characters.',
          );
        s.name = name;
        return w.simple('OK');
      }
      case 'GETNAME':
        return w.bulk(s.name.length > 0 ? s.name : null);
      case 'ID':
        return w.integer(s.id);
      case 'INFO':
        return w.verbatim(`${clientLine(s)}\n`);
      case 'LIST':
        return w.verbatim(`${[..._c.sessions()].map(clientLine).join('\n')}\n`);
      case 'SETINFO': {
        if (args.length !== 4)
          throw new RespError("ERR wrong number of arguments for 'client|setinfo' command");
        const attr = upper(args[2]);
        const value = (args[3] as Buffer).toString('utf8');
        if (attr === 'LIB-NAME') s.libName = value;
        else if (attr === 'LIB-VER') s.libVer = value;
        else
          throw new RespError(`ERR Unrecognized option '${(args[2] as Buffer).toString('utf8')}'`);
        return w.simple('OK');
      }
      default:
        throw new RespError(
          `ERR unknown subcommand '${args[1]?.toString('utf8') ?? ''}'. Try CLIENT HELP.`,
        );
    }
  },
  command: (ctx, _s, args, w) => {
    const sub = upper(args[1]);
    const specs = ctx.table.all();
    const named = (from: number) =>
      args.length > from ? args.slice(from).map((a) => ctx.table.get(a.toString('latin1'))) : specs;
    switch (sub) {
      case '':
        return w.reply(R.array(specs.map((spec) => ctx.table.info(spec))));
      case 'COUNT':
        return w.integer(specs.length);
      case 'LIST':
        return w.reply(R.array(specs.map((spec) => R.bulk(spec.name))));
      case 'INFO':
        return w.reply(
          R.array(named(2).map((spec) => (spec === undefined ? R.null() : ctx.table.info(spec)))),
        );
      case 'DOCS':
        return w.reply(
          R.map(
            named(2)
              .filter((spec) => spec !== undefined)
              .map((spec) => ctx.table.docs(spec)),
          ),
        );
      default:
        throw new RespError(
          `ERR unknown subcommand '${(args[1] as Buffer).toString('utf8')}'. Try COMMAND HELP.`,
        );
    }
  },
  auth,
  hello,
};
