/** The register and upgrade caps (issue 15): refusals spread over a window sized to the backlog. */
import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert/strict";
import {
  type Admission,
  admissionCaps,
  AdmissionGate,
} from "../../src/control_plane/admission_gate.ts";
import { startupGrace } from "../../src/control_plane/startup_grace.ts";
import { UsageError } from "../../src/shared/usage_error.ts";
import { Paths } from "../../src/protocol/mod.ts";
import { testPlane } from "./_fixtures.ts";

function admitted(admission: Admission): () => void {
  if (!admission.admitted) throw new Error("expected the gate to admit");
  return admission.release;
}

Deno.test("AdmissionGate admits up to the cap, refuses one more, admits again after a release", () => {
  const gate = new AdmissionGate({ maxConcurrent: 2, now: () => 0, random: () => 0 });
  const first = admitted(gate.enter());
  admitted(gate.enter());
  const refused = gate.enter();
  assertEquals(refused.admitted, false);
  first();
  first(); // a second release is ignored
  assertEquals(gate.stats.inFlight, 1);
  admitted(gate.enter());
  assertEquals(gate.enter().admitted, false);
  assertEquals(gate.stats, { inFlight: 2, admitted: 3, refused: 2, peakInFlight: 2 });
});

Deno.test("AdmissionGate spreads Retry-After over a window that grows with the backlog", () => {
  let now = 0;
  let r = 0.999;
  const gate = new AdmissionGate({ maxConcurrent: 10, now: () => now, random: () => r });
  // 10 requests completing per second for 5 s: the gate lets 10 per second through.
  for (let second = 0; second < 5; second++) {
    now = second * 1000;
    const releases = Array.from({ length: 10 }, () => admitted(gate.enter()));
    now += 500;
    releases.forEach((release) => release());
  }
  now = 5_000;
  const held = Array.from({ length: 10 }, () => admitted(gate.enter()));
  // A wave of 300 refusals within one second: backlog ~300, at 10/s about 30 s.
  const waits: number[] = [];
  for (let i = 0; i < 300; i++) {
    const refusal = gate.enter();
    assert(!refusal.admitted);
    waits.push(refusal.retryAfterSeconds);
  }
  assert(gate.windowSeconds >= 20 && gate.windowSeconds <= 31, `window ${gate.windowSeconds}`);
  assert(waits.at(-1)! >= 20, `with random ~1 the wait is near the window: ${waits.at(-1)}`);
  assert(waits[0]! <= 2, `the first refusals see a small backlog: ${waits[0]}`);
  r = 0;
  const low = gate.enter();
  assertEquals(low.admitted ? undefined : low.retryAfterSeconds, 1, "never below 1 s");
  held.forEach((release) => release());
});

Deno.test("AdmissionGate never hands out more than maxRetryAfterSeconds, nor less than 1 s", () => {
  let draws = 0;
  const gate = new AdmissionGate({
    maxConcurrent: 1,
    maxRetryAfterSeconds: 7,
    now: () => 0,
    random: () => (draws++ % 2 === 0 ? 0 : 0.999999),
  });
  admitted(gate.enter());
  const waits = Array.from({ length: 5_000 }, () => {
    const refusal = gate.enter();
    return refusal.admitted ? 0 : refusal.retryAfterSeconds;
  });
  assertEquals(Math.max(...waits), 7);
  assertEquals(Math.min(...waits), 1);
});

Deno.test("AdmissionGate refuses a cap that is not a positive integer", () => {
  throws(() => new AdmissionGate({ maxConcurrent: 0 }), RangeError);
  throws(() => new AdmissionGate({ maxConcurrent: 1.5 }), RangeError);
});

Deno.test("admissionCaps reads the flags, else the environment, and refuses nonsense", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assertEquals(admissionCaps({}, env({})), {});
  assertEquals(
    admissionCaps({ "max-concurrent-registers": "8" }, env({ FTL_MAX_CONCURRENT_UPGRADES: "3" })),
    { maxConcurrentRegisters: 8, maxConcurrentUpgrades: 3 },
  );
  assertEquals(
    admissionCaps(
      { "max-concurrent-registers": "8" },
      env({ FTL_MAX_CONCURRENT_REGISTERS: "99" }),
    ),
    { maxConcurrentRegisters: 8 },
    "the flag wins over the variable",
  );
  throws(() => admissionCaps({ "max-concurrent-upgrades": "0" }, env({})), UsageError);
  throws(
    () => admissionCaps({}, env({ FTL_MAX_CONCURRENT_REGISTERS: "lots" })),
    /FTL_MAX_CONCURRENT_REGISTERS must be a whole number >= 1/,
  );
});

Deno.test("startupGrace stays closed for the grace period, then open for good", () => {
  let now = 1_000;
  const open = startupGrace({ graceMs: 30_000, now: () => now });
  assertEquals(open(), false);
  now = 30_999;
  assertEquals(open(), false);
  now = 31_000;
  assertEquals(open(), true);
  now = 0; // a clock stepping back does not close it again
  assertEquals(open(), true);
});

Deno.test("WebSocket upgrades over --max-concurrent-upgrades get 503 + Retry-After, not an error", async () => {
  using plane = testPlane({ maxConcurrentUpgrades: 2, rateLimitPerSecond: 0 });
  const { key, workerId } = await plane.registerWorker();
  // 40 upgrade requests at once: each is in flight while its key is checked (an await).
  const answers = await Promise.all(
    Array.from({ length: 40 }, () =>
      plane.call(Paths.websocket, {
        key,
        headers: { "X-Worker-Id": workerId, Upgrade: "websocket", Connection: "Upgrade" },
      })),
  );
  const refused = answers.filter((res) => res.status === 503);
  assert(refused.length > 0 && refused.length < 40, `${refused.length} of 40 refused`);
  for (const res of refused) {
    const seconds = Number(res.headers.get("Retry-After"));
    assert(Number.isInteger(seconds) && seconds >= 1 && seconds <= 60);
    assertEquals((await res.json()).code, "rate_limited");
  }
  // The admitted ones got past the gate (here to Deno's handshake check: no real socket).
  assert(answers.some((res) => res.status === 400));
  assertEquals(plane.cp.admission.upgrade.stats.inFlight, 0, "every admitted one released");
  assertEquals(plane.logs.filter((l) => l.includes('"level":"error"')), [], "503s are no errors");
  await Promise.all(answers.filter((res) => !res.bodyUsed).map((res) => res.body?.cancel()));
});
