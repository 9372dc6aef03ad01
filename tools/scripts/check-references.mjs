#!/usr/bin/env node
// Checks that every workspace's tsconfig references exactly the @triekv workspaces it depends on, and
// that the root tsconfig references every workspace with a tsconfig, so `tsc -b` builds in the right order.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const workspaces = new Map();
for (const dir of ['packages', 'tools']) {
  for (const name of readdirSync(join(root, dir))) {
    const path = join(root, dir, name);
    if (existsSync(join(path, 'package.json')) && existsSync(join(path, 'tsconfig.json'))) {
      workspaces.set(readJson(join(path, 'package.json')).name, path);
    }
  }
}
const problems = [];
const rootRefs = new Set(
  readJson(join(root, 'tsconfig.json')).references.map((r) => resolve(root, r.path)),
);
for (const [name, path] of workspaces) {
  if (!rootRefs.has(path))
    problems.push(`tsconfig.json: missing reference to ${relative(root, path)}`);
  const manifest = readJson(join(path, 'package.json'));
  const deps = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies })
    .filter((d) => workspaces.has(d))
    .map((d) => workspaces.get(d));
  const refs = (readJson(join(path, 'tsconfig.json')).references ?? []).map((r) =>
    resolve(path, r.path),
  );
  for (const dep of deps) {
    if (!refs.includes(dep))
      problems.push(`${name}: depends on ${relative(root, dep)} but does not reference it`);
  }
  for (const ref of refs) {
    if (!deps.includes(ref))
      problems.push(`${name}: references ${relative(root, ref)} but does not depend on it`);
  }
}
if (problems.length > 0) {
  for (const p of problems) console.error(`check-references: ${p}`);
  process.exit(1);
}
console.log(`check-references: ${workspaces.size} workspaces, references match dependencies`);
