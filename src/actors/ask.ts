import type { Logger } from 'pino';
import { ProtocolError } from '../protocol/errors.js';
import type { Reply } from './effects.js';
import type { ActorRef, ActorRuntime } from './runtime.js';
import type { Envelope } from './shell.js';

/** Sends a message and waits for the reducer's reply; a refusal throws ProtocolError. */
export async function askActor<M, R>(
  runtime: ActorRuntime,
  ref: ActorRef<Envelope<M>>,
  msg: M,
  timeoutMs: number,
  logger: Logger,
  actor: string,
): Promise<R> {
  let reply: Reply;
  try {
    reply = await runtime.query<Envelope<M>, Reply>(ref, (replyTo) => ({ msg, replyTo }), timeoutMs);
  } catch (err) {
    logger.error({ err, actor }, 'actor did not answer in time');
    throw new ProtocolError('TIMEOUT');
  }
  if (!reply.ok) throw new ProtocolError(reply.error, reply.detail);
  return reply.value as R;
}
