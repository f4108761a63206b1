/**
 * Agent footprint against a baseline, and the command round trip (Linux only; issue 17).
 *
 * One real control plane (127.0.0.1, temp data dir) per row; the real agent (`main.ts run`,
 * under the scoped flags `worker-agent permissions` prints for its config, `log_level: info`)
 * and the baseline (`bench/baseline_worker.ts`: a bare Deno script that registers, heartbeats
 * and holds one WebSocket answering pings) run side by side against it, each with its own key.
 * Once both are connected, the agent's first sample is stored and `--settle` seconds (default
 * 35: past the first heartbeat cycle) have passed, both process trees are
 * sampled once a second for the window: RSS as the sum of `VmRSS` over the tree (root and live
 * descendants, from `/proc`), reported as the max over the window; CPU as the `utime + stime`
 * delta of the tree (plus `cutime + cstime` of the root: children it reaped) over the window, as
 * a percentage of one core.
 *
 * Rows:
 * - `idle`: default intervals (heartbeat 30 s, metrics 10 s) for both.
 * - `idle-1s` (`--fast`): the old figures: heartbeat 5 s, metrics 1 s.
 * - `workload` (`--workload`): default intervals, the agent supervising a `/bin/sh` loop that
 *   prints about 90 lines a second; RSS compared with the idle row's.
 * - `roundtrip` (`--commands=N`, 0 = skip): N `ping` commands queued with the admin API at
 *   `--rate` per second, each `created_at` → `finished_at` on the server clock.
 *
 * `deno run -A bench/footprint_bench.ts [--window=60] [--settle=35] [--fast] [--workload]
 * [--commands=200] [--rate=10] [--v8-flags=a,b] [--entry=path] [--only-agent] [--skip-idle]`:
 * `--v8-flags` and `--entry` run the agent with extra V8 flags or from another script (a
 * `deno bundle` output), for trials.
 * Prints a table; asserts nothing.
 */
import { parseArgs } from "node:util";
import { type AgentProcess, startAgent } from "../tests/_helpers/agent_process.ts";
import {
  type ControlPlaneProcess,
  startControlPlane,
} from "../tests/_helpers/control_plane_process.ts";
import { waitFor } from "../tests/_helpers/wait_for.ts";
import { Admin, connectedWorkerId } from "../tests/agent/_e2e.ts";
import { DEFAULT_COMMAND_TIMEOUT_SECONDS } from "../src/control_plane/app.ts";

const { values: opts } = parseArgs({
  args: Deno.args,
  options: {
    window: { type: "string", default: "60" },
    settle: { type: "string", default: "35" },
    fast: { type: "boolean", default: false },
    workload: { type: "boolean", default: false },
    commands: { type: "string", default: "0" },
    rate: { type: "string", default: "10" },
    "v8-flags": { type: "string" },
    entry: { type: "string" },
    "only-agent": { type: "boolean", default: false },
    "skip-idle": { type: "boolean", default: false },
  },
});
const WINDOW_S = Number(opts.window);
const SETTLE_S = Number(opts.settle);
const COMMANDS = Number(opts.commands);
const RATE = Number(opts.rate);
const AGENT_RUNTIME_FLAGS = opts["v8-flags"] ? [`--v8-flags=${opts["v8-flags"]}`] : [];
const BASELINE = new URL("./baseline_worker.ts", import.meta.url).pathname;

/** About 90 lines a second, and an open-trades line every 50th. */
const WORKLOAD = [
  "/bin/sh",
  "-c",
  'i=0; while :; do i=$((i+1)); echo "tick $i price=101.25 qty=0.5 side=buy venue=loopback"; ' +
  'if [ $((i % 50)) -eq 0 ]; then echo "FTL_ACTIVE_TRADES=$((i / 50 % 7))"; fi; sleep 0.01; done',
];

if (Deno.build.os !== "linux") {
  console.error("footprint_bench reads /proc and runs on Linux only");
  Deno.exit(0);
}

const CLK_TCK = await (async () => {
  try {
    const out = await new Deno.Command("getconf", { args: ["CLK_TCK"], stderr: "null" }).output();
    const n = Number(new TextDecoder().decode(out.stdout).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

interface ProcStat {
  ppid: number;
  /** utime + stime, in ticks. */
  own: number;
  /** cutime + cstime, in ticks. */
  reaped: number;
}

async function procStat(pid: number): Promise<ProcStat | undefined> {
  try {
    const text = await Deno.readTextFile(`/proc/${pid}/stat`);
    const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return {
      ppid: Number(f[1]),
      own: Number(f[11]) + Number(f[12]),
      reaped: Number(f[13]) + Number(f[14]),
    };
  } catch {
    return undefined;
  }
}

async function rssKb(pid: number): Promise<number | undefined> {
  try {
    const text = await Deno.readTextFile(`/proc/${pid}/status`);
    const m = /^VmRSS:\s+(\d+) kB/m.exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** `root` and every live descendant of it. */
async function tree(root: number): Promise<number[]> {
  const parent = new Map<number, number>();
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const stat = await procStat(Number(entry.name));
    if (stat) parent.set(Number(entry.name), stat.ppid);
  }
  const found = [root];
  for (const pid of parent.keys()) {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) {
      if (p === root) {
        found.push(pid);
        break;
      }
    }
  }
  return found;
}

/** RSS and CPU ticks of one process tree, sampled over a window. */
class TreeTracker {
  #start = new Map<number, number>();
  #last = new Map<number, number>();
  rssKb: number[] = [];

  constructor(readonly root: number) {}

  async sample(): Promise<void> {
    let rss = 0;
    for (const pid of await tree(this.root)) {
      const stat = await procStat(pid);
      const kb = await rssKb(pid);
      if (!stat || kb === undefined) continue;
      rss += kb;
      const ticks = stat.own + (pid === this.root ? stat.reaped : 0);
      if (!this.#start.has(pid)) this.#start.set(pid, ticks);
      this.#last.set(pid, ticks);
    }
    this.rssKb.push(rss);
  }

  cpuSeconds(): number {
    let ticks = 0;
    for (const [pid, last] of this.#last) ticks += last - (this.#start.get(pid) ?? last);
    return ticks / CLK_TCK;
  }

  maxMiB(): number {
    return Math.max(...this.rssKb) / 1024;
  }

  medianMiB(): number {
    const sorted = [...this.rssKb].sort((a, b) => a - b);
    return (sorted[Math.floor(sorted.length / 2)] ?? NaN) / 1024;
  }
}

interface Baseline {
  pid: number;
  stop(): Promise<void>;
}

async function startBaseline(cp: ControlPlaneProcess, heartbeatS: number): Promise<Baseline> {
  const key = await cp.createKey("baseline");
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-net=127.0.0.1", BASELINE, cp.baseUrl, key, `${heartbeatS}`],
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const ready = (async () => {
    while (!seen.includes("ready")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("the baseline exited before its WebSocket opened");
      seen += value;
    }
  })();
  await Promise.race([
    ready,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error("the baseline did not connect in 20 s")), 20_000)
    ),
  ]);
  // Keep draining stdout so the child never blocks on a full pipe.
  void (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })().catch(() => {});
  return {
    pid: child.pid,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
    },
  };
}

interface CommandRow {
  command_id: string;
  status: string;
  created_at: unknown;
  delivered_at: unknown;
  acked_at: unknown;
  finished_at: unknown;
  result: { started_at?: unknown; finished_at?: unknown } | null;
}

/** The steps of one round trip, ms (server and agent share the host clock). */
const STEPS: [string, (r: CommandRow) => number][] = [
  ["created → delivered (server: queue, sign, send)", (r) => ms(r.delivered_at) - ms(r.created_at)],
  [
    "delivered → started (WebSocket, agent verify, seen-id fsync)",
    (r) => ms(r.result?.started_at) - ms(r.delivered_at),
  ],
  ["started → done (execute)", (r) => ms(r.result?.finished_at) - ms(r.result?.started_at)],
  [
    "done → finished_at (outbox store, result POST, server store)",
    (r) => ms(r.finished_at) - ms(r.result?.finished_at),
  ],
  ["created → acked (server clock)", (r) => ms(r.acked_at) - ms(r.created_at)],
  ["created → finished_at (round trip)", (r) => ms(r.finished_at) - ms(r.created_at)],
];

/** The round trips of `ids` once all have finished (the server's default timeout). */
async function finishedCommands(
  admin: Admin,
  workerId: string,
  ids: string[],
): Promise<CommandRow[]> {
  const want = new Set(ids);
  return await waitFor(async () => {
    const { commands } = await admin.json<{ commands: CommandRow[] }>(
      `/api/workers/commands?worker_id=${workerId}&limit=1000`,
    );
    const done = commands.filter((c) =>
      want.has(c.command_id) && ["completed", "failed", "timeout"].includes(c.status)
    );
    return done.length === ids.length ? done : undefined;
  }, { timeoutMs: 120_000, intervalMs: 100, message: "the commands to finish" });
}

/** Unix ms of a command time, which is ms or an ISO string. */
function ms(value: unknown): number {
  return typeof value === "string" ? Date.parse(value) : Number(value);
}

function pct(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** A deliberate measuring window: one tick a second, not a wait for a condition. */
function tick(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

interface RowResult {
  row: string;
  agent: TreeTracker;
  baseline: TreeTracker | undefined;
  wallS: number;
  samples: number;
  roundTrips?: { n: number; completed: number; rows: CommandRow[] };
}

interface RowOptions {
  row: string;
  heartbeatS: number;
  metricsS: number;
  workload: boolean;
  commands: number;
}

async function runRow(o: RowOptions): Promise<RowResult> {
  const cp = await startControlPlane({
    args: ["--heartbeat-interval", `${o.heartbeatS}`, "--metrics-interval", `${o.metricsS}`],
  });
  const admin = new Admin(cp);
  try {
    const config: Record<string, unknown> = {
      log_level: "info",
      heartbeat_interval_seconds: o.heartbeatS,
      metrics_interval_seconds: o.metricsS,
    };
    if (o.workload) {
      config.trading_enabled = true;
      config.trading = { command: WORKLOAD };
    }
    const agent: AgentProcess = await startAgent({
      baseUrl: cp.baseUrl,
      apiKey: await cp.createKey("agent"),
      config,
      runtimeFlags: AGENT_RUNTIME_FLAGS,
      ...(opts.entry ? { entry: opts.entry } : {}),
    });
    const baseline = opts["only-agent"] ? undefined : await startBaseline(cp, o.heartbeatS);
    try {
      const workerId = await connectedWorkerId(agent, { websocket: "open" });
      const sampleCount = async () => (await admin.samples(workerId)).length;
      const queue = (type: string) =>
        admin.command(workerId, type, {}, DEFAULT_COMMAND_TIMEOUT_SECONDS);
      if (o.workload) {
        const [row] = await finishedCommands(admin, workerId, [await queue("start_trading")]);
        if (row?.status !== "completed") throw new Error(`start_trading: ${JSON.stringify(row)}`);
      }
      await waitFor(async () => await sampleCount() >= 1, {
        timeoutMs: 60_000,
        intervalMs: 200,
        message: "the first sample",
      });
      // Settle: past the first heartbeat cycle, so code run once at start (and compiled then)
      // is not counted as idle cost. A deliberate wait, not a wait for a condition.
      if (o.commands === 0) await tick(SETTLE_S * 1000);
      const agentT = new TreeTracker(agent.pid);
      const baselineT = baseline ? new TreeTracker(baseline.pid) : undefined;
      const samples0 = await sampleCount();
      const t0 = performance.now();
      for (let s = 0; s <= (o.commands > 0 ? 0 : WINDOW_S); s++) {
        if (s > 0) await tick(t0 + s * 1000 - performance.now());
        await agentT.sample();
        await baselineT?.sample();
      }
      const wallS = (performance.now() - t0) / 1000;
      const samples = await sampleCount() - samples0;
      const result: RowResult = { row: o.row, agent: agentT, baseline: baselineT, wallS, samples };
      if (o.commands > 0) {
        const ids: string[] = [];
        const c0 = performance.now();
        for (let i = 0; i < o.commands; i++) {
          await tick(c0 + i * (1000 / RATE) - performance.now());
          ids.push(await queue("ping"));
        }
        const rows = await finishedCommands(admin, workerId, ids);
        result.roundTrips = {
          n: o.commands,
          completed: rows.filter((r) => r.status === "completed").length,
          rows,
        };
      }
      return result;
    } finally {
      await baseline?.stop();
      await agent[Symbol.asyncDispose]();
    }
  } finally {
    await cp.stop();
  }
}

/** The rows asked for, in order: default intervals unless a row says otherwise. */
const ROWS: (Partial<RowOptions> & { row: string; on: boolean })[] = [
  { row: "idle", on: !opts["skip-idle"] },
  { row: "idle, 1 s intervals", on: opts.fast, heartbeatS: 5, metricsS: 1 },
  { row: "workload ~90 lines/s", on: opts.workload, workload: true },
  { row: "round trip", on: COMMANDS > 0, commands: COMMANDS },
];
const rows: RowResult[] = [];
for (const { on, ...row } of ROWS) {
  if (!on) continue;
  rows.push(await runRow({ heartbeatS: 30, metricsS: 10, workload: false, commands: 0, ...row }));
}

const load = (await Deno.readTextFile("/proc/loadavg").catch(() => "?")).split(" ").slice(0, 3);
console.log(
  `Footprint over ${WINDOW_S} s windows, deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs, ` +
    `load average ${load.join(" ")} at the end${
      AGENT_RUNTIME_FLAGS.length ? `, agent ${AGENT_RUNTIME_FLAGS.join(" ")}` : ""
    }${opts.entry ? `, agent entry ${opts.entry}` : ""}`,
);
console.log("");
console.log(
  "| row | agent RSS max MiB | baseline RSS max MiB | RSS ratio | agent RSS median MiB | agent CPU % of one core | baseline CPU % | agent CPU s | samples stored |",
);
console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
const idle = rows.find((r) => r.row === "idle");
for (const r of rows) {
  if (r.roundTrips) continue;
  const a = r.agent.maxMiB();
  const b = r.baseline?.maxMiB();
  const ratio = r.row.startsWith("workload")
    ? idle ? `${(a / idle.agent.maxMiB()).toFixed(2)}× idle` : "–"
    : b === undefined
    ? "–"
    : `${(a / b).toFixed(2)}×`;
  const cpuA = r.agent.cpuSeconds();
  const cpuB = r.baseline?.cpuSeconds();
  console.log(
    `| ${r.row} | ${a.toFixed(1)} | ${b?.toFixed(1) ?? "–"} | ${ratio} | ${
      r.agent.medianMiB().toFixed(1)
    } | ${(cpuA / r.wallS * 100).toFixed(3)} | ${
      cpuB === undefined ? "–" : (cpuB / r.wallS * 100).toFixed(3)
    } | ${cpuA.toFixed(2)} | ${r.samples} |`,
  );
}
for (const r of rows) {
  if (!r.roundTrips) continue;
  const t = r.roundTrips;
  console.log("");
  console.log(
    `Command round trip: ${t.n} pings at ${RATE}/s, ${t.completed} completed (server and agent on one clock)`,
  );
  console.log("");
  console.log("| step | median ms | p99 ms | max ms |");
  console.log("|---|---:|---:|---:|");
  for (const [name, f] of STEPS) {
    const values = t.rows.map(f).filter(Number.isFinite).sort((a, b) => a - b);
    if (values.length === 0) continue;
    console.log(`| ${name} | ${pct(values, 0.5)} | ${pct(values, 0.99)} | ${values.at(-1)} |`);
  }
}
