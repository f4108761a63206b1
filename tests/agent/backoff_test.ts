import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert/strict";
import { AuthRetrySchedule, Backoff, outageCapMs, Reachability } from "../../src/shared/backoff.ts";

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

// Protocol 8, v1.1: no wait longer than half the time since the server was last reachable.

/** A Backoff on an injected clock and random source, with the server last reached at 0. */
function outageBackoff(random: () => number) {
  const clock = { now: 0 };
  const now = () => clock.now;
  const reachability = new Reachability({ now });
  const backoff = new Backoff({ random, now, reachability });
  return { clock, reachability, backoff };
}

Deno.test("outageCapMs is half the time since the server was reachable, at least 1 s", () => {
  assertEquals(outageCapMs(10_000), 5_000);
  assertEquals(outageCapMs(120_000), 60_000);
  assertEquals(outageCapMs(1_999), 1_000);
  assertEquals(outageCapMs(0), 1_000);
  assertEquals(outageCapMs(-5_000), 1_000, "a clock stepping back gives the floor");
});

Deno.test("Backoff with a Reachability: the cap follows the outage's length", () => {
  const { clock, reachability, backoff } = outageBackoff(() => 0.999999);
  reachability.lost();
  for (let i = 0; i < 6; i++) backoff.next(); // the exponent alone would allow 60 s now
  clock.now = 10_000;
  assertEquals(backoff.retryWait(undefined), 4_999, "a 10 s outage: at most 5 s");
  clock.now = 30_000;
  assertEquals(backoff.retryWait(undefined), 14_999, "a 30 s outage: at most 15 s");
  clock.now = 300_000;
  assertEquals(
    backoff.retryWait(undefined),
    59_999,
    "a long outage: the protocol's 60 s cap again",
  );
  // A success moves the reference: the next outage starts from there.
  reachability.reached();
  clock.now = 304_000;
  reachability.lost();
  assertEquals(backoff.retryWait(undefined), 1_999, "4 s after the last success: at most 2 s");
});

Deno.test("Backoff with a Reachability: the exponent still grows from attempt 0", () => {
  const { clock, backoff } = outageBackoff(() => 0.999999);
  clock.now = 100_000;
  assertEquals([0, 1, 2].map(() => backoff.retryWait(undefined)), [999, 1_999, 3_999]);
});

Deno.test("Backoff with a Reachability: the 1 s floor holds", () => {
  const { clock, backoff } = outageBackoff(() => 0.999999);
  for (let i = 0; i < 8; i++) backoff.next();
  clock.now = 400; // reached 0.4 s ago: half would be 0.2 s
  assertEquals(backoff.retryWait(undefined), 999);
  clock.now = 1_900;
  assertEquals(backoff.retryWait(undefined), 999);
});

Deno.test("Backoff with a Reachability: waits stay jittered below the cap", () => {
  let r = 0;
  const { clock, backoff } = outageBackoff(() => r);
  for (let i = 0; i < 8; i++) backoff.next();
  clock.now = 10_000;
  const waits = [0, 0.25, 0.5, 0.75].map((value) => {
    r = value;
    return backoff.retryWait(undefined);
  });
  assertEquals(waits, [0, 1_250, 2_500, 3_750]);
});

Deno.test("Backoff with a Reachability: Retry-After still wins over the outage cap", () => {
  const { clock, backoff } = outageBackoff(() => 0.999999);
  for (let i = 0; i < 4; i++) backoff.next();
  clock.now = 4_000; // the outage cap is 2 s
  assertEquals(backoff.retryWait(20_000, 5_000), 20_000);
  assertEquals(backoff.retryWait(undefined, 5_000), 1_999, "without it: the cap");
});

Deno.test("Reachability.lost(aliveUntil) counts a connection that worked until it closed", () => {
  const clock = { now: 0 };
  const reachability = new Reachability({ now: () => clock.now });
  clock.now = 25_000;
  reachability.lost(24_000); // a WebSocket open until 24 s, silent HTTP since 0
  assertEquals(reachability.lastReachableAt, 24_000);
  assertEquals(reachability.down, true);
  clock.now = 34_000;
  assertEquals(reachability.capMs(), 5_000);
  reachability.lost(99_000); // never in the future
  assertEquals(reachability.lastReachableAt, 34_000);
});

Deno.test("Reachability.wait ends early when another loop reaches the server after a failure", async () => {
  const reachability = new Reachability();
  reachability.lost();
  const started = performance.now();
  const waiting = reachability.wait(60_000);
  reachability.reached();
  assertEquals(await waiting, true);
  assert(performance.now() - started < 5_000);
  // No failure since: a success does not cut a wait short (a heartbeat interval stays whole).
  const controller = new AbortController();
  let ended = false;
  const whole = reachability.wait(60_000, controller.signal).then((early) => {
    ended = true;
    return early;
  });
  reachability.reached();
  await Promise.resolve();
  assertEquals(ended, false);
  controller.abort();
  assertEquals(await whole, false);
});

Deno.test("Backoff.next() is the exponent alone: an answer that is not an outage is not hurried", () => {
  const { clock, backoff } = outageBackoff(() => 0.999999);
  for (let i = 0; i < 5; i++) backoff.next();
  clock.now = 2_000; // reached 2 s ago: a retry after an outage would wait at most 1 s
  assertEquals(backoff.next(), 31_999);
  assertEquals(backoff.retryWait(undefined), 999);
});
