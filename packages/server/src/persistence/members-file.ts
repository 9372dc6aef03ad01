import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeFrame, encodeFrame, type Membership } from '@triekv/protocol';
import type { Logger } from 'pino';
import { writeAtomically } from './atomic-file.js';

/** The file that keeps the cluster's membership record in a data directory. */
export const MEMBERS_FILE = 'members.bin';

/**
 * The membership record kept in `dir`, or undefined when there is none. The file is a protocol frame
 * (a MEMBERS_SET message), so it is checked as the wire checks it. A damaged file is logged and
 * ignored: the record is the cluster's, and a broker gives a server that lacks it the current one.
 */
export function readMembersFile(dir: string, logger: Logger): Membership | undefined {
  const path = join(dir, MEMBERS_FILE);
  if (!existsSync(path)) return undefined;
  const decoded = decodeFrame(readFileSync(path));
  if (decoded instanceof Error || decoded.type !== 'MEMBERS_SET') {
    logger.warn(
      { file: path, reason: decoded instanceof Error ? decoded.message : decoded.type },
      'ignoring a damaged membership file: a broker will give this server the current membership',
    );
    return undefined;
  }
  return decoded.members;
}

/** Stores the membership record in `dir` atomically (temporary file, fsync, rename). */
export function writeMembersFile(dir: string, members: Membership): void {
  const frame = encodeFrame({ type: 'MEMBERS_SET', id: 0, members });
  writeAtomically(dir, MEMBERS_FILE, [Buffer.from(frame.buffer, frame.byteOffset, frame.length)]);
}
