/**
 * `deno task fuzz [cases] [seed]`: every fuzz target of `tests/control_plane/_fuzz_targets.ts`
 * (each endpoint, the admin API, WebSocket frames, the connection guard's framer) with at least
 * 10,000 cases each (default 10,000). Prints one row per target: cases, time, and how many
 * answers had each status. Exits 1 on the first property failure, printing fast-check's seed and
 * shrunk counterexample.
 */
import { FUZZ_TARGETS } from "../tests/control_plane/_fuzz_targets.ts";

const cases = Number(Deno.args[0] ?? 10_000);
const seed = Deno.args[1] === undefined ? Date.now() % 2 ** 31 : Number(Deno.args[1]);
if (!Number.isInteger(cases) || cases < 1 || !Number.isInteger(seed)) {
  console.error("usage: deno task fuzz [cases >= 1] [seed]");
  Deno.exit(2);
}

console.log(`fast-check seed ${seed}, ${cases} cases per target\n`);
console.log("| target | cases | seconds | outcomes |");
console.log("| --- | ---: | ---: | --- |");
let failed = false;
for (const target of FUZZ_TARGETS) {
  const started = performance.now();
  try {
    const report = await target.run(cases, seed);
    const outcomes = Object.entries(report.outcomes).sort(([a], [b]) => a.localeCompare(b))
      .map(([status, n]) => `${status}: ${n}`).join(", ");
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`| ${target.name} | ${report.cases} | ${seconds} | ${outcomes} |`);
  } catch (error) {
    failed = true;
    console.log(`| ${target.name} | FAILED | | |`);
    console.error(String((error as Error)?.message ?? error));
    break;
  }
}
Deno.exit(failed ? 1 : 0);
