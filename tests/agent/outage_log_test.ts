import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { OutageLog } from "../../src/agent/outage_log.ts";
import { memoryLogger } from "./_fixtures.ts";

function setup() {
  const { logger, lines } = memoryLogger();
  let now = 1_764_000_000_000;
  const backlog = { results: 0, samples: 0 };
  const log = new OutageLog({
    logger,
    host: "cp.example:443",
    backlog: () => backlog,
    now: () => now,
  });
  const fail = (reason = "network error: connection refused") =>
    log.failed({ firstLine: "control plane unreachable; retrying", reason, nextInMs: 4_000 });
  return { log, lines, backlog, fail, advance: (ms: number) => now += ms };
}

Deno.test("OutageLog says once that the server is unreachable, then 'still trying' at most once a minute", () => {
  const s = setup();
  // Five minutes of tries every 5 s.
  for (let t = 0; t < 300_000; t += 5_000) {
    s.fail();
    s.advance(5_000);
  }
  const warns = s.lines.filter((l) => l.includes("WARN"));
  assertEquals(warns.filter((l) => l.includes("control plane unreachable")).length, 1);
  const still = warns.filter((l) => l.includes("still trying to reach cp.example:443"));
  assertEquals(still.length, 4, warns.join(""));
  assert(
    /still trying to reach cp\.example:443 \(attempt 13, next in 4 s, last error network error: connection refused\)/
      .test(still[0]!),
    still[0],
  );
});

Deno.test("OutageLog reports the catch-up once the backlog is delivered", () => {
  const s = setup();
  s.fail();
  s.advance(42_000);
  s.fail();
  s.backlog.results = 3;
  s.backlog.samples = 12;
  s.log.reachable();
  assert(!s.lines.some((l) => l.includes("connected again")), "not before the backlog is sent");
  s.backlog.samples = 0;
  s.log.delivered("samples", 12);
  for (let i = 0; i < 3; i++) {
    s.backlog.results--;
    s.log.delivered("results", 1);
  }
  const back = s.lines.filter((l) => l.includes("connected again"));
  assertEquals(back.length, 1);
  assert(back[0]!.includes("connected again after 42 s; 3 results, 12 samples delivered"), back[0]);
  // Healthy from then on: nothing more.
  s.log.reachable();
  s.log.delivered("results", 1);
  assertEquals(s.lines.filter((l) => l.includes("connected again")).length, 1);
});

Deno.test("OutageLog says 'connected again' after a minute even while a backlog remains", () => {
  const s = setup();
  s.fail();
  s.advance(10_000);
  s.backlog.samples = 5_000;
  s.log.reachable();
  s.log.delivered("samples", 500);
  s.advance(61_000);
  s.log.reachable();
  const back = s.lines.filter((l) => l.includes("connected again"));
  assertEquals(back.length, 1);
  assert(
    back[0]!.includes(
      "after 10 s; 0 results, 500 samples delivered (0 results, 5000 samples still waiting)",
    ),
    back[0],
  );
});
