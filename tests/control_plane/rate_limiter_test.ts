/** Token buckets per key. */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { RateLimiter } from "../../src/control_plane/rate_limiter.ts";

Deno.test("RateLimiter allows a burst, then asks to wait, then refills with time", () => {
  let now = 0;
  const limiter = new RateLimiter({ ratePerSecond: 2, burst: 3, now: () => now });
  assertEquals([1, 2, 3, 4].map(() => limiter.take("a")), [0, 0, 0, 1]);
  assertEquals(limiter.take("b"), 0, "keys have separate buckets");
  now += 500;
  assertEquals(limiter.take("a"), 0, "one token back after 1 / rate seconds");
  assertEquals(limiter.take("a"), 1);
});

Deno.test("RateLimiter reports whole seconds to wait at slow rates and can be disabled", () => {
  let now = 0;
  const slow = new RateLimiter({ ratePerSecond: 0.2, burst: 1, now: () => now });
  assertEquals([slow.take("k"), slow.take("k")], [0, 5]);
  now += 5000;
  assertEquals(slow.take("k"), 0);
  const off = new RateLimiter({ ratePerSecond: 0 });
  assertEquals(Array.from({ length: 100 }, () => off.take("k")).every((w) => w === 0), true);
});

Deno.test("RateLimiter keeps a bounded number of buckets", () => {
  let now = 0;
  const limiter = new RateLimiter({ ratePerSecond: 1, burst: 1, now: () => now, maxBuckets: 3 });
  for (const key of ["a", "b", "c", "d", "e"]) assertEquals(limiter.take(key), 0);
  now += 10;
  assertEquals(limiter.take("e"), 1, "the newest bucket is kept");
});
