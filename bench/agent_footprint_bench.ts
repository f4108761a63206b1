/**
 * Agent footprint: memory (RSS) and CPU of a connected agent, idle and while it supervises a
 * trading workload that prints lines, and of the control plane serving it (Linux only).
 *
 * Real control plane (`--heartbeat-interval 5 --metrics-interval 1`) and real agent processes
 * on 127.0.0.1, the agent under the scoped flags of `worker-agent permissions` with
 * `log_level: info`. Each phase starts a fresh system, waits until the agent is connected
 * (WebSocket open) and has sent its first samples, then samples once a second for the window
 * (default 60 s): RSS from `/proc/<pid>/status` (`VmRSS`), CPU from the `utime + stime` deltas
 * of `/proc/<pid>/stat` (plus `cutime + cstime`, the children it reaped) over the window, as a
 * percentage of one core. The agent's live children (the collector's `sh` helper) are reported
 * apart, and so is the workload. Run with `deno run -A bench/agent_footprint_bench.ts [seconds]`.
 * Prints a table; asserts nothing.
 */
import { type AgentProcess, startAgent } from "../tests/_helpers/agent_process.ts";
import {
  type ControlPlaneProcess,
  startControlPlane,
} from "../tests/_helpers/control_plane_process.ts";
import { waitFor } from "../tests/_helpers/wait_for.ts";

const WINDOW_S = Number(Deno.args[0] ?? 60);
const CP_ARGS = ["--heartbeat-interval", "5", "--metrics-interval", "1"];
/** About 100 lines a second, and an open-trades line every 50th. */
const WORKLOAD = [
  "/bin/sh",
  "-c",
  'i=0; while :; do i=$((i+1)); echo "tick $i price=101.25 qty=0.5 side=buy venue=loopback"; ' +
  'if [ $((i % 50)) -eq 0 ]; then echo "FTL_ACTIVE_TRADES=$((i / 50 % 7))"; fi; sleep 0.01; done',
];

if (Deno.build.os !== "linux") {
  console.error("agent_footprint_bench reads /proc and runs on Linux only");
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

/** Every live descendant of `root`, except `exclude` and its own descendants. */
async function descendants(root: number, exclude: number | undefined): Promise<number[]> {
  const parent = new Map<number, number>();
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const stat = await procStat(Number(entry.name));
    if (stat) parent.set(Number(entry.name), stat.ppid);
  }
  const found: number[] = [];
  for (const pid of parent.keys()) {
    let p: number | undefined = pid;
    let excluded = false;
    while (p !== undefined && p > 1) {
      if (p === exclude) excluded = true;
      const up = parent.get(p);
      if (up === root) {
        if (!excluded && pid !== exclude) found.push(pid);
        break;
      }
      p = up;
    }
  }
  return found;
}

/** CPU ticks and RSS of a set of processes, sampled over a window. */
class Tracker {
  #start = new Map<number, number>();
  #last = new Map<number, number>();
  rssKb: number[] = [];

  constructor(readonly name: string, readonly withReaped: boolean) {}

  async sample(pids: number[]): Promise<void> {
    let rss = 0;
    let seen = false;
    for (const pid of pids) {
      const stat = await procStat(pid);
      const kb = await rssKb(pid);
      if (!stat || kb === undefined) continue;
      seen = true;
      rss += kb;
      const ticks = stat.own + (this.withReaped ? stat.reaped : 0);
      if (!this.#start.has(pid)) this.#start.set(pid, ticks);
      this.#last.set(pid, ticks);
    }
    if (seen) this.rssKb.push(rss);
  }

  cpuSeconds(): number {
    let ticks = 0;
    for (const [pid, last] of this.#last) ticks += last - (this.#start.get(pid) ?? last);
    return ticks / CLK_TCK;
  }
}

interface PhaseResult {
  phase: string;
  trackers: Tracker[];
  wallS: number;
  samples: number;
  lines: number | undefined;
}

async function adminJson<T>(cp: ControlPlaneProcess, path: string, init?: RequestInit): Promise<T> {
  const res = await cp.admin(path, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${init?.method ?? "GET"} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

async function sampleCount(cp: ControlPlaneProcess, workerId: string): Promise<number> {
  const body = await adminJson<{ samples: unknown[] }>(
    cp,
    `/api/workers/${workerId}/metrics?limit=1000`,
  );
  return body.samples.length;
}

async function tradingLogLines(agent: AgentProcess): Promise<number> {
  let lines = 0;
  for await (const entry of Deno.readDir(agent.stateDir)) {
    if (!entry.isFile || !/trading/.test(entry.name)) continue;
    const text = await Deno.readTextFile(`${agent.stateDir}/${entry.name}`);
    lines += text.split("\n").filter((l) => / out tick /.test(l)).length;
  }
  return lines;
}

/** A deliberate measuring window: one tick a second, not a wait for a condition. */
function tick(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function phase(name: string, trading: boolean): Promise<PhaseResult> {
  const cp = await startControlPlane({ args: CP_ARGS });
  try {
    const apiKey = await cp.createKey("bench");
    const config: Record<string, unknown> = { log_level: "info" };
    if (trading) {
      config.trading_enabled = true;
      config.trading = { command: WORKLOAD };
    }
    const agent = await startAgent({ baseUrl: cp.baseUrl, apiKey, config });
    try {
      const workerId = (await waitFor(async () => {
        const s = await agent.status();
        return s?.state === "connected" && s.websocket === "open" ? s.worker_id : undefined;
      }, { timeoutMs: 30_000, intervalMs: 50, message: "the agent to connect" }))!;
      let workloadPid: number | undefined;
      if (trading) {
        const { command_id } = await adminJson<{ command_id: string }>(
          cp,
          "/api/workers/commands",
          {
            method: "POST",
            body: JSON.stringify({ worker_id: workerId, command_type: "start_trading" }),
          },
        );
        const row = await waitFor(async () => {
          const { commands } = await adminJson<
            { commands: { command_id: string; status: string; result: unknown }[] }
          >(cp, `/api/workers/commands?worker_id=${workerId}&limit=5`);
          const c = commands.find((c) => c.command_id === command_id);
          return c && c.status !== "pending" && c.status !== "delivered" && c.status !== "acked"
            ? c
            : undefined;
        }, { timeoutMs: 15_000, message: "start_trading" });
        workloadPid = (row.result as { data?: { pid?: number } } | null)?.data?.pid;
        if (row.status !== "completed" || workloadPid === undefined) {
          throw new Error(`start_trading: ${JSON.stringify(row)}`);
        }
      }
      // Settle: the first samples are out and the start-up allocations are done.
      await waitFor(async () => await sampleCount(cp, workerId) >= 3, {
        timeoutMs: 20_000,
        message: "the first samples",
      });
      const agentT = new Tracker("agent", true);
      const helperT = new Tracker("agent's helpers (sh)", false);
      const workloadT = new Tracker("workload (sh + sleep)", true);
      const cpT = new Tracker("control plane", true);
      const samples0 = await sampleCount(cp, workerId);
      const lines0 = trading ? await tradingLogLines(agent) : 0;
      const t0 = performance.now();
      for (let s = 0; s <= WINDOW_S; s++) {
        if (s > 0) await tick(t0 + s * 1000 - performance.now());
        await agentT.sample([agent.pid]);
        await helperT.sample(await descendants(agent.pid, workloadPid));
        if (workloadPid !== undefined) await workloadT.sample([workloadPid]);
        await cpT.sample([cp.pid]);
      }
      const wallS = (performance.now() - t0) / 1000;
      const samples = await sampleCount(cp, workerId) - samples0;
      const lines = trading ? await tradingLogLines(agent) - lines0 : undefined;
      const trackers = [agentT, helperT, ...(trading ? [workloadT] : []), cpT];
      return { phase: name, trackers, wallS, samples, lines };
    } finally {
      await agent[Symbol.asyncDispose]();
    }
  } finally {
    await cp.stop();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function mib(kb: number): string {
  return (kb / 1024).toFixed(1);
}

const results = [
  await phase("idle", false),
  await phase("trading workload printing lines", true),
];

console.log(
  `Footprint over ${WINDOW_S} s windows, heartbeat 5 s, metrics 1 s, deno ${Deno.version.deno}, ` +
    `${navigator.hardwareConcurrency} CPUs, CLK_TCK ${CLK_TCK}`,
);
console.log("");
console.log(
  "| phase | process | RSS median MiB | RSS max MiB | RSS first → last MiB | CPU % of one core " +
    "| CPU s |",
);
console.log("|---|---|---:|---:|---:|---:|---:|");
for (const r of results) {
  for (const t of r.trackers) {
    if (t.rssKb.length === 0) {
      console.log(`| ${r.phase} | ${t.name} | – | – | – | – | – |`);
      continue;
    }
    const cpu = t.cpuSeconds();
    console.log(
      `| ${r.phase} | ${t.name} | ${(median(t.rssKb) / 1024).toFixed(1)} | ${
        (Math.max(...t.rssKb) / 1024).toFixed(1)
      } | ${mib(t.rssKb[0]!)} → ${mib(t.rssKb[t.rssKb.length - 1]!)} | ${
        (cpu / r.wallS * 100).toFixed(2)
      } | ${cpu.toFixed(2)} |`,
    );
  }
}
console.log("");
for (const r of results) {
  const lines = r.lines === undefined
    ? ""
    : `, workload lines logged: ${r.lines} (${(r.lines / r.wallS).toFixed(0)}/s)`;
  console.log(
    `- ${r.phase}: window ${r.wallS.toFixed(1)} s, samples stored: ${r.samples}${lines}`,
  );
}
