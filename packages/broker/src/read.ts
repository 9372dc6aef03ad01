import { compareVersions, type Reply, type Version } from '@triekv/protocol';
import { formatPath, type Path } from '@triekv/record';
import type { ClusterView } from './cluster.js';
import type { ReadResult } from './types.js';
import { UnavailableError } from './errors.js';
import type { CallOptions, ServerConnection } from './server-connection.js';

interface Answer {
  server: ServerConnection;
  reply: Reply;
  /** Asked for the version only (a digest read): an OK reply then carries no value. */
  digest: boolean;
}

/**
 * Newer-first order of read answers: a value or a miss at a version beats anything older; no version is
 * oldest. Of equal versions, a full answer beats a digest (its value needs no fetching).
 */
function newest(answers: Answer[]): Answer | undefined {
  let best: Answer | undefined;
  for (const a of answers) {
    if (a.reply.type === 'ERROR') continue;
    if (best === undefined) {
      best = a;
      continue;
    }
    const av = versionOf(a.reply);
    const bv = versionOf(best.reply);
    if (bv === undefined) {
      if (av !== undefined || (best.digest && !a.digest)) best = a;
      continue;
    }
    if (av === undefined) continue;
    const order = compareVersions(av, bv);
    if (order > 0 || (order === 0 && best.digest && !a.digest)) best = a;
  }
  return best;
}

/** An answer that still lacks its value: an OK to a digest read. */
function valueMissing(a: Answer): boolean {
  return a.digest && a.reply.type === 'OK';
}

function versionOf(reply: Reply): Version | undefined {
  return reply.type === 'ERROR' ? undefined : reply.version;
}

/** Whether the answer is at exactly `version`. */
function atVersion(a: Answer, version: Version): boolean {
  const v = versionOf(a.reply);
  return v !== undefined && compareVersions(v, version) === 0;
}

/**
 * `broker.get` and `broker.query`: reads from the key's replicas (under `hash` its first k live
 * servers, under `random` every live one) and answers with the newest version. Digest reads: the first
 * server is asked for the value, the others for their versions only, so one value crosses the network
 * instead of k; the value is fetched from another replica only when that one turns out to be newer.
 */
export async function read(
  cluster: ClusterView,
  key: string,
  path: Path,
  options?: CallOptions,
): Promise<ReadResult> {
  cluster.checkOpen(options);
  // Under hash, the key's first k live servers (writeTargets picks them without sorting them all).
  // While data moves after a membership change, the key's replicas under the previous members are
  // asked too: one of them may hold a newer version than the new replicas have been given yet.
  let first =
    cluster.placement === 'hash'
      ? cluster.writeTargets(key)
      : cluster.connections.filter((c) => c.up);
  if (cluster.moving) {
    const extra = cluster.moveTargets(key, first);
    if (extra.length > 0) first = first.concat(extra);
  }
  if (first.length === 0)
    throw new UnavailableError(
      `no server is up to read ${JSON.stringify(formatPath([key, ...path]))} from`,
    );
  let answers = await ask(first, key, path, options, 1);
  if (cluster.placement === 'hash') {
    // A replica that did not answer (a timeout, a dropped connection) is made up for by the next live
    // servers of the key's order, until k have answered: a write made by a broker that saw some of
    // the key's servers down went further along the order, and this finds it there.
    // (The order is computed only when a replica failed: not on every read.)
    let order: ServerConnection[] | undefined;
    const asked = new Set(first);
    for (;;) {
      const missing = cluster.k - answers.length;
      if (missing <= 0) break;
      order ??= cluster.order(key);
      const next = order.filter((c) => c.up && !asked.has(c)).slice(0, missing);
      if (next.length === 0) break;
      for (const c of next) asked.add(c);
      // If no full answer came yet, the first of these is asked for the value.
      const full = answers.some((x) => !x.digest) ? 0 : 1;
      answers = answers.concat(await ask(next, key, path, options, full));
    }
  }
  let best = newest(answers);
  if (
    cluster.placement === 'hash' &&
    (best === undefined || (best.reply.type === 'NOT_FOUND' && best.reply.version === undefined))
  ) {
    // Nothing found where the key should be: after churn it may have been written further along its
    // order, so ask the remaining live servers before saying NOT FOUND.
    const asked = new Set(answers.map((x) => x.server));
    const rest = cluster.order(key).filter((c) => c.up && !first.includes(c) && !asked.has(c));
    if (rest.length > 0) {
      answers = answers.concat(await ask(rest, key, path, options, rest.length));
      best = newest(answers);
    }
  }
  if (best !== undefined && valueMissing(best)) {
    answers = await fetchNewest(answers, best, key, path, options);
    best = newest(answers);
  }
  if (best === undefined)
    throw new UnavailableError(
      `no replica answered: ${answers.map((a) => a.server.name).join(', ')}`,
    );
  const version = versionOf(best.reply);
  let skewed: string | undefined;
  if (version !== undefined) {
    if (!cluster.clock.observe(version))
      skewed = `${JSON.stringify(key)} carries a version ${cluster.clock.ahead(version)} ms ahead of this broker's clock (more than ${cluster.clock.maxDriftMs} ms): written by a client whose clock is far ahead; writes to it are ignored until then`;
    readRepair(key, path, answers, version);
  }
  const servers = answers.filter((a) => a.reply.type !== 'ERROR').map((a) => a.server.name);
  const warnings = cluster.downWarnings();
  if (skewed !== undefined) warnings.push(skewed);
  if (best.reply.type === 'OK' && best.reply.value !== undefined) {
    return {
      found: true,
      value: best.reply.value,
      ...(version === undefined ? {} : { version }),
      servers,
      warnings,
    };
  }
  return { found: false, ...(version === undefined ? {} : { version }), servers, warnings };
}

/**
 * The newest version was reported by a digest: reads the value from a replica that has that version
 * (the one that reported it first), replacing its digest among the answers. Fails when none of them
 * answers any more.
 */
async function fetchNewest(
  answers: Answer[],
  best: Answer,
  key: string,
  path: Path,
  options?: CallOptions,
): Promise<Answer[]> {
  const version = versionOf(best.reply) as Version;
  const holders = answers.filter((a) => valueMissing(a) && atVersion(a, version));
  for (const holder of holders) {
    const [fetched] = await ask([holder.server], key, path, options, 1);
    // Its state may have moved on since (a newer write, or a delete): any answer at least as new
    // as the digest's is the answer.
    const v = fetched === undefined ? undefined : versionOf(fetched.reply);
    if (fetched !== undefined && v !== undefined && compareVersions(v, version) >= 0)
      return answers.map((a) => (a === holder ? fetched : a));
  }
  throw new UnavailableError(
    `the newest version of ${JSON.stringify(formatPath([key, ...path]))} is on ${holders
      .map((h) => h.server.name)
      .join(', ')}, which did not answer for its value`,
  );
}

/** Asks `servers` for the key (or the value at `path`): the first `full` for the value, the rest for the version only. */
async function ask(
  servers: ServerConnection[],
  key: string,
  path: Path,
  options: CallOptions | undefined,
  full: number,
): Promise<Answer[]> {
  const results = await Promise.allSettled(
    servers.map((c, i) => {
      const versionOnly = i >= full;
      const request =
        path.length === 0
          ? ({ type: 'GET', key, ...(versionOnly ? { versionOnly } : {}) } as const)
          : ({ type: 'QUERY', key, path, ...(versionOnly ? { versionOnly } : {}) } as const);
      return c.request(request, options);
    }),
  );
  options?.signal?.throwIfAborted();
  const answers: Answer[] = [];
  results.forEach((r, i) => {
    if (r.status === 'fulfilled')
      answers.push({ server: servers[i] as ServerConnection, reply: r.value, digest: i >= full });
  });
  return answers;
}

/** Writes the newest state back to replicas that answered with an older one (in the background). */
function readRepair(key: string, path: Path, answers: Answer[], version: Version): void {
  const stale = answers.filter((a) => {
    const v = versionOf(a.reply);
    return v === undefined || compareVersions(v, version) < 0;
  });
  if (stale.length === 0) return;
  void (async () => {
    // The newest whole record (a QUERY only saw part of it), then copy it to each stale replica.
    const holders = answers.filter((a) => atVersion(a, version));
    const holder = holders.find((a) => !a.digest) ?? holders[0];
    if (holder === undefined) return;
    let reply: Reply = holder.reply;
    if (path.length > 0 || valueMissing(holder))
      reply = await holder.server.request({ type: 'GET', key });
    for (const s of stale) {
      if (reply.type === 'OK' && reply.value instanceof Map && reply.version !== undefined) {
        await s.server.request({ type: 'PUT', key, value: reply.value, version: reply.version });
      } else if (reply.type === 'NOT_FOUND' && reply.version !== undefined) {
        await s.server.request({ type: 'DELETE', key, version: reply.version });
      }
    }
  })().catch(() => undefined);
}
