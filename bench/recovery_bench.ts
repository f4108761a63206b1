/**
 * Recovery after an outage (issue 15). Two cases, each printing a table:
 *
 * - `single`: one real agent and the real control plane (default intervals: heartbeat 30 s,
 *   metrics 10 s). The control plane is SIGKILLed, kept down for the outage, and restarted on
 *   the same port and data dir; a `ping` is queued as soon as it listens again. Measured from
 *   that moment: the agent's first heartbeat (server clock), its WebSocket open (its log line
 *   `WebSocket command channel open`, watched every 25 ms) and the ping completed (server clock). Goal: each
 *   within max(2 s, half the outage), p99 over the runs.
 * - `fleet`: N simulated agents (default 2,000) in this process, each following the agent's
 *   retry rule (`Backoff` + `Reachability` of `src/shared/backoff.ts`: register, heartbeat
 *   every 30 s, one WebSocket). First the cold start (all register at once), then the control
 *   plane is killed for the outage (default 10 s) and restarted: time until 99 % and 100 % of
 *   the agents are back (a heartbeat answered and a WebSocket welcomed after the restart),
 *   peak rates, 503/429 and other failures, the server's CPU and RSS during the wave, and the
 *   admin API's latency (`GET /api/workers?limit=50`, one call at a time) during the wave.
 *
 * ```
 * deno run -A bench/recovery_bench.ts single [--outages 5,10,30,120] [--runs 10]
 * deno run -A bench/recovery_bench.ts fleet [--agents 2000] [--outage 10]
 *   [--max-concurrent-registers N] [--max-concurrent-upgrades N] [--client rule|light]
 * ```
 *
 * The simulated agents are this file's own minimal client: what is measured is the agent's
 * retry rule, so they use the agent's code for it. The fleet bench's light client
 * (`tests/_helpers/light_agent.ts`) retries on the exponent alone; `--client light` runs the
 * same outage with it, for comparison (a fleet without the v1.1 rule).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { FLEET_SERVER_ARGS, processUsage } from "./_process_usage.ts";
import { connectedWorkerId, startSystem } from "../tests/agent/_e2e.ts";
import { startControlPlane } from "../tests/_helpers/control_plane_process.ts";
import { waitFor } from "../tests/_helpers/wait_for.ts";
import { Backoff, Reachability } from "../src/shared/backoff.ts";
import { abortableDelay } from "../src/shared/delay.ts";
import { Wake } from "../src/shared/wake.ts";
import { Paths } from "../src/protocol/mod.ts";
import { openWorkerSocket } from "../src/client/worker_socket.ts";
import { parseRetryAfter } from "../src/client/api_outcome.ts";
import { startLightFleet } from "../tests/_helpers/light_agent.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    outages: { type: "string", default: "5,10,30,120" },
    runs: { type: "string", default: "10" },
    agents: { type: "string", default: "2000" },
    outage: { type: "string", default: "10" },
    "max-concurrent-registers": { type: "string" },
    "max-concurrent-upgrades": { type: "string" },
    client: { type: "string", default: "rule" },
  },
});

/** Nearest-rank quantile; NaN for no values. */
function pct(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const s = (ms: number) => Number.isFinite(ms) ? (ms / 1000).toFixed(2) : "n/a";

function machine(): string {
  return `deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs, ${
    new Date().toISOString()
  }`;
}

// ------------------------------------------------------------------------------- single

async function single(outages: number[], runs: number): Promise<void> {
  await using sys = await startSystem({
    cp: { args: ["--heartbeat-interval", "30", "--metrics-interval", "10", "--log-level", "info"] },
  });
  const { agent, admin, cp } = sys;
  const workerId = await connectedWorkerId(agent, { websocket: "open" });
  const rows: string[] = [];
  for (const outageS of outages) {
    const hb: number[] = [];
    const ws: number[] = [];
    const ping: number[] = [];
    for (let run = 0; run < runs; run++) {
      // Back to normal first, then a random point in the heartbeat cycle.
      await waitFor(async () => {
        const st = await agent.status();
        return st?.state === "connected" && st.websocket === "open";
      }, { timeoutMs: 120_000, message: "the agent to be connected before the next run" });
      await abortableDelay(Math.random() * 5_000);
      await cp.kill("SIGKILL");
      const killedAt = Date.now();
      await abortableDelay(killedAt + outageS * 1000 - Date.now());
      const mark = agent.output().length;
      await cp.restart();
      const listeningAt = Date.now();
      const pingId = await admin.command(workerId, "ping");
      const times = { hb: NaN, ws: NaN, ping: NaN };
      await waitFor(async () => {
        // The agent's log line, read as it comes (status.json is written at most once a second).
        const out = agent.output();
        if (
          Number.isNaN(times.ws) &&
          (out.length >= mark ? out.slice(mark) : out).includes("WebSocket command channel open")
        ) times.ws = Date.now() - listeningAt;
        if (Number.isNaN(times.hb)) {
          const w = await admin.json<{ worker: { last_heartbeat: number | null } }>(
            `/api/workers/${workerId}`,
          );
          const last = w.worker.last_heartbeat;
          if (last !== null && last > killedAt) times.hb = last - listeningAt;
        }
        if (Number.isNaN(times.ping)) {
          const row = (await admin.commands(workerId)).find((c) => c.command_id === pingId) as
            | { status: string; finished_at?: unknown }
            | undefined;
          if (row?.status === "completed") {
            const f = row.finished_at;
            times.ping = (typeof f === "string" ? Date.parse(f) : Number(f)) - listeningAt;
          }
        }
        return !Number.isNaN(times.hb) && !Number.isNaN(times.ws) && !Number.isNaN(times.ping);
      }, { timeoutMs: 180_000, intervalMs: 25, message: "the agent to be back" });
      hb.push(times.hb);
      ws.push(times.ws);
      ping.push(times.ping);
      console.error(
        `outage ${outageS} s run ${run + 1}: heartbeat ${s(times.hb)} s, WebSocket ${
          s(times.ws)
        } s, ping ${s(times.ping)} s`,
      );
    }
    const goal = Math.max(2_000, outageS * 500);
    const worst = Math.max(pct(hb, 0.99), pct(ws, 0.99), pct(ping, 0.99));
    rows.push(
      `| ${outageS} s | ${runs} | ${s(pct(hb, 0.5))} / ${s(pct(hb, 0.99))} | ${s(pct(ws, 0.5))} / ${
        s(pct(ws, 0.99))
      } | ${s(pct(ping, 0.5))} / ${s(pct(ping, 0.99))} | ${s(goal)} | ${
        worst <= goal ? "met" : `missed by ${s(worst - goal)} s`
      } |`,
    );
  }
  console.log(`\nrecovery of one real agent (heartbeat 30 s), ${machine()}\n`);
  console.log(
    "| outage | runs | first heartbeat p50 / p99 (s) | WebSocket open p50 / p99 (s) | queued ping done p50 / p99 (s) | goal (s) | goal |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  for (const row of rows) console.log(row);
}

// -------------------------------------------------------------------------------- fleet

type Kind = "register" | "heartbeat" | "upgrade";

/** Counts by kind and status, and successes per second since `since`. */
class Stats {
  counts = new Map<string, number>();
  perSecond = new Map<string, Map<number, number>>();
  registerLatency: number[] = [];
  since = 0;
  note(kind: Kind, status: number): void {
    const key = `${kind} ${status}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    if (status === 200 || status === 101) {
      const second = Math.floor((Date.now() - this.since) / 1000);
      const buckets = this.perSecond.get(kind) ?? new Map<number, number>();
      buckets.set(second, (buckets.get(second) ?? 0) + 1);
      this.perSecond.set(kind, buckets);
    }
  }
  reset(since: number): void {
    this.counts.clear();
    this.perSecond.clear();
    this.registerLatency = [];
    this.since = since;
  }
  count(predicate: (kind: string, status: number) => boolean): number {
    let n = 0;
    for (const [key, value] of this.counts) {
      const [kind, status] = key.split(" ");
      if (predicate(kind!, Number(status))) n += value;
    }
    return n;
  }
  peak(kind: Kind): number {
    return Math.max(0, ...(this.perSecond.get(kind)?.values() ?? []));
  }
}

/** One simulated agent: the agent's retry rule, nothing else. */
class SimAgent {
  readonly reach = new Reachability();
  readonly instanceId = crypto.randomUUID();
  readonly socketReopened = new Wake();
  #sessions = 0;
  workerId: string | undefined;
  wsUrl: string | undefined;
  heartbeatOkAt = 0;
  welcomeAt = 0;
  #socket: WebSocket | undefined;

  constructor(
    readonly baseUrl: string,
    readonly key: string,
    readonly index: number,
    readonly stats: Stats,
    readonly heartbeatMs: number,
  ) {}

  async #post(kind: Kind, path: string, body: unknown) {
    const started = Date.now();
    try {
      const res = await fetch(this.baseUrl + path, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-API-Key": this.key },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await res.text();
      this.stats.note(kind, res.status);
      if (kind === "register" && res.status === 200) {
        this.stats.registerLatency.push(Date.now() - started);
      }
      const retryAfterMs = parseRetryAfter(res.headers.get("Retry-After"), Date.now());
      if (res.ok) this.reach.reached();
      else if (res.status === 429 || res.status >= 500) this.reach.lost();
      return { status: res.status, json: res.ok ? JSON.parse(text) : undefined, retryAfterMs };
    } catch {
      this.stats.note(kind, 0);
      this.reach.lost();
      return { status: 0, json: undefined, retryAfterMs: undefined };
    }
  }

  async #retryWait(backoff: Backoff, retryAfterMs: number | undefined, signal: AbortSignal) {
    const wait = backoff.retryWait(retryAfterMs, this.heartbeatMs);
    if (retryAfterMs !== undefined) await abortableDelay(wait, signal);
    else await this.reach.wait(wait, signal);
  }

  async register(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff({ reachability: this.reach });
    while (!signal.aborted) {
      const r = await this.#post("register", Paths.register, {
        hostname: `recovery-${this.index}`,
        platform: "linux",
        version: "0.0.0-bench",
        instance_id: this.instanceId,
      });
      if (r.status === 200) {
        this.workerId = r.json.worker_id;
        this.wsUrl = r.json.websocket_url;
        return;
      }
      await this.#retryWait(backoff, r.retryAfterMs, signal);
    }
  }

  async heartbeatLoop(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff({ reachability: this.reach });
    while (!signal.aborted) {
      if (this.workerId === undefined) await this.register(signal);
      if (signal.aborted) return;
      const r = await this.#post("heartbeat", Paths.heartbeat(this.workerId!), {
        status: "online",
        current_load: 0,
      });
      if (r.status === 200) {
        backoff.healthy();
        this.heartbeatOkAt = Date.now();
        await this.socketReopened.wait(this.heartbeatMs, signal);
      } else if (r.status === 404) {
        this.workerId = undefined;
        await abortableDelay(backoff.next(), signal);
      } else if (r.status === 0 || r.status === 429 || r.status >= 500) {
        await this.#retryWait(backoff, r.retryAfterMs, signal);
      } else await abortableDelay(60_000, signal);
    }
  }

  async socketLoop(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff({ reachability: this.reach });
    signal.addEventListener("abort", () => this.#socket?.close(), { once: true });
    while (!signal.aborted) {
      if (this.workerId === undefined || this.wsUrl === undefined) {
        await abortableDelay(200, signal);
        continue;
      }
      const end = await this.#session(this.wsUrl, this.workerId);
      if (signal.aborted) return;
      this.reach.lost(end.welcomed ? end.closedAt : undefined);
      await this.reach.wait(backoff.retryWait(undefined), signal);
      if (end.welcomed) backoff.healthy();
    }
  }

  #session(url: string, workerId: string): Promise<{ welcomed: boolean; closedAt: number }> {
    return new Promise((resolve) => {
      let welcomed = false;
      let error = "";
      const socket = openWorkerSocket({
        url,
        apiKey: this.key,
        workerId,
        instanceId: this.instanceId,
      });
      this.#socket = socket;
      socket.onerror = (e) => error = (e as ErrorEvent).message ?? "";
      socket.onmessage = (event) => {
        const frame = JSON.parse(String(event.data));
        if (frame.type === "welcome") {
          welcomed = true;
          this.welcomeAt = Date.now();
          if (this.#sessions++ > 0) this.socketReopened.notify();
          this.stats.note("upgrade", 101);
          this.reach.reached();
        } else if (frame.type === "ping") {
          socket.send(JSON.stringify({ type: "pong", ts: frame.ts }));
        }
      };
      socket.onclose = () => {
        if (!welcomed) this.stats.note("upgrade", Number(/(\d{3})/.exec(error)?.[1] ?? 0));
        resolve({ welcomed, closedAt: Date.now() });
      };
    });
  }
}

/** CPU (user + system, ms) and RSS (bytes) of `pid`, from /proc. */
async function usage(pid: number): Promise<{ cpuMs: number; rss: number } | undefined> {
  const u = await processUsage(pid);
  return u && { cpuMs: u.cpuMs, rss: u.rssKb * 1024 };
}

/** What {@linkcode watchServer} saw. */
interface ServerWatch {
  avgCpu: number;
  peakCpu: number;
  peakRss: number;
  adminLatency: number[];
  adminStatuses: Record<string, number>;
}

/**
 * Samples the server's CPU and RSS every 100 ms (peak CPU over 1 s windows) and probes its
 * admin API from a Web Worker, until `stop()`.
 */
function watchServer(
  baseUrl: string,
  token: string,
  pid: number,
): { stop(): Promise<ServerWatch> } {
  const since = Date.now();
  let running = true;
  let peakRss = 0;
  let peakCpu = 0;
  const probe = new Worker(new URL("./_admin_probe.ts", import.meta.url), { type: "module" });
  probe.postMessage({ url: baseUrl, token, intervalMs: 100 });
  const firstUsage = usage(pid);
  const monitor = (async () => {
    const first = await firstUsage;
    let last = first && { ...first, at: Date.now() };
    while (running) {
      const now = await usage(pid);
      if (now && last && Date.now() - last.at >= 1000) {
        peakCpu = Math.max(peakCpu, (now.cpuMs - last.cpuMs) / (Date.now() - last.at));
        last = { ...now, at: Date.now() };
      }
      if (now) peakRss = Math.max(peakRss, now.rss);
      await abortableDelay(100);
    }
  })();
  return {
    async stop() {
      running = false;
      await monitor;
      const probed = new Promise<{ latencies: number[]; statuses: Record<string, number> }>(
        (resolve) => probe.onmessage = (event) => resolve(event.data),
      );
      probe.postMessage("stop");
      const { latencies, statuses } = await probed;
      probe.terminate();
      const first = await firstUsage;
      const end = await usage(pid);
      const avgCpu = first && end ? (end.cpuMs - first.cpuMs) / (Date.now() - since) : NaN;
      return { avgCpu, peakCpu, peakRss, adminLatency: latencies, adminStatuses: statuses };
    },
  };
}

async function fleet(count: number, outageS: number): Promise<void> {
  const caps = capArgs();
  await using cp = await startControlPlane({
    args: [
      ...FLEET_SERVER_ARGS,
      ...caps,
    ],
  });
  const heartbeatMs = 30_000;
  console.error(`creating ${count} keys`);
  const keys: string[] = [];
  for (let i = 0; i < count; i += 32) {
    keys.push(
      ...await Promise.all(
        Array.from({ length: Math.min(32, count - i) }, (_, j) => cp.createKey(`rb${i + j}`)),
      ),
    );
  }
  const stats = new Stats();
  const stop = new AbortController();
  const agents = keys.map((key, i) => new SimAgent(cp.baseUrl, key, i, stats, heartbeatMs));
  const rows: string[] = [];

  /** Runs until every agent is back after `since`; returns the wave's figures. */
  async function wave(name: string, since: number, pid: number): Promise<void> {
    const backAt: number[] = [];
    const watch = watchServer(cp.baseUrl, cp.adminToken, pid);
    const seen = new Set<number>();
    await waitFor(() => {
      for (const a of agents) {
        if (!seen.has(a.index) && a.heartbeatOkAt > since && a.welcomeAt > since) {
          seen.add(a.index);
          backAt.push(Math.max(a.heartbeatOkAt, a.welcomeAt) - since);
        }
      }
      return seen.size === count;
    }, { timeoutMs: 180_000, intervalMs: 20, message: `${name}: every agent back` });
    const { avgCpu, peakCpu, peakRss, adminLatency, adminStatuses } = await watch.stop();
    const failures = stats.count((_k, st) => st !== 200 && st !== 101 && st !== 503 && st !== 429);
    rows.push(
      `| ${name} | ${s(pct(backAt, 0.99))} | ${s(Math.max(...backAt))} | ${
        stats.peak("register")
      } | ${stats.peak("upgrade")} | ${stats.peak("heartbeat")} | ${
        stats.count((_, st) => st === 503)
      } | ${stats.count((_, st) => st === 429)} | ${failures} | ${
        pct(stats.registerLatency, 0.5)
      } / ${pct(stats.registerLatency, 0.99)} | ${(avgCpu * 100).toFixed(0)} / ${
        (peakCpu * 100).toFixed(0)
      } | ${(peakRss / 2 ** 20).toFixed(0)} | ${pct(adminLatency, 0.5).toFixed(0)} / ${
        pct(adminLatency, 0.99).toFixed(0)
      } / ${Math.max(...adminLatency).toFixed(0)} |`,
    );
    console.error(`${name}: counts ${JSON.stringify(Object.fromEntries(stats.counts))}`);
    console.error(`${name}: admin statuses ${JSON.stringify(adminStatuses)}`);
  }

  // What one register costs on an idle server (HTTP round trip on loopback included).
  const idle: number[] = [];
  for (let i = 0; i < 50; i++) {
    const key = await cp.createKey(`idle${i}`);
    const started = performance.now();
    const res = await fetch(cp.baseUrl + Paths.register, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-API-Key": key },
      body: JSON.stringify({ hostname: `idle-${i}`, platform: "linux", version: "0.0.0-bench" }),
    });
    await res.arrayBuffer();
    if (res.status === 200) idle.push(performance.now() - started);
  }
  const idleLine = `one register on an idle server (50 in a row): p50 ${
    pct(idle, 0.5).toFixed(1)
  } ms, p99 ${pct(idle, 0.99).toFixed(1)} ms`;

  // Cold start: every agent registers at once.
  const coldAt = Date.now();
  stats.reset(coldAt);
  const loops = agents.flatMap((a) => [
    a.heartbeatLoop(stop.signal),
    a.socketLoop(stop.signal),
  ]);
  await wave(`cold start, ${count} agents`, coldAt, cp.pid);

  await cp.kill("SIGKILL");
  const killedAt = Date.now();
  await abortableDelay(killedAt + outageS * 1000 - Date.now());
  await cp.restart();
  const listeningAt = Date.now();
  stats.reset(listeningAt);
  await wave(`after a ${outageS} s outage`, listeningAt, cp.pid);

  stop.abort();
  await Promise.all(loops);
  console.log(
    `\n${count} simulated agents (heartbeat 30 s), control plane ${
      caps.join(" ") || "default caps"
    }, ${machine()}\n`,
  );
  console.log(
    "| wave | 99 % back (s) | 100 % back (s) | peak registers/s | peak upgrades/s | peak heartbeats/s | 503 | 429 | other failures | register latency p50 / p99 (ms) | server CPU avg / peak 1 s (%) | server RSS peak (MiB) | admin API p50 / p99 / max (ms) |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const row of rows) console.log(row);
  console.log(`\n${idleLine}`);
}

/**
 * The same outage with the fleet bench's light client (`tests/_helpers/light_agent.ts`), whose
 * retries follow the exponent alone (full jitter, capped at 30 s) and know no outage bound:
 * what a fleet without the v1.1 rule does. An agent is back when its WebSocket is welcomed
 * again (the light client sends its heartbeats on its own 30 s schedule).
 */
async function lightFleet(count: number, outageS: number): Promise<void> {
  await using cp = await startControlPlane({
    args: [
      ...FLEET_SERVER_ARGS,
      ...capArgs(),
    ],
  });
  console.error(`starting ${count} light agents`);
  await using fleet = await startLightFleet({
    baseUrls: [cp.baseUrl],
    admin: cp.admin,
    count,
    heartbeatIntervalMs: 30_000,
    metricsIntervalMs: 0,
    concurrency: 32,
  });
  await waitFor(() => fleet.agents.every((a) => a.connected), {
    timeoutMs: 180_000,
    message: "every light agent connected",
  });
  fleet.stats.take();
  const sessionsBefore = fleet.agents.map((a) => a.sessions);
  await cp.kill("SIGKILL");
  const killedAt = Date.now();
  await abortableDelay(killedAt + outageS * 1000 - Date.now());
  await cp.restart();
  const since = Date.now();
  const watch = watchServer(cp.baseUrl, cp.adminToken, cp.pid);
  const backAt: number[] = [];
  const seen = new Set<number>();
  await waitFor(() => {
    for (const [i, a] of fleet.agents.entries()) {
      if (!seen.has(i) && a.connected && a.sessions > sessionsBefore[i]!) {
        seen.add(i);
        backAt.push(Date.now() - since);
      }
    }
    return seen.size === count;
  }, { timeoutMs: 300_000, intervalMs: 20, message: "every light agent back" });
  const w = await watch.stop();
  const window = fleet.stats.take();
  console.error(
    `light client: ok ${JSON.stringify(window.ok)} errors ${JSON.stringify(window.errors)}`,
  );
  const count503 = Object.entries(window.errors).filter(([k]) => k.endsWith(" 503"))
    .reduce((n, [, v]) => n + v, 0);
  const count429 = Object.entries(window.errors).filter(([k]) => k.endsWith(" 429"))
    .reduce((n, [, v]) => n + v, 0);
  console.log(`\n${count} light agents (fleet bench client, no outage bound), ${machine()}\n`);
  console.log(
    "| wave | 99 % back (s) | 100 % back (s) | 503 | 429 | server CPU avg / peak 1 s (%) | server RSS peak (MiB) | admin API p50 / p99 / max (ms) |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
  console.log(
    `| after a ${outageS} s outage | ${s(pct(backAt, 0.99))} | ${
      s(Math.max(...backAt))
    } | ${count503} | ${count429} | ${(w.avgCpu * 100).toFixed(0)} / ${
      (w.peakCpu * 100).toFixed(0)
    } | ${(w.peakRss / 2 ** 20).toFixed(0)} | ${pct(w.adminLatency, 0.5).toFixed(0)} / ${
      pct(w.adminLatency, 0.99).toFixed(0)
    } / ${Math.max(...w.adminLatency).toFixed(0)} |`,
  );
}

function capArgs(): string[] {
  const caps: string[] = [];
  for (const flag of ["max-concurrent-registers", "max-concurrent-upgrades"] as const) {
    if (values[flag] !== undefined) caps.push(`--${flag}`, values[flag]!);
  }
  return caps;
}

const mode = positionals[0] ?? "single";
if (mode === "single") {
  await single(values.outages!.split(",").map(Number), Number(values.runs));
} else if (mode === "fleet" && values.client === "light") {
  await lightFleet(Number(values.agents), Number(values.outage));
} else if (mode === "fleet") {
  await fleet(Number(values.agents), Number(values.outage));
} else {
  console.error("usage: recovery_bench.ts single|fleet [options]");
  Deno.exit(2);
}
