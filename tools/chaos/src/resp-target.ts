import { DeleteRefusedError, UnavailableError } from '@triekv/broker';
import type { Version } from '@triekv/protocol';
import { formatJson, parseValue, type Doc, type Path, type Value } from '@triekv/record';
import { Redis } from 'ioredis';
import type { Target } from './workload.js';

function versionOf(text: string): Version {
  const first = text.indexOf(':');
  const second = text.indexOf(':', first + 1);
  return [
    Number(text.slice(0, first)),
    Number(text.slice(first + 1, second)),
    text.slice(second + 1),
  ];
}

/** A gateway's error reply as the error the broker would have thrown. */
function brokerError(error: unknown): Error {
  const message = (error as Error).message;
  const unknown = /^UNAVAILABLE version=(\S+) (.*)$/s.exec(message);
  if (unknown !== null)
    return new UnavailableError(unknown[2] as string, versionOf(unknown[1] as string));
  if (message.startsWith('UNAVAILABLE delete refused')) return new DeleteRefusedError([]);
  if (message.startsWith('UNAVAILABLE ')) return new UnavailableError(message.slice(12));
  return error as Error;
}

type ReadReply = [number, string | null, string | null, string[], string[]];
type WriteReply = [string, number, string[], string[]];

/**
 * The workload's view of a cluster through a gateway: each operation one of triekv's versioned RESP
 * commands (KV.VREAD, KV.VPUT, KV.VDEL, KV.VSCAN) on a Redis connection, its reply turned back into
 * what the library answers, so the same checker judges both.
 */
export class RespTarget implements Target {
  private constructor(
    private readonly redis: Redis,
    readonly k: number,
  ) {}

  static async connect(port: number, k: number): Promise<RespTarget> {
    const redis = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
    });
    await redis.connect();
    return new RespTarget(redis, k);
  }

  private async call<T>(...args: string[]): Promise<T> {
    try {
      return (await this.redis.call(args[0] as string, ...args.slice(1))) as T;
    } catch (error) {
      throw brokerError(error);
    }
  }

  private read(reply: ReadReply): {
    found: boolean;
    value?: Value;
    version?: Version;
    servers: string[];
    warnings: string[];
  } {
    const [found, version, json, servers, warnings] = reply;
    return {
      found: found === 1,
      ...(json === null ? {} : { value: parseValue(json) }),
      ...(version === null ? {} : { version: versionOf(version) }),
      servers,
      warnings,
    };
  }

  async get(key: string): Promise<ReturnType<RespTarget['read']>> {
    return this.read(await this.call<ReadReply>('KV.VREAD', key));
  }

  async query(path: Path | string): Promise<ReturnType<RespTarget['read']>> {
    const steps = path as Path;
    return this.read(
      await this.call<ReadReply>('KV.VREAD', String(steps[0]), JSON.stringify(steps.slice(1))),
    );
  }

  async put(
    key: string,
    value: Doc,
  ): Promise<{ version: Version; replicas: number; servers: string[]; warnings: string[] }> {
    const [version, replicas, servers, warnings] = await this.call<WriteReply>(
      'KV.VPUT',
      key,
      formatJson(value),
    );
    return { version: versionOf(version), replicas, servers, warnings };
  }

  async delete(
    key: string,
  ): Promise<{ version: Version; found: boolean; servers: string[]; warnings: string[] }> {
    const [version, found, servers, warnings] = await this.call<WriteReply>('KV.VDEL', key);
    return { version: versionOf(version), found: found === 1, servers, warnings };
  }

  async scan(prefix: string, limit: number): Promise<{ keys: string[]; warnings: string[] }> {
    const [keys, warnings] = await this.call<[string[], string[]]>(
      'KV.VSCAN',
      prefix,
      String(limit),
    );
    return { keys, warnings };
  }

  close(): void {
    this.redis.disconnect();
  }
}
