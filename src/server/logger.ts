import { pino, type DestinationStream, type Logger } from 'pino';

/** Paths pino blanks out: tokens never reach the logs. */
export const REDACT_PATHS = ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization', 'query.token', 'secret', '*.secret'];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { svc: 'live-room-server' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
