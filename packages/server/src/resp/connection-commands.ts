import { CONNECTION_HANDLERS as SESSION_HANDLERS } from '@triekv/resp';
import type { Handler } from './base.js';

/** Connection commands (PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET, CLIENT, COMMAND): @triekv/resp's. */
export const CONNECTION_HANDLERS: Record<string, Handler> = SESSION_HANDLERS;
