/**
 * Prints one full sample (the second, so rates and CPU have a baseline) as JSON on the first
 * line, and on the second what this process may read: whether Deno grants read access to `/`
 * and whether reading a file outside the disk path (`Deno.args[1]`) is refused. Run by the
 * scoped-permission test under the flags of `collectorPermissions`.
 */
import { createCollector } from "../../src/collector/mod.ts";
import { stampSample } from "../../src/protocol/mod.ts";

const collector = createCollector({ diskPath: Deno.args[0] ?? "/" });
const input = {
  spoolDepth: 0,
  droppedSamples: 0,
  trading: { status: "stopped" as const, pid: null, uptime_s: null, restarts: 0, active_trades: 0 },
};
await collector.sample(input);
await new Promise((resolve) => setTimeout(resolve, 100));
// Stamped as the agent's spool stamps it: the collector only measures.
const sample = stampSample(await collector.sample(input), { stream: "scoped", seq: 1 });
await collector.close();
console.log(JSON.stringify(sample));

let outsideRead: "refused" | "allowed" | string = "allowed";
try {
  await Deno.readTextFile(Deno.args[1] ?? "/etc/hostname");
} catch (error) {
  outsideRead = error instanceof Deno.errors.NotCapable ? "refused" : String(error);
}
const root = Deno.permissions.querySync({ name: "read", path: "/" }).state;
console.log(JSON.stringify({ root, outsideRead }));
