/**
 * Syscalls of an idle, connected agent (Linux, needs `strace`; issue 17).
 *
 * A real control plane and agent (scoped flags of `worker-agent permissions`, default intervals:
 * heartbeat 30 s, metrics 10 s, `log_level: info`) on 127.0.0.1. Once the agent is connected and
 * its first sample is stored, `strace -f -c` attaches to it (all threads) for the window and the
 * bench prints the calls per minute by name. A second pass (`--paths`) traces the file calls with
 * their arguments and prints which paths they touched, to find who makes each one.
 *
 * `deno run -A bench/idle_syscalls_bench.ts [--window=60] [--paths]`. Prints a table; asserts
 * nothing.
 */
import { parseArgs } from "node:util";
import { startAgent } from "../tests/_helpers/agent_process.ts";
import { startControlPlane } from "../tests/_helpers/control_plane_process.ts";
import { waitFor } from "../tests/_helpers/wait_for.ts";

const { values: opts } = parseArgs({
  args: Deno.args,
  options: {
    window: { type: "string", default: "60" },
    paths: { type: "boolean", default: false },
  },
});
const WINDOW_S = Number(opts.window);
const FILE_CALLS = "openat,rename,renameat,renameat2,fsync,fdatasync,chmod,fchmodat,readlink," +
  "readlinkat,unlink,unlinkat,statx,newfstatat,mkdir,mkdirat";

await using cp = await startControlPlane({
  args: ["--heartbeat-interval", "30", "--metrics-interval", "10"],
});
await using agent = await startAgent({
  baseUrl: cp.baseUrl,
  apiKey: await cp.createKey("agent"),
  config: { log_level: "info", heartbeat_interval_seconds: 30, metrics_interval_seconds: 10 },
});
const workerId = (await waitFor(async () => {
  const s = await agent.status();
  return s?.state === "connected" && s.websocket === "open" ? s.worker_id : undefined;
}, { timeoutMs: 30_000, intervalMs: 50, message: "the agent to connect" }))!;
await waitFor(async () => {
  const res = await cp.admin(`/api/workers/${workerId}/metrics?limit=10`);
  const body = await res.json() as { samples?: unknown[] };
  return (body.samples?.length ?? 0) >= 1;
}, { timeoutMs: 60_000, intervalMs: 200, message: "the first sample" });

async function strace(args: string[]): Promise<string> {
  const out = await new Deno.Command("timeout", {
    args: ["-s", "INT", `${WINDOW_S}`, "strace", "-f", "-p", `${agent.pid}`, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(out.stderr);
}

const summary = await strace(["-c"]);
const perMinute = 60 / WINDOW_S;
console.log(`Idle agent, default intervals, ${WINDOW_S} s traced, deno ${Deno.version.deno}`);
console.log("");
console.log("| syscall | calls/min | errors/min |");
console.log("|---|---:|---:|");
let total = 0;
for (const line of summary.split("\n")) {
  // % time  seconds  usecs/call  calls  errors  syscall
  const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(\d+)?\s*(\w+)$/.exec(line);
  if (!m || m[3] === "total") continue;
  const calls = Number(m[1]);
  total += calls;
  console.log(
    `| ${m[3]} | ${(calls * perMinute).toFixed(0)} | ${
      (Number(m[2] ?? 0) * perMinute).toFixed(0)
    } |`,
  );
}
console.log(`| **total** | ${(total * perMinute).toFixed(0)} | |`);

if (opts.paths) {
  const trace = await strace(["-e", `trace=${FILE_CALLS}`, "-s", "200"]);
  const counts = new Map<string, number>();
  for (const line of trace.split("\n")) {
    const m = /(\w+)\((?:AT_FDCWD, |\d+, )?"([^"]*)"/.exec(line);
    if (!m) continue;
    const path = m[2]!.replace(agent.dir, "<dir>").replace(/\d{16}/, "<seq>").replace(
      /\.[a-z0-9]+\.tmp$/,
      ".<rand>.tmp",
    );
    const key = `${m[1]} ${path}${/= -1/.test(line) ? " (fails)" : ""}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  console.log("");
  console.log("| call and path | calls/min |");
  console.log("|---|---:|");
  for (const [key, n] of [...counts].sort((a, b) => b[1] - a[1])) {
    console.log(`| ${key} | ${(n * perMinute).toFixed(0)} |`);
  }
}
