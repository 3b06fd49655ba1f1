import t from 'tap';
import { PerUserRate } from '../../src/server/rate-limit.js';

t.test('per user: a burst, then perMinute sustained; users do not share a bucket', async (t) => {
  const rate = new PerUserRate(6, 2);
  t.same([rate.take(1, 0), rate.take(1, 0), rate.take(1, 0)], [true, true, false]);
  t.equal(rate.take(2, 0), true, 'another user has their own');
  t.equal(rate.take(1, 9_999), false, 'one token per 10 s');
  t.equal(rate.take(1, 10_000), true);
  t.equal(rate.take(1, 10_000), false);
  t.equal(rate.take(1, 5_000), false, 'time going backwards refills nothing');
  t.equal(rate.take(1, 19_999), false, 'nor moves the refill back');
  t.equal(rate.take(1, 20_000), true);
});

t.test('buckets that filled up again are forgotten when the map has grown', async (t) => {
  const rate = new PerUserRate(60, 1);
  for (let u = 1; u <= 1023; u++) rate.take(u, 0);
  t.equal(rate.size, 1023);
  // A minute later every one of them is full again: the next new bucket sweeps them.
  rate.take(5000, 60_000);
  t.equal(rate.size, 1, 'only the one that just took a token');
  t.equal(rate.take(1, 60_000), true, 'a forgotten user starts with a full bucket');
  t.equal(rate.take(1, 60_000), false);
});
