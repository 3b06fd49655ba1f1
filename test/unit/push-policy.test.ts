import t from 'tap';
import { backoffMs, isPermanent, nextStep, resultOfStatus } from '../../src/server/push-policy.js';

const policy = { backoffBaseMs: 1000, backoffMaxMs: 60_000, maxAttempts: 5 };

t.test('backoff doubles per attempt, is capped, and the jitter keeps it within 50–100 % of the step', async (t) => {
  const low = () => 0;
  const high = () => 0.999_999;
  t.same([1, 2, 3, 4].map((a) => backoffMs(a, policy, high)), [1000, 2000, 4000, 8000], 'doubling (jitter at its top)');
  t.same([1, 2, 3, 4].map((a) => backoffMs(a, policy, low)), [500, 1000, 2000, 4000], 'half of it (jitter at its bottom)');
  t.equal(backoffMs(7, policy, high), 60_000, 'capped at the max');
  t.equal(backoffMs(1000, policy, high), 60_000, 'no overflow for huge attempt counts');
  for (let a = 1; a < 12; a++) {
    const d = backoffMs(a, policy, Math.random);
    const step = Math.min(60_000, 1000 * 2 ** (a - 1));
    t.ok(d >= step / 2 && d <= step, `attempt ${a}: ${d} within [${step / 2}, ${step}]`);
  }
});

t.test('2xx delivered; 4xx but 408/429 dead at once; 5xx, 408, 429, 3xx and errors retried until the last attempt', async (t) => {
  const r = () => 0.5;
  t.same(nextStep(resultOfStatus(200), 1, 0, policy, r), { to: 'delivered' });
  t.same(nextStep(resultOfStatus(204), 5, 0, policy, r), { to: 'delivered' }, 'also on the last attempt');
  for (const s of [400, 401, 403, 404, 410, 422]) t.same(nextStep(resultOfStatus(s), 1, 0, policy, r), { to: 'dead' }, `${s}`);
  for (const s of [500, 502, 503, 408, 429, 301]) t.same(nextStep(resultOfStatus(s), 1, 10, policy, r), { to: 'retry', at: 10 + 750 }, `${s}`);
  t.same(nextStep({ ok: false, status: null, error: 'ECONNREFUSED' }, 2, 10, policy, r), { to: 'retry', at: 10 + 1500 }, 'a connection error');
  t.same(nextStep({ ok: false, status: null, error: 'timed out' }, 5, 10, policy, r), { to: 'dead' }, 'the last allowed attempt failed');
  t.same(nextStep(resultOfStatus(500), 4, 10, policy, r), { to: 'retry', at: 10 + 6000 }, 'one before the last is still retried');
  t.equal(isPermanent(null), false);
});

t.test('push configuration is validated at start, naming the variable', async (t) => {
  const { ConfigError, loadConfig } = await import('../../src/server/config.js');
  t.equal(loadConfig({}).pushWebhookUrl, '', 'unset by default: nothing is sent');
  t.equal(loadConfig({ LIVE_PUSH_WEBHOOK_URL: 'https://push.example/hook' }).pushWebhookUrl, 'https://push.example/hook');
  t.throws(() => loadConfig({ LIVE_PUSH_WEBHOOK_URL: 'ftp://push.example/' }), new ConfigError('LIVE_PUSH_WEBHOOK_URL: expected an http(s) URL, got "ftp://push.example/"'));
  t.ok((() => { try { loadConfig({ LIVE_PUSH_WEBHOOK_URL: 'x' }); } catch (err) { return err instanceof ConfigError; } return false; })(), 'a ConfigError (exit code 78)');
  t.throws(() => loadConfig({ LIVE_PUSH_WEBHOOK_URL: 'not a url' }), /^LIVE_PUSH_WEBHOOK_URL: expected an http\(s\) URL/);
  t.throws(() => loadConfig({ LIVE_PUSH_WEBHOOK_URL: 'https://gw:pw@push.example/' }), /^LIVE_PUSH_WEBHOOK_URL: must not contain credentials/);
  t.throws(() => loadConfig({ LIVE_PUSH_WEBHOOK_SECRET: 'short' }), /LIVE_PUSH_WEBHOOK_SECRET: must be at least 32 characters/);
  t.throws(() => loadConfig({ LIVE_PUSH_BACKOFF_BASE_MS: '5000', LIVE_PUSH_BACKOFF_MAX_MS: '1000' }), /LIVE_PUSH_BACKOFF_BASE_MS \(5000\) must not exceed LIVE_PUSH_BACKOFF_MAX_MS/);
});
