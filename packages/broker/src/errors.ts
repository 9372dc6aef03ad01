import type { Version } from '@triekv/protocol';
/** Base of every error this package throws; `code` is stable, the message may change. */
export class BrokerError extends Error {
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BrokerError';
  }
}

/** A server file line that is not `HOST PORT`. Code `SERVER_FILE`. */
export class ServerFileError extends BrokerError {
  constructor(
    detail: string,
    readonly line: number | undefined,
    readonly file?: string,
    /** Every bad line, when there is more than one (`line` is then undefined). */
    readonly problems: readonly { line: number; detail: string }[] = [],
  ) {
    const where = `${file === undefined ? '' : `${file}: `}${line === undefined ? '' : `line ${line}: `}`;
    super(`${where}${detail}`, 'SERVER_FILE');
    this.name = 'ServerFileError';
  }
}

/**
 * No server that could serve the request is reachable, or none acknowledged it. Code `UNAVAILABLE`.
 * When a write was sent and then failed, `version` is the version it carried: a replica may still have
 * applied it (a timeout says nothing about whether the server got the request).
 */
export class UnavailableError extends BrokerError {
  constructor(
    message: string,
    readonly version?: Version,
  ) {
    super(message, 'UNAVAILABLE');
    this.name = 'UnavailableError';
  }
}

/** A request to a server that is down, or whose connection dropped. Code `SERVER_DOWN`. */
export class ServerDownError extends BrokerError {
  constructor(
    readonly server: string,
    detail = 'is down',
  ) {
    super(`${server} ${detail}`, 'SERVER_DOWN');
    this.name = 'ServerDownError';
  }
}

/** A request that got no reply in time. Code `TIMEOUT`. */
export class TimeoutError extends BrokerError {
  constructor(
    readonly server: string,
    ms: number,
  ) {
    super(`${server} did not answer within ${ms} ms`, 'TIMEOUT');
    this.name = 'TimeoutError';
  }
}

/** Too many requests waiting on one server. Code `OVERLOADED`. */
export class OverloadedError extends BrokerError {
  constructor(
    readonly server: string,
    limit: number,
  ) {
    super(`${server} has ${limit} requests waiting already`, 'OVERLOADED');
    this.name = 'OverloadedError';
  }
}

/** A server answered with an ERROR reply (a separate branch from local failures). Code `REMOTE`. */
export class RemoteError extends BrokerError {
  constructor(
    readonly server: string,
    readonly remoteCode: string,
    message: string,
  ) {
    super(`${server}: ${remoteCode}: ${message}`, 'REMOTE');
    this.name = 'RemoteError';
  }
}

/** DELETE refused because a server that may hold the key is down; nothing was deleted. Code `DELETE_REFUSED`. */
export class DeleteRefusedError extends BrokerError {
  constructor(readonly downServers: string[]) {
    super(
      `delete refused: ${downServers.join(', ')} may hold the key and ${downServers.length === 1 ? 'is' : 'are'} down; nothing was deleted`,
      'DELETE_REFUSED',
    );
    this.name = 'DeleteRefusedError';
  }
}

/** A COMPUTE expression that cannot be parsed or evaluated. Code `COMPUTE`; `column` is 1-based. */
export class ComputeError extends BrokerError {
  constructor(
    detail: string,
    readonly column?: number,
  ) {
    super(column === undefined ? detail : `col ${column}: ${detail}`, 'COMPUTE');
    this.name = 'ComputeError';
  }
}

/** A command line that is not a known command or is malformed. Code `BAD_COMMAND`. */
export class CommandError extends BrokerError {
  constructor(message: string) {
    super(message, 'BAD_COMMAND');
    this.name = 'CommandError';
  }
}

/** The broker was used after `close()`. Code `CLOSED`. */
export class BrokerClosedError extends BrokerError {
  constructor() {
    super('the broker is closed', 'CLOSED');
    this.name = 'BrokerClosedError';
  }
}

/** Why a membership change was refused. */
export type MembershipReason =
  | 'IN_PROGRESS'
  | 'SERVERS_DOWN'
  | 'TOO_FEW'
  | 'UNKNOWN_MEMBER'
  | 'ALREADY_MEMBER'
  | 'UNREACHABLE'
  | 'OTHER_CLUSTER'
  | 'SUPERSEDED'
  | 'REFUSED';

/**
 * A membership change (ADD SERVER, REMOVE SERVER, REBALANCE) refused or stopped, with `reason`. Code
 * `MEMBERSHIP`. Nothing is lost either way: a change stopped halfway leaves the cluster moving, every
 * read right, and REBALANCE (here or on any broker) finishes it.
 */
export class MembershipError extends BrokerError {
  constructor(
    readonly reason: MembershipReason,
    message: string,
  ) {
    super(message, 'MEMBERSHIP');
    this.name = 'MembershipError';
  }
}
