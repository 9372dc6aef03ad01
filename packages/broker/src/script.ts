import type { Broker } from './broker.js';
import {
  COMMANDS,
  execute,
  failure,
  parseCommand,
  type Command,
  type CommandResult,
  type ExecuteOptions,
} from './commands.js';
import { DEFAULT_SCRIPT_WINDOW } from './defaults.js';
import { KeyOrder } from './key-order.js';

/** Options of `runScript`. */
export interface ScriptOptions extends ExecuteOptions {
  /** Most commands in flight at once (started, not yet handed to `onResult`). @default 64 */
  window?: number;
}

/**
 * The top-level keys a command reads or writes, or `undefined` for a command that depends on every
 * key (SCAN, STATUS, REPAIR): it waits for everything before it, and everything after waits for it.
 */
function keysOf(command: Command): string[] | undefined {
  switch (command.name) {
    case 'GET':
    case 'DELETE':
      return [command.key];
    case 'QUERY':
      return [String(command.path[0])];
    case 'PUT':
      return [command.record.key];
    case 'COMPUTE':
      return [...new Set(command.bindings.map((b) => String(b.path[0])))];
    case 'HELP':
    case 'EXIT':
      return [];
    default:
      return undefined;
  }
}

/**
 * Runs command lines (kv-broker's language; blank lines and `#` comments skipped) with up to
 * `window` in flight, handing each result to `onResult` strictly in input order. A command waits for
 * the earlier commands on any of its keys (a GET after a PUT of the same key sees it; a DELETE then a
 * GET reads the delete), and SCAN, STATUS and REPAIR wait for everything before them. An EXIT line
 * ends the script (it is not handed on). Resolves with whether any command failed.
 */
export async function runScript(
  broker: Broker,
  lines: AsyncIterable<string>,
  /** Called in input order; a promise it returns (a slow output) holds the script up until it settles. */
  onResult: (result: CommandResult) => void | Promise<void>,
  options: ScriptOptions = {},
): Promise<{ failed: boolean; commands: number }> {
  const window = options.window ?? DEFAULT_SCRIPT_WINDOW;
  if (!Number.isSafeInteger(window) || window < 1)
    throw new TypeError(`options.window must be a whole number >= 1, got ${window}`);
  let failed = false;
  let commands = 0;
  const order = new KeyOrder();
  /** Results are handed on in order: each hand-off waits for the one before it. */
  let handedOn: Promise<void> = Promise.resolve();
  const outstanding: Promise<void>[] = [];

  /** Starts one command after what it depends on; undefined for EXIT. */
  const start = (line: string): Promise<CommandResult> | undefined => {
    let command: Command;
    try {
      command = parseCommand(line);
    } catch (error) {
      const keyword = (/^\s*(\S+)/.exec(line)?.[1] ?? '').toUpperCase();
      return Promise.resolve(failure(COMMANDS.includes(keyword) ? keyword : 'UNKNOWN', error));
    }
    if (command.name === 'EXIT') return undefined;
    const keys = keysOf(command);
    const running = order.before(keys).then(() => execute(broker, command, options));
    // What later commands wait on: that this one is over, not its result (which is not kept).
    order.add(
      keys,
      running.then(
        () => undefined,
        () => undefined,
      ),
    );
    return running;
  };

  for await (const line of lines) {
    if (line.trim().length === 0 || line.trimStart().startsWith('#')) continue;
    const mine = start(line);
    if (mine === undefined) break;
    commands++;
    handedOn = handedOn.then(async () => {
      const r = await mine;
      if (!r.ok) failed = true;
      await onResult(r);
    });
    outstanding.push(handedOn);
    // A full window: read no further until the oldest result has been handed on.
    if (outstanding.length >= window) await outstanding.shift();
  }
  await handedOn;
  return { failed, commands };
}
