import { FakeClock } from './clock.js';
import { startServer } from './server/app.js';
import { ConfigError, isDevSecret, loadConfig } from './server/config.js';
import { createLogger } from './server/logger.js';
import { DatabaseInUseError } from './storage/database.js';

/** Process entry: config from the environment, then run until SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`configuration error: ${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  if (isDevSecret(config)) logger.warn('LIVE_TOKEN_SECRET not set: using the development secret (never in production)');
  const server = await startServer(config, { logger, clock: testClock() });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Ready line for supervisors and tests that start the server as a child process.
  if (process.send) process.send({ ready: true, port: server.port });
}

/**
 * Test hook: LIVE_TEST_CLOCK_START=<ms> runs the server on a FakeClock that a
 * parent process advances over IPC ({advance: ms}), so crash tests of a real
 * process still drive countdowns without sleeping. Never set in production.
 */
function testClock(): FakeClock | undefined {
  const start = process.env.LIVE_TEST_CLOCK_START;
  if (!start || !process.send) return undefined;
  const clock = new FakeClock(Number(start));
  process.on('message', (m: { advance?: number }) => {
    if (typeof m.advance !== 'number') return;
    clock.advance(m.advance);
    process.send?.({ advanced: clock.now() });
  });
  return clock;
}

main().catch((err) => {
  // Refusals to start that name their cause need no stack trace.
  const expected = err instanceof DatabaseInUseError || /^cannot listen on /.test((err as Error).message);
  process.stderr.write(expected ? `cannot start: ${(err as Error).message}\n` : `fatal: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
