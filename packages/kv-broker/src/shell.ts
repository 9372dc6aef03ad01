import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { clearLine, createInterface, cursorTo, type AsyncCompleter } from 'node:readline';
import pc from 'picocolors';
import { COMMANDS, run, type Broker, type ExecuteOptions } from '@triekv/broker';
import { writeResult, type Notices, type Output } from './output.js';

const HISTORY_SIZE = 1000;

function historyFile(): string {
  return process.env.TRIEKV_HISTORY ?? join(homedir(), '.triekv_history');
}

function loadHistory(): string[] {
  try {
    return readFileSync(historyFile(), 'utf8')
      .split('\n')
      .filter(Boolean)
      .reverse()
      .slice(0, HISTORY_SIZE);
  } catch {
    return [];
  }
}

function saveHistory(history: string[]): void {
  try {
    writeFileSync(historyFile(), `${[...history].reverse().join('\n')}\n`);
  } catch {
    // No writable home: history just is not kept.
  }
}

/**
 * The interactive shell: line editing and history (kept in ~/.triekv_history), tab completion of command
 * names and of keys (through SCAN), coloured output. Resolves with whether any command failed.
 */
export async function shell(
  broker: Broker,
  out: Output,
  notices: Notices,
  options?: ExecuteOptions,
  /** Called after each command (ends a progress bar it drew). */
  after?: () => void,
): Promise<boolean> {
  const keyCommands = new Set(['GET', 'QUERY', 'DELETE', 'SCAN']);
  const completer: AsyncCompleter = (line, callback) => {
    const match = /^(\s*)(\S*)(\s+)?(\S*)$/.exec(line);
    if (match === null) return callback(null, [[], line]);
    const [, , word, space, arg] = match as unknown as [
      string,
      string,
      string,
      string | undefined,
      string,
    ];
    if (space === undefined) {
      const hits = COMMANDS.filter((c) => c.startsWith(word.toUpperCase()));
      return callback(null, [hits.map((h) => `${h} `), word]);
    }
    if (!keyCommands.has(word.toUpperCase()) || arg.includes('.') || arg.startsWith('"'))
      return callback(null, [[], arg]);
    broker.scan(arg, 50).then(
      (r) => callback(null, [r.keys, arg]),
      () => callback(null, [[], arg]),
    );
  };
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    completer,
    history: loadHistory(),
    historySize: HISTORY_SIZE,
    removeHistoryDuplicates: true,
    prompt: out.color ? pc.cyan('triekv> ') : 'triekv> ',
  });
  let failed = false;
  let exited = false;
  // Whether a command is running: its output and the prompt come after it, not around notices.
  let busy = false;
  notices.attach({
    above: (print) => {
      if (busy) return print();
      clearLine(process.stdout, 0);
      cursorTo(process.stdout, 0);
      print();
      rl.prompt(true);
    },
  });
  rl.on('SIGINT', () => {
    // Like a shell: Ctrl-C abandons the line being typed (end of line, then kill to its start).
    rl.write(null, { ctrl: true, name: 'e' });
    rl.write(null, { ctrl: true, name: 'u' });
    process.stdout.write('^C\n');
    rl.prompt();
  });
  rl.prompt();
  for await (const line of rl) {
    if (line.trim().length === 0) {
      rl.prompt();
      continue;
    }
    busy = true;
    const result = await run(broker, line, options);
    after?.();
    busy = false;
    if (result.exit === true) {
      exited = true;
      break;
    }
    if (!result.ok) failed = true;
    writeResult(result, out);
    rl.prompt();
  }
  if (!exited) process.stdout.write('\n'); // Ctrl-D: end the prompt's line
  notices.attach(undefined);
  saveHistory((rl as unknown as { history: string[] }).history);
  rl.close();
  return failed;
}
