/**
 * A hostile server's forged flood while it refuses results (issue 9's reproduction): what it
 * does to the agent's state dir, memory and responsiveness.
 *
 * The real agent process (scoped flags of `worker-agent permissions`, `log_level: info`)
 * against the hostile test server (`tests/agent/_hostile_server.ts`) with a WebSocket: results
 * are answered 503, and forged commands (signed with another key, each with a new id) are sent
 * over the WebSocket as fast as the agent acks them, for the window (default 48 s). Every few
 * seconds: `du -sk` of the state dir, the outbox's file count, the agent's RSS (`/proc`). Then:
 * whether the agent process is still there (`ps -p`), and how long the next valid ping takes
 * once results are accepted again. Run with
 * `deno run -A bench/hostile_flood_bench.ts [seconds] [state_max_mb]`. Linux only (`/proc`,
 * `du`, `ps`). Prints a table; asserts nothing.
 */
import { startAgent } from "../tests/_helpers/agent_process.ts";
import { waitFor } from "../tests/_helpers/wait_for.ts";
import { signedCommand } from "../tests/agent/_fixtures.ts";
import { startHostileServer } from "../tests/agent/_hostile_server.ts";

const WINDOW_S = Number(Deno.args[0] ?? 48);
const STATE_MAX_MB = Number(Deno.args[1] ?? 64);
const KEY = "wak_" + "X".repeat(32);
const FORGER = "wak_" + "Y".repeat(32);

if (Deno.build.os !== "linux") {
  console.error("hostile_flood_bench reads /proc and runs on Linux only");
  Deno.exit(0);
}

async function run(command: string, args: string[]): Promise<{ code: number; out: string }> {
  const out = await new Deno.Command(command, { args, stdout: "piped", stderr: "null" }).output();
  return { code: out.code, out: new TextDecoder().decode(out.stdout).trim() };
}

async function duKiB(dir: string): Promise<number> {
  return Number((await run("du", ["-sk", dir])).out.split(/\s+/)[0]);
}

async function rssMiB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`).catch(() => "");
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kib / 1024;
}

function countFiles(dir: string): number {
  try {
    return [...Deno.readDirSync(dir)].length;
  } catch {
    return 0;
  }
}

await using server = startHostileServer({ websocket: true });
await using agent = await startAgent({
  baseUrl: server.baseUrl,
  apiKey: KEY,
  config: { state_max_mb: STATE_MAX_MB, spool_max_mb: STATE_MAX_MB, log_level: "info" },
});
await waitFor(() => server.openSockets > 0, { timeoutMs: 30_000, message: "the WebSocket" });
server.failResults = true;

const rows: string[][] = [];
const started = Date.now();
let sent = 0;
let nextRow = 0;
while (Date.now() - started < WINDOW_S * 1000) {
  // Keep at most 200 frames in flight, so the server's socket buffer stays small.
  if (sent - server.acks.length < 200) {
    for (let i = 0; i < 50; i++) {
      const forged = await signedCommand(FORGER, { overrides: { worker_id: server.workerId } });
      if (server.sendFrame(JSON.stringify({ type: "command", command: forged })) > 0) sent++;
    }
  } else await new Promise((r) => setTimeout(r, 5));
  const elapsed = (Date.now() - started) / 1000;
  if (elapsed >= nextRow) {
    nextRow += WINDOW_S / 6;
    rows.push([
      elapsed.toFixed(0),
      String(sent),
      String(server.acks.length),
      String(countFiles(`${agent.stateDir}/outbox/results`)),
      String(await duKiB(agent.stateDir)),
      (await rssMiB(agent.pid)).toFixed(1),
    ]);
  }
}
const elapsed = (Date.now() - started) / 1000;
rows.push([
  elapsed.toFixed(0),
  String(sent),
  String(server.acks.length),
  String(countFiles(`${agent.stateDir}/outbox/results`)),
  String(await duKiB(agent.stateDir)),
  (await rssMiB(agent.pid)).toFixed(1),
]);
const ps = await run("ps", ["-o", "pid=,stat=,comm=", "-p", String(agent.pid)]);
const duH = await run("du", ["-sh", agent.stateDir]);
server.failResults = false;
const ping = await signedCommand(KEY, { overrides: { worker_id: server.workerId } });
const pingAt = Date.now();
const delivered = server.sendFrame(JSON.stringify({ type: "command", command: ping }));
let pingMs = NaN;
try {
  await waitFor(() => server.results.some((r) => r.command_id === ping.id), {
    timeoutMs: 60_000,
    intervalMs: 10,
  });
  pingMs = Date.now() - pingAt;
} catch { /* reported below */ }

console.log(
  `\nforged flood over the WebSocket, results answered 503, state_max_mb ${STATE_MAX_MB}, ${WINDOW_S} s`,
);
console.log(
  "| t (s) | forged sent | acked | outbox files | du state dir (KiB) | agent RSS (MiB) |",
);
console.log(
  "| ----- | ----------- | ----- | ------------ | ------------------ | --------------- |",
);
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
console.log(`\ndu -sh ${duH.out}`);
console.log(
  `ps -p ${agent.pid}: ${
    ps.code === 0 ? ps.out : "(gone)"
  }; WebSocket frames sent to it: ${delivered}`,
);
console.log(
  Number.isFinite(pingMs)
    ? `next valid ping: completed ${pingMs} ms after it was sent (results accepted again)`
    : "next valid ping: did not complete within 60 s",
);
console.log(
  `forged refusals delivered to the server afterwards: ${
    server.results.filter((r) => r.error_code === "bad_signature").length
  }`,
);
