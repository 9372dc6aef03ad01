import pc from 'picocolors';
import { toJsonLine, type CommandResult } from '@triekv/broker';

/** Where results go: stdout gets exactly the result lines; warnings and notes go to stderr. */
export interface Output {
  json: boolean;
  /** Colour the shell's output (a terminal, and NO_COLOR not set). */
  color: boolean;
}

/** Writes one command's result. */
export function writeResult(result: CommandResult, out: Output): void {
  if (out.json) {
    process.stdout.write(`${toJsonLine(result)}\n`);
    return;
  }
  for (const warning of result.warnings) note(`WARNING: ${warning}`, out, 'warn');
  for (const line of result.lines) {
    if (!out.color) process.stdout.write(`${line}\n`);
    else if (!result.ok) process.stdout.write(`${pc.red(line)}\n`);
    else if (line === 'NOT FOUND' || line === '(none)') process.stdout.write(`${pc.dim(line)}\n`);
    else process.stdout.write(`${line}\n`);
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
