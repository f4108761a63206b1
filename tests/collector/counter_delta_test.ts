import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  clampPercent,
  coreBusyPercent,
  counterRate,
  type CpuTimes,
  cpuUsage,
  processCpuPercent,
} from "../../src/collector/counter_delta.ts";

function times(busy: number, idle: number): CpuTimes {
  return { user: busy, nice: 0, sys: 0, idle, irq: 0 };
}

Deno.test("counterRate() turns counter deltas into per-second rates and refuses bad deltas", async (t) => {
  const cases: [string, number | undefined, number, number, number | null][] = [
    ["first sample has no rate", undefined, 1000, 1000, null],
    ["steady growth", 1000, 3000, 2000, 1000],
    ["no change is zero, not null", 5000, 5000, 1000, 0],
    ["counter reset (reboot) is null, never negative", 9_000_000, 10, 1000, null],
    ["32-bit wrap is null, never negative", 2 ** 32 - 100, 50, 1000, null],
    ["zero elapsed time is null", 1000, 2000, 0, null],
    ["negative elapsed time (clock step back) is null", 1000, 2000, -5, null],
    ["non-finite input is null", 1000, Number.NaN, 1000, null],
  ];
  for (const [name, previous, current, elapsed, expected] of cases) {
    await t.step(name, () => assertEquals(counterRate(previous, current, elapsed), expected));
  }
});

Deno.test("coreBusyPercent() measures busy time between two observations", async (t) => {
  await t.step("first observation gives null", () => {
    assertEquals(coreBusyPercent(undefined, times(10, 10)), null);
  });
  await t.step("half busy is 50", () => {
    assertEquals(coreBusyPercent(times(100, 100), times(150, 150)), 50);
  });
  await t.step("fully idle is 0 and fully busy is 100", () => {
    assertEquals(coreBusyPercent(times(100, 100), times(100, 200)), 0);
    assertEquals(coreBusyPercent(times(100, 100), times(200, 100)), 100);
  });
  await t.step("a counter going backwards is a reset: null", () => {
    assertEquals(coreBusyPercent(times(100, 100), times(50, 200)), null);
  });
  await t.step("no time passed gives null", () => {
    assertEquals(coreBusyPercent(times(100, 100), times(100, 100)), null);
  });
});

Deno.test("cpuUsage() weighs all cores by their time and keeps per-core values", () => {
  const before = [times(0, 0), times(0, 0)];
  const after = [times(100, 0), times(0, 300)];
  const usage = cpuUsage(before, after);
  assertEquals(usage.perCore, [100, 0]);
  assertEquals(usage.total, 25);
});

Deno.test("cpuUsage() gives nulls on the first sample and when the core count changes", () => {
  assertEquals(cpuUsage(undefined, [times(1, 1), times(1, 1)]), {
    total: null,
    perCore: [null, null],
  });
  assertEquals(cpuUsage([times(1, 1)], [times(2, 2), times(2, 2)]).total, null);
});

Deno.test("cpuUsage() leaves the total null when one core went backwards", () => {
  const usage = cpuUsage([times(10, 10), times(10, 10)], [times(20, 20), times(5, 30)]);
  assertEquals(usage.perCore, [50, null]);
  assertEquals(usage.total, null);
});

Deno.test("clampPercent() keeps CPU within 0–100", () => {
  assertEquals(clampPercent(-3), 0);
  assertEquals(clampPercent(140), 100);
  assertEquals(clampPercent(Number.NaN), 0);
  assertEquals(clampPercent(42.5), 42.5);
});

Deno.test("processCpuPercent() is a share of the whole machine and clamped", () => {
  // 1 s of CPU in 1 s of wall time on 4 cores: a quarter of the machine.
  assert(Math.abs((processCpuPercent(0, 1_000_000, 1000, 4) as number) - 25) < 1e-9);
  assertEquals(processCpuPercent(undefined, 1_000_000, 1000, 4), null);
  assertEquals(processCpuPercent(0, 1_000_000, 0, 4), null);
  assertEquals(processCpuPercent(0, 10_000_000, 1000, 1), 100);
});
