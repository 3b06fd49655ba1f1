import type { Logger } from 'pino';
import { ProtocolError } from '../protocol/errors.js';
import type { Reply } from './effects.js';
import { AskError, type ActorRef, type ActorRuntime } from './runtime.js';
import type { Envelope } from './shell.js';

/**
 * Sends a message and waits for the reducer's reply; a refusal throws
 * ProtocolError. Without a timeout it waits until the actor answers or stops
 * (an actor that stops, e.g. after a failed journal write, fails its askers).
 */
export async function askActor<M, R>(
  runtime: ActorRuntime,
  ref: ActorRef<Envelope<M>>,
  msg: M,
  timeoutMs: number | undefined,
  logger: Logger,
  actor: string,
): Promise<R> {
  let reply: Reply;
  try {
    reply = await runtime.ask<Envelope<M>, Reply>(ref, (replyTo) => ({ msg, replyTo }), timeoutMs);
  } catch (err) {
    if (err instanceof AskError && err.reason === 'stopped') {
      logger.warn({ actor }, 'actor stopped before answering');
      throw new ProtocolError('INTERNAL');
    }
    // No stack: under overload these come by the thousand, and the stack says nothing new.
    logger.warn({ actor }, 'actor did not answer in time');
    throw new ProtocolError('TIMEOUT');
  }
  if (!reply.ok) throw new ProtocolError(reply.error, reply.detail);
  return reply.value as R;
}
