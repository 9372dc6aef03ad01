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
