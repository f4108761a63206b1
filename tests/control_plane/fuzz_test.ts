/**
 * A small run of every fuzz target (`_fuzz_targets.ts`) in the suite; `deno task fuzz` runs
 * at least 10,000 cases per target. A failure prints fast-check's seed and shrunk input.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { FUZZ_TARGETS } from "./_fuzz_targets.ts";

/** Cases per target here: enough to cover each shape, small enough for the suite. */
const CASES = 150;

for (const target of FUZZ_TARGETS) {
  Deno.test(`fuzzing ${target.name}: never a 5xx, never a stack trace`, async () => {
    const report = await target.run(CASES);
    assertEquals(report.cases, CASES);
  });
}
