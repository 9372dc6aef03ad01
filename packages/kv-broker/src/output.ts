import pc from 'picocolors';
import { toJsonLine, type CommandResult } from '@triekv/broker';

/** Where results go: stdout gets exactly the result lines; warnings and notes go to stderr. */
export interface Output {
  json: boolean;
  /** Colour the shell's output (a terminal, and NO_COLOR not set). */
  color: boolean;
}

/** Where result text goes: stdout, one write each (the shell), or a `BatchedStdout` (scripts). */
export type Sink = (text: string) => void;

const stdoutSink: Sink = (text) => process.stdout.write(text);

/** Writes one command's result. */
export function writeResult(result: CommandResult, out: Output, write: Sink = stdoutSink): void {
  if (out.json) {
    write(`${toJsonLine(result)}\n`);
    return;
  }
  for (const warning of result.warnings) note(`WARNING: ${warning}`, out, 'warn');
  for (const line of result.lines) {
    if (!out.color) write(`${line}\n`);
    else if (!result.ok) write(`${pc.red(line)}\n`);
    else if (line === 'NOT FOUND' || line === '(none)') write(`${pc.dim(line)}\n`);
    else write(`${line}\n`);
  }
}

/**
 * Result text of many commands gathered into few stdout writes: flushed once the event loop has
 * nothing else to do, or at 64 KiB. `ready()` waits while stdout is slower than the results (a pipe
 * into `less`), so a script never runs ahead of what can be printed.
 */
export class BatchedStdout {
  private text = '';
  private scheduled = false;
  private drained: Promise<void> | undefined;

  readonly write: Sink = (text) => {
    this.text += text;
    if (this.text.length >= 64 * 1024) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  };

  flush(): void {
    this.scheduled = false;
    if (this.text.length === 0) return;
    const text = this.text;
    this.text = '';
    if (!process.stdout.write(text) && this.drained === undefined)
      this.drained = new Promise((resolve) =>
        process.stdout.once('drain', () => {
          this.drained = undefined;
          resolve();
        }),
      );
  }

  /** Resolves at once, or when stdout has taken what it was given. */
  ready(): Promise<void> | undefined {
    return this.drained;
  }
}

/** A line for stderr (progress, summaries, warnings, diagnostics). */
export function note(
  text: string,
  out: Pick<Output, 'color'>,
  kind: 'info' | 'warn' | 'error' = 'info',
): void {
  const colored = !out.color
    ? text
    : kind === 'warn'
      ? pc.yellow(text)
      : kind === 'error'
        ? pc.red(text)
        : pc.dim(text);
  process.stderr.write(`${colored}\n`);
}

/** Where a line that is printed "above the prompt" goes: readline's shell, while one runs. */
export interface Prompt {
  /** Clears the line being typed, runs `print`, then redraws the prompt and what was typed. */
  above(print: () => void): void;
}

/**
 * Background notices (a server went down, came back, was repaired): on stderr, and while the shell
 * runs, above its prompt, which is then redrawn with what was being typed.
 */
export class Notices {
  private prompt: Prompt | undefined;

  constructor(private readonly out: Pick<Output, 'color'>) {}

  /** Prints notices above `prompt` from now on (undefined: plain lines again). */
  attach(prompt: Prompt | undefined): void {
    this.prompt = prompt;
  }

  write(text: string, kind: 'info' | 'warn' | 'error' = 'info'): void {
    if (this.prompt === undefined) note(text, this.out, kind);
    else this.prompt.above(() => note(text, this.out, kind));
  }
}
