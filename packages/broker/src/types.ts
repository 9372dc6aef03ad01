import type { Version } from '@triekv/protocol';
import type { Value } from '@triekv/record';

/** How records are placed on servers. */
export type Placement = 'hash' | 'random';

/** The outcome of a read. */
export interface ReadResult {
  found: boolean;
  value?: Value;
  version?: Version;
  /** Servers that answered. */
  servers: string[];
  warnings: string[];
}

/** The outcome of a write. */
export interface WriteResult {
  /** Replicas that acknowledged (for DELETE: that held a live record, when `found`). */
  replicas: number;
  /** Servers that acknowledged the write (for DELETE: every server that applied or already had it). */
  servers: string[];
  version: Version;
  found?: boolean;
  warnings: string[];
}

/** One server's health. */
export interface ServerStatus {
  server: string;
  up: boolean;
  /** Why it is down (the last connection attempt's failure), when known. */
  reason?: string;
  latencyMs?: number;
  keys?: number;
}
