/**
 * Prints one full sample (the second, so rates and CPU have a baseline) as JSON. Run by the
 * scoped-permission test and the benchmark under the flags of `collectorPermissions`.
 */
import { createCollector } from "../../src/collector/mod.ts";

const collector = createCollector({ diskPath: Deno.args[0] ?? "/" });
const input = {
  stream: "scoped",
  seq: 0,
  spoolDepth: 0,
  droppedSamples: 0,
  trading: { status: "stopped" as const, pid: null, uptime_s: null, restarts: 0, active_trades: 0 },
};
await collector.sample(input);
await new Promise((resolve) => setTimeout(resolve, 100));
const sample = await collector.sample({ ...input, seq: 1 });
console.log(JSON.stringify(sample));
await collector.close();
