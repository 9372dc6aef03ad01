import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateLines, parseKeyFile, type KeySpec } from '@triekv/datagen';
import { parseRecord, type KvRecord } from '@triekv/record';

/** The repository's key file (test-fixtures/keyFile.txt), which every suite generates data from. */
export const KEY_FILE = join(__dirname, '..', '..', '..', 'test-fixtures', 'keyFile.txt');

/** The key file's keys. */
export function fixtureKeys(): KeySpec[] {
  return parseKeyFile(readFileSync(KEY_FILE, 'utf8'));
}

/** The shape every suite benchmarks: the issue's `-d 3 -m 5 -l 8`. */
export const SHAPE = { maxDepth: 3, maxKeys: 5, maxLength: 8 } as const;

/** `count` generated lines of that shape, reproducible by `seed`. */
export function generatedLines(count: number, seed: string): string[] {
  return [...generateLines({ keys: fixtureKeys(), lines: count, ...SHAPE, seed })];
}

/** The same, parsed. */
export function generatedRecords(count: number, seed: string): KvRecord[] {
  return generatedLines(count, seed).map((line) => parseRecord(line));
}
