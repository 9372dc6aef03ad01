import { ParseError, PathError, parsePath, type Path } from '@triekv/record';
import { CommandError, ComputeError } from './errors.js';

/** Quotes that may open a key: straight double and single, typographic double and single. */
const CLOSING: Record<string, string> = {
  '"': '"',
  "'": "'",
  '\u201c': '\u201d',
  '\u2018': '\u2019',
};

const isSpace = (c: string | undefined): boolean => c !== undefined && /\s/.test(c);

/**
 * A command line being read left to right. Every error it raises names a column counted from the start
 * of the whole line (1-based, in code points), whatever part of the line is being read.
 */
export class CommandLine {
  pos = 0;

  constructor(readonly text: string) {}

  /** The 1-based column of a UTF-16 index, in code points. */
  column(at = this.pos): number {
    let column = 1;
    for (let i = 0; i < at; i++) {
      const c = this.text.charCodeAt(i);
      if (c < 0xd800 || c > 0xdbff || i + 1 >= at) column++;
    }
    return column;
  }

  fail(detail: string, at = this.pos): never {
    throw new CommandError(`col ${this.column(at)}: ${detail}`);
  }

  skipSpace(): void {
    while (isSpace(this.text[this.pos])) this.pos++;
  }

  get atEnd(): boolean {
    this.skipSpace();
    return this.pos >= this.text.length;
  }

  /** What the rest of the line starts with, for messages. */
  found(): string {
    if (this.atEnd) return 'the end of the command';
    const word = /^\S{1,20}/.exec(this.text.slice(this.pos))?.[0] ?? '';
    return JSON.stringify(word);
  }

  /**
   * The next word: up to whitespace, quoted stretches (which may hold spaces) included as written.
   * Empty at the end of the line.
   */
  word(): { text: string; at: number } {
    this.skipSpace();
    const at = this.pos;
    const text = this.text;
    while (this.pos < text.length && !isSpace(text[this.pos])) {
      const close = CLOSING[text[this.pos] as string];
      if (close === undefined) {
        this.pos++;
        continue;
      }
      // Inside quotes, up to the closing quote (a backslash escapes the next character).
      this.pos++;
      while (this.pos < text.length && text[this.pos] !== close) {
        if (text[this.pos] === '\\') this.pos++;
        this.pos++;
      }
      if (this.pos >= text.length) this.fail('unterminated quoted key', at);
      this.pos++;
    }
    return { text: text.slice(at, this.pos), at };
  }

  /** The next word as a path (`key.sub."a b"`); `what` names it when it is missing. */
  path(what: string): { path: Path; at: number } {
    const { text, at } = this.word();
    if (text.length === 0) this.fail(`expected ${what}, found the end of the command`);
    return { path: this.within(() => parsePath(text), at), at };
  }

  /** Fails unless nothing but whitespace is left. */
  end(what: string): void {
    if (!this.atEnd) this.fail(`${what}, found ${this.found()}`);
  }

  /**
   * Runs `parse` on a part of the line that starts at `at`; its errors' columns are moved to count from
   * the start of the line.
   */
  within<T>(parse: () => T, at: number): T {
    const offset = this.column(at) - 1;
    try {
      return parse();
    } catch (error) {
      if (error instanceof ParseError)
        throw new CommandError(`col ${error.column + offset}: ${error.detail}`);
      if (error instanceof PathError)
        throw new CommandError(
          `col ${error.column + offset}: ${error.message.replace(/^col \d+: /, '')}`,
        );
      if (error instanceof ComputeError && error.column !== undefined)
        throw new ComputeError(error.message.replace(/^col \d+: /, ''), error.column + offset);
      throw error;
    }
  }
}
