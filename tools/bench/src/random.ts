export { seededRandom } from '@triekv/test-utils';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A random [A-Za-z0-9] string with a length in [min, max], built flat in one go: growing it with `+=`
 * would leave a chain of V8 cons-strings and inflate the memory of whatever stores it.
 */
export function randomWord(random: () => number, min: number, max: number): string {
  const length = min + Math.floor(random() * (max - min + 1));
  const codes = new Array<number>(length);
  for (let i = 0; i < length; i++) {
    codes[i] = ALPHANUMERIC.charCodeAt(Math.floor(random() * ALPHANUMERIC.length));
  }
  return String.fromCharCode(...codes);
}

/** A new, flat string object with the same text, as a key arriving off the network would be. */
export function freshCopy(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

/** Fisher-Yates shuffle into a new array. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
