/**
 * Command latency: how long a `ping` takes from the admin `POST /api/workers/commands` to
 * `completed`, over the WebSocket push and over heartbeat polling alone.
 *
 * Real control plane and real agent processes on 127.0.0.1 (heartbeat 5 s, metrics 1 s). Three
 * paths, N sequential commands each:
 *
 * - `websocket`: agent straight to the control plane;
 * - `websocket via proxy`: through the loopback TCP proxy of the tests (the hop's own cost);
 * - `heartbeat polling`: through the same proxy with WebSocket upgrades refused, so commands
 *   arrive only in heartbeat responses. Before each command the bench waits a random 0–5 s,
 *   so commands land at a random phase of the 5 s heartbeat cycle, as real ones do.
 *
 * Figures per path (median / p95 / max, ms): the server's own timestamps (`created_at` →
 * `delivered_at`, → `acked_at`, → `finished_at`; `acked_at` is set only by a WebSocket ack),
 * and the time the bench saw `completed` in the admin API after starting the POST (the admin
 * API is polled every 5 ms, so add up to 5 ms of granularity). Run with
 * `deno run -A bench/command_latency_bench.ts [N]`. Prints a table; asserts nothing.
 */
import { type AgentProcess, startAgent } from "../tests/_helpers/agent_process.ts";
import {
  type ControlPlaneProcess,
  startControlPlane,
} from "../tests/_helpers/control_plane_process.ts";
import { startTcpProxy, type TcpProxy } from "../tests/_helpers/tcp_proxy.ts";
import { waitFor } from "../tests/_helpers/wait_for.ts";

const N = Number(Deno.args[0] ?? 50);
const CP_ARGS = ["--heartbeat-interval", "5", "--metrics-interval", "1"];
const POLL_MS = 5;
const HEARTBEAT_MS = 5_000;

interface Row {
  command_id: string;
  status: string;
  created_at: number;
  delivered_at: number | null;
  acked_at: number | null;
  finished_at: number | null;
  result: { finished_at?: number } | null;
}

interface Run {
  path: string;
  delivered: number[];
  ack: number[];
  ran: number[];
  finished: number[];
  observed: number[];
  via: Map<string, number>;
  failures: number;
  /** Result posts answered 429 (the per-key rate limit) before they were stored. */
  limited: number;
}

async function adminJson<T>(cp: ControlPlaneProcess, path: string, init?: RequestInit): Promise<T> {
  const res = await cp.admin(path, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${init?.method ?? "GET"} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

async function connected(agent: AgentProcess, websocket: boolean): Promise<string> {
  const status = await waitFor(async () => {
    const s = await agent.status();
    if (!s || s.state !== "connected" || s.worker_id === null) return undefined;
    if (websocket !== (s.websocket === "open")) return undefined;
    return s;
  }, { timeoutMs: 30_000, intervalMs: 50, message: "the agent to connect" });
  return status.worker_id!;
}

/** Random phase in the heartbeat cycle: a deliberate gap, not a wait for a condition. */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function measure(
  path: string,
  cp: ControlPlaneProcess,
  agent: AgentProcess,
  workerId: string,
  randomGapMs: number,
): Promise<Run> {
  const run: Run = {
    path,
    delivered: [],
    ack: [],
    ran: [],
    finished: [],
    observed: [],
    via: new Map(),
    failures: 0,
    limited: 0,
  };
  // One warm-up command, not counted.
  for (let i = -1; i < N; i++) {
    if (randomGapMs > 0) await pause(Math.random() * randomGapMs);
    const t0 = performance.now();
    const { command_id } = await adminJson<{ command_id: string }>(cp, "/api/workers/commands", {
      method: "POST",
      body: JSON.stringify({ worker_id: workerId, command_type: "ping", timeout_seconds: 30 }),
    });
    const row = await waitFor(async () => {
      const { commands } = await adminJson<{ commands: Row[] }>(
        cp,
        `/api/workers/commands?worker_id=${workerId}&limit=1`,
      );
      const c = commands[0];
      return c?.command_id === command_id && ["completed", "failed", "timeout"].includes(c.status)
        ? c
        : undefined;
    }, { timeoutMs: 30_000, intervalMs: POLL_MS, message: `command ${command_id}` });
    const observed = performance.now() - t0;
    if (i < 0) continue;
    if (row.status !== "completed" || row.finished_at === null) {
      run.failures++;
      continue;
    }
    run.observed.push(observed);
    run.finished.push(row.finished_at - row.created_at);
    if (row.delivered_at !== null) run.delivered.push(row.delivered_at - row.created_at);
    if (row.acked_at !== null) run.ack.push(row.acked_at - row.created_at);
    const ran = row.result?.finished_at;
    if (typeof ran === "number") run.ran.push(ran - row.created_at);
    run.limited += rateLimitedResultPosts(cp, command_id);
    const via = new RegExp(`command accepted command_id=${command_id} type=ping via=(\\w+)`)
      .exec(agent.output())?.[1] ?? "?";
    run.via.set(via, (run.via.get(via) ?? 0) + 1);
  }
  return run;
}

/** The result posts of `commandId` the control plane answered 429 (its request log). */
function rateLimitedResultPosts(cp: ControlPlaneProcess, commandId: string): number {
  return cp.output().split(`/commands/${commandId}/result status=429`).length - 1;
}

function stats(values: number[]): string {
  if (values.length === 0) return "– | – | –";
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  const fmt = (v: number) => v < 100 ? v.toFixed(1) : v.toFixed(0);
  return `${fmt(at(0.5))} | ${fmt(at(0.95))} | ${fmt(sorted[sorted.length - 1]!)}`;
}

async function withSystem<T>(
  mode: "direct" | "proxy" | "polling",
  body: (cp: ControlPlaneProcess, agent: AgentProcess, workerId: string) => Promise<T>,
): Promise<T> {
  let proxy: TcpProxy | undefined;
  if (mode !== "direct") {
    proxy = startTcpProxy();
    proxy.blockUpgrades = mode === "polling";
  }
  try {
    const cp = await startControlPlane({
      args: proxy ? [...CP_ARGS, "--public-url", `http://127.0.0.1:${proxy.port}`] : [...CP_ARGS],
    });
    try {
      if (proxy) proxy.targetPort = cp.port;
      const apiKey = await cp.createKey("bench");
      const baseUrl = proxy ? `http://127.0.0.1:${proxy.port}` : cp.baseUrl;
      const agent = await startAgent({ baseUrl, apiKey, config: { log_level: "info" } });
      try {
        const workerId = await connected(agent, mode !== "polling");
        return await body(cp, agent, workerId);
      } finally {
        await agent[Symbol.asyncDispose]();
      }
    } finally {
      await cp.stop();
    }
  } finally {
    await proxy?.close();
  }
}

const runs: Run[] = [];
const started = performance.now();
runs.push(await withSystem("direct", (cp, agent, id) => measure("websocket", cp, agent, id, 0)));
runs.push(
  await withSystem("proxy", (cp, agent, id) => measure("websocket via proxy", cp, agent, id, 0)),
);
runs.push(
  await withSystem(
    "polling",
    (cp, agent, id) => measure("heartbeat polling (5 s)", cp, agent, id, HEARTBEAT_MS),
  ),
);

console.log(
  `Command latency, ping, N=${N} sequential per path after 1 warm-up; ` +
    `deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs, ` +
    `${((performance.now() - started) / 1000).toFixed(0)} s in all`,
);
console.log("");
console.log("| path | measure | n | median ms | p95 ms | max ms |");
console.log("|---|---|---:|---:|---:|---:|");
for (const run of runs) {
  const via = [...run.via].map(([k, v]) => `${k} ×${v}`).join(", ");
  const rows: [string, number[]][] = [
    ["created → first delivered (server clock)", run.delivered],
    ["created → acked (server clock)", run.ack],
    ["created → ping done (agent's finished_at, same host)", run.ran],
    ["created → completed (server clock)", run.finished],
    ["POST → completed seen by the bench", run.observed],
  ];
  for (const [measure, values] of rows) {
    console.log(`| ${run.path} | ${measure} | ${values.length} | ${stats(values)} |`);
  }
  console.log(
    `| ${run.path} | delivered via (agent log): ${via || "–"}; failed: ${run.failures}; ` +
      `result posts answered 429: ${run.limited} | | | | |`,
  );
}
