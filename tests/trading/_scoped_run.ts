/**
 * Run by scoped_permissions_test.ts under the narrow flags the agent runs with: starts
 * `sh <script> <marker>` with the supervisor, waits for its first output, stops it and
 * prints the stop outcome as JSON. Arguments: <log dir> <script path> <marker> <grace s>.
 */
import { AgentConfigSchema } from "../../src/config/schema.ts";
import { createLogger } from "../../src/log/logger.ts";
import { generateApiKey } from "../../src/protocol/mod.ts";
import { TradingSupervisor } from "../../src/trading/trading_supervisor.ts";
import { asCommands } from "./_as_commands.ts";

const [dir, script, marker, grace] = Deno.args;
if (!dir || !script || !marker || !grace) {
  throw new TypeError("usage: <dir> <script> <marker> <grace>");
}
const config = AgentConfigSchema.parse({
  api_key: generateApiKey(),
  trading_enabled: true,
  trading: { command: ["sh", script, marker], stop_timeout_seconds: Number(grace) },
});
const logFile = `${dir}/trading.log`;
const supervisor = asCommands(
  new TradingSupervisor({
    getConfig: () => config,
    logFile,
    logger: createLogger({ level: "error" }),
  }),
);
const started = await supervisor.start();
if (started.status !== "completed") throw new Error(JSON.stringify(started));
const deadline = Date.now() + 10_000;
while (!(await Deno.readTextFile(logFile)).includes(" out ")) {
  if (Date.now() > deadline) throw new Error("the workload printed nothing");
  await new Promise((resolve) => setTimeout(resolve, 25));
}
const stopped = await supervisor.stop();
await supervisor.shutdown();
console.log(JSON.stringify({ pid: started.data?.pid, stopped }));
