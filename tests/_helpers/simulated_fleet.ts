/**
 * Simulated workers for dashboard tests, benches and screenshots: each has its own key,
 * registers over the real worker protocol, sends heartbeats with a flat snapshot and posts
 * samples (optionally a backfilled history), so the control plane stores them exactly as it
 * stores a real agent's. Values are deterministic (seeded), with a daily rhythm, so charts
 * look like a machine's.
 *
 * For fleets too large to register one by one in a test (10,000 workers), {@linkcode seedFleet}
 * writes worker rows straight into a stopped control plane's database.
 *
 * @module
 */
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { DATABASE_FILE, openDatabase } from "../../src/control_plane/storage/sqlite/database.ts";
import { Paths, type Sample, snapshotOf } from "../../src/protocol/mod.ts";

/** A registered simulated worker. */
export interface SimulatedWorker {
  readonly workerId: string;
  readonly key: string;
  readonly keyId: string;
  readonly hostname: string;
  readonly index: number;
  /** Sends a heartbeat (status online by default) with the latest snapshot. */
  heartbeat(status?: "online" | "error" | "draining" | "offline"): Promise<void>;
  /** Sends a heartbeat and returns the ids and types of the commands it hands out. */
  poll(): Promise<{ id: string; command_type: string }[]>;
  /** Posts the result of command `id`. */
  complete(id: string, result: Record<string, unknown>): Promise<void>;
  /** Posts samples (at most 500 per call are sent per request). */
  postSamples(samples: readonly Sample[]): Promise<void>;
  /** A sample of this worker at time `ts`. */
  sampleAt(ts: number, seq: number): Sample;
}

/** Options of {@linkcode simulateFleet}. */
export interface SimulateFleetOptions {
  /** The control plane. */
  baseUrl: string;
  /** An admin call (the test helper's `admin`). */
  admin: (path: string, init?: RequestInit) => Promise<Response>;
  /** How many workers. */
  count: number;
  /** Hostname prefix. @default {"sim"} */
  prefix?: string;
  /** Backfill this much history (ms) before now for each worker. @default {0} */
  historyMs?: number;
  /** Spacing of backfilled samples (ms). @default {60000} */
  historyStepMs?: number;
  /** Seed of the values. @default {1} */
  seed?: number;
}

/** A small deterministic pseudo-random generator (mulberry32). */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PLATFORMS = ["linux", "linux", "linux", "darwin", "windows"] as const;
const ROLES = ["gpu", "trade", "edge", "batch"] as const;

/** A stable profile of worker `index`: its size and load. */
function profile(index: number, seed: number) {
  const r = random(seed * 7919 + index);
  const cores = [2, 4, 8, 16][Math.floor(r() * 4)]!;
  const memoryTotal = cores * 4096;
  const diskTotal = [250, 500, 1000, 2000][Math.floor(r() * 4)]!;
  return {
    cores,
    memoryTotal,
    diskTotal,
    baseCpu: 5 + r() * 60,
    baseMemory: 0.2 + r() * 0.6,
    diskUsed: diskTotal * (0.1 + r() * 0.8),
    gpu: index % 4 === 0,
    trading: index % 3 !== 2,
    platform: PLATFORMS[index % PLATFORMS.length]!,
    role: ROLES[index % ROLES.length]!,
  };
}

/** A plausible sample of worker `index` at time `ts` (deterministic in `ts`). */
export function simulatedSample(
  index: number,
  ts: number,
  seq: number,
  options: { seed?: number; stream?: string } = {},
): Sample {
  const seed = options.seed ?? 1;
  const p = profile(index, seed);
  const r = random(seed * 104729 + index * 31 + Math.floor(ts / 1000));
  const day = Math.sin((ts / 86_400_000) * 2 * Math.PI + index);
  const cpu = Math.max(0, Math.min(100, p.baseCpu + day * 20 + (r() - 0.5) * 20));
  const memUsed = p.memoryTotal *
    Math.max(0.05, Math.min(0.98, p.baseMemory + day * 0.1 + (r() - 0.5) * 0.05));
  const running = p.trading && (ts / 3_600_000 + index) % 24 > 2;
  const trades = running ? Math.floor(3 + day * 3 + r() * 4) : 0;
  return {
    stream: options.stream ?? `sim-${index}`,
    seq,
    ts,
    cpu_percent: Math.round(cpu * 10) / 10,
    memory_used_mb: Math.round(memUsed),
    memory_total_mb: p.memoryTotal,
    disk_used_gb: Math.round((p.diskUsed + (ts / 86_400_000) % 7) * 10) / 10,
    disk_total_gb: p.diskTotal,
    network_sent_mb: Math.round(ts / 1e7) % 100_000,
    network_recv_mb: Math.round(ts / 4e6) % 100_000,
    trading_status: running ? "running" : "stopped",
    active_trades: trades,
    cpu_per_core: Array.from(
      { length: p.cores },
      () => Math.round(Math.max(0, Math.min(100, cpu + (r() - 0.5) * 30)) * 10) / 10,
    ),
    load_avg: [cpu / 100 * p.cores, cpu / 110 * p.cores, cpu / 120 * p.cores].map((v) =>
      Math.round(v * 100) / 100
    ) as [number, number, number],
    memory_available_mb: Math.round(p.memoryTotal - memUsed),
    swap_used_mb: 0,
    swap_total_mb: 2048,
    disks: [{
      mount: "/",
      fs_type: "ext4",
      total_bytes: p.diskTotal * 2 ** 30,
      used_bytes: Math.round(p.diskUsed * 2 ** 30),
    }],
    net: [{
      iface: "eth0",
      rx_bytes: Math.round(ts / 10),
      tx_bytes: Math.round(ts / 40),
      rx_bytes_per_s: Math.round((200_000 + day * 150_000 + r() * 100_000) * (running ? 3 : 1)),
      tx_bytes_per_s: Math.round(40_000 + r() * 60_000),
    }],
    gpus: p.gpu
      ? [{
        index: 0,
        name: "NVIDIA L4",
        util_percent: Math.round(Math.max(0, Math.min(100, cpu * 1.2 + (r() - 0.5) * 10))),
        memory_used_mb: Math.round(6000 + cpu * 100),
        memory_total_mb: 23034,
        temperature_c: Math.round(40 + cpu / 3),
        power_w: Math.round(30 + cpu),
      }]
      : [],
    agent: { rss_mb: 48, cpu_percent: 0.4, uptime_s: 3600, spool_depth: 0, dropped_samples: 0 },
    trading: {
      status: running ? "running" : "stopped",
      pid: running ? 4000 + index : null,
      uptime_s: running ? 1800 : null,
      restarts: 0,
      active_trades: trades,
    },
  };
}

/** POSTs as a worker; a 429 is retried after its `Retry-After`, as an agent does. */
async function post(
  baseUrl: string,
  key: string,
  path: string,
  body: unknown,
): Promise<Record<string, unknown>> {
  for (let attempt = 0;; attempt++) {
    const response = await fetch(`${baseUrl}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-API-Key": key },
      body: JSON.stringify(body),
    });
    const json = await response.json();
    if (response.status === 429 && attempt < 20) {
      const wait = Number(response.headers.get("Retry-After") ?? 1) * 1000;
      await new Promise((resolve) => setTimeout(resolve, wait));
      continue;
    }
    if (!response.ok) {
      throw new Error(`${path} answered ${response.status}: ${JSON.stringify(json)}`);
    }
    return json;
  }
}

/** The hostname of simulated worker `index` (two workers share one, as real fleets do). */
export function simulatedHostname(prefix: string, index: number): string {
  const n = index === 1 ? 0 : index; // worker 1 takes worker 0's hostname
  return `${prefix}-${profile(n, 1).role}-${String(n).padStart(3, "0")}`;
}

/** Registers `count` workers with keys of their own; the first heartbeat and sample are sent. */
export async function simulateFleet(options: SimulateFleetOptions): Promise<SimulatedWorker[]> {
  const prefix = options.prefix ?? "sim";
  const seed = options.seed ?? 1;
  const now = Date.now();
  const workers: SimulatedWorker[] = [];
  const create = async (index: number): Promise<SimulatedWorker> => {
    const p = profile(index, seed);
    const hostname = simulatedHostname(prefix, index);
    const created = await options.admin("/api/admin/keys", {
      method: "POST",
      body: JSON.stringify({ name: `${prefix}-key-${index}` }),
    });
    const { key, id: keyId } = await created.json() as { key: string; id: string };
    const legacy = index % 10 === 9;
    const registered = await post(options.baseUrl, key, Paths.register, {
      ...(legacy ? {} : { instance_id: `${prefix}-instance-${index}` }),
      hostname,
      platform: p.platform,
      version: index % 7 === 0 ? "0.0.9" : "0.1.0",
      capabilities: ["metrics", "trading"],
      max_concurrency: 1,
      metadata: {
        arch: index % 5 === 3 ? "aarch64" : "x86_64",
        os_release: p.platform === "linux"
          ? "Debian GNU/Linux 12"
          : p.platform === "darwin"
          ? "macOS 15.1"
          : "Windows 11",
        runtime: "deno 2.9.6",
        cpu_count: p.cores,
      },
    });
    const workerId = String(registered.worker_id);
    let seq = 0;
    let latest = simulatedSample(index, now, 0, { seed });
    const worker: SimulatedWorker = {
      workerId,
      key,
      keyId,
      hostname,
      index,
      async heartbeat(status = "online") {
        await post(options.baseUrl, key, Paths.heartbeat(workerId), {
          status,
          current_load: 0,
          metrics: snapshotOf(latest),
        });
      },
      async poll() {
        const answer = await post(options.baseUrl, key, Paths.heartbeat(workerId), {
          status: "online",
          metrics: snapshotOf(latest),
        });
        return (answer.pending_commands as { id: string; command_type: string }[]) ?? [];
      },
      async complete(id, result) {
        const now = Date.now();
        await post(options.baseUrl, key, Paths.result(id), {
          started_at: now - 40,
          finished_at: now,
          timestamp: Math.floor(now / 1000),
          ...result,
        });
      },
      async postSamples(samples) {
        for (let i = 0; i < samples.length; i += 500) {
          await post(options.baseUrl, key, Paths.metrics(workerId), {
            samples: samples.slice(i, i + 500),
          });
        }
        const last = samples.at(-1);
        if (last && last.ts >= latest.ts) latest = last;
      },
      sampleAt: (ts, s) => simulatedSample(index, ts, s, { seed }),
    };
    const history: Sample[] = [];
    const step = options.historyStepMs ?? 60_000;
    for (let ts = now - (options.historyMs ?? 0); ts < now; ts += step) {
      history.push(worker.sampleAt(ts, ++seq));
    }
    history.push(worker.sampleAt(now, ++seq));
    if (!legacy) await worker.postSamples(history);
    latest = history.at(-1)!;
    await worker.heartbeat(index % 17 === 5 ? "error" : "online");
    return worker;
  };
  // A few at a time: fast, without tripping the connection caps.
  for (let start = 0; start < options.count; start += 8) {
    const batch = [];
    for (let i = start; i < Math.min(options.count, start + 8); i++) batch.push(create(i));
    workers.push(...await Promise.all(batch));
  }
  return workers;
}

/** Options of {@linkcode seedFleet}. */
export interface SeedFleetOptions {
  count: number;
  /** Hostname prefix; hostnames are `<prefix>-00042`. @default {"fleet"} */
  prefix?: string;
  /** @default {Date.now()} */
  now?: number;
}

/**
 * Writes `count` workers (with keys) straight into a database, in one transaction: for fleets
 * too large to register over HTTP in a test. Their keys cannot authenticate (the hashes are
 * not of real keys). Every tenth worker is offline, every 97th (from the 4th) reports an
 * error; their snapshots vary like {@linkcode simulatedSample}'s.
 */
export function seedFleetInto(db: DatabaseSync, options: SeedFleetOptions): void {
  const prefix = options.prefix ?? "fleet";
  const now = options.now ?? Date.now();
  const key = db.prepare(
    `INSERT INTO api_keys (id, name, prefix, hash, scopes, signing_key, active, created_at)
     VALUES (?, ?, ?, ?, '["worker"]', x'00', 1, ?)`,
  );
  const worker = db.prepare(
    `INSERT INTO workers (worker_id, key_id, hostname, platform, version, capabilities,
       max_concurrency, metadata, status, current_load, last_metrics, registered_at,
       last_heartbeat, instance_id, legacy, last_registered_at)
     VALUES (?, ?, ?, ?, '0.1.0', '["metrics","trading"]', 1, '{}', ?, 0, ?, ?, ?, ?, 0, ?)`,
  );
  db.exec("BEGIN IMMEDIATE");
  try {
    for (let i = 0; i < options.count; i++) {
      const id = String(i).padStart(5, "0");
      const keyId = `key_seed${id}`;
      key.run(keyId, `${prefix}-key-${id}`, `wak_seed${id}`, "0".repeat(64), now);
      const online = i % 10 !== 7;
      worker.run(
        seededWorkerId(i),
        keyId,
        `${prefix}-${id}`,
        PLATFORMS[i % PLATFORMS.length]!,
        online ? (i % 97 === 3 ? "error" : "online") : "offline",
        JSON.stringify(snapshotOf(simulatedSample(i, now, 1))),
        now - 86_400_000,
        online ? now : now - 3_600_000,
        `seed-instance-${id}`,
        now - 86_400_000,
      );
    }
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

/** The worker id {@linkcode seedFleetInto} gives worker `index`. */
export function seededWorkerId(index: number): string {
  return `wkr_seed${String(index).padStart(5, "0")}${"0".repeat(15)}`;
}

/** {@linkcode seedFleetInto} the database of a control plane that is not running. */
export function seedFleet(dataDir: string, options: SeedFleetOptions): void {
  const db = openDatabase(join(dataDir, DATABASE_FILE));
  try {
    seedFleetInto(db, options);
  } finally {
    db.close();
  }
}
