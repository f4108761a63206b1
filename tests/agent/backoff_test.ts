import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { AuthRetrySchedule, Backoff } from "../../src/shared/backoff.ts";

Deno.test("Backoff waits random(0, min(60 s, 1 s * 2^attempt))", () => {
  const backoff = new Backoff({ random: () => 0.999999, now: () => 0 });
  const waits = Array.from({ length: 9 }, () => backoff.next());
  assertEquals(waits, [999, 1999, 3999, 7999, 15999, 31999, 59999, 59999, 59999]);
  const low = new Backoff({ random: () => 0 });
  assertEquals(low.next(), 0);
});

Deno.test("Backoff starts over only after 60 s of uninterrupted health", () => {
  let now = 0;
  const backoff = new Backoff({ random: () => 0.5, now: () => now });
  backoff.next();
  backoff.next();
  backoff.next();
  backoff.healthy();
  now = 59_000;
  backoff.healthy();
  assertEquals(backoff.attempt, 3);
  now = 60_000;
  backoff.healthy();
  assertEquals(backoff.attempt, 0);
  assertEquals(backoff.next(), 500);
});

Deno.test("AuthRetrySchedule waits 5 min, doubling to 60 min", () => {
  const schedule = new AuthRetrySchedule();
  const minutes = Array.from({ length: 6 }, () => schedule.next() / 60_000);
  assertEquals(minutes, [5, 10, 20, 40, 60, 60]);
  schedule.reset();
  assertEquals(schedule.next(), 5 * 60_000);
});

Deno.test("Backoff refuses a base above the cap", () => {
  throws(() => new Backoff({ baseMs: 10, capMs: 5 }), RangeError);
});

Deno.test("Backoff.retryWait() lets Retry-After win and otherwise caps the jittered wait", () => {
  const backoff = new Backoff({ random: () => 0.999999, now: () => 0 });
  assertEquals(backoff.retryWait(7_000, 1_000), 7_000, "Retry-After wins over the cap");
  assertEquals(backoff.attempt, 0, "a Retry-After wait counts no failure");
  for (let i = 0; i < 5; i++) backoff.next(); // ceiling now 32 s
  assertEquals(backoff.retryWait(undefined, 5_000), 5_000, "capped at one interval");
  assertEquals(backoff.attempt, 6);
  assertEquals(backoff.retryWait(undefined), 59_999, "uncapped: the protocol's 60 s cap");
});
