/** Shared pieces of the control plane tests: bodies, samples and an in-process plane. */
import type { DatabaseSync } from "node:sqlite";
import { createLogger } from "../../src/log/logger.ts";
import { type Sample } from "../../src/protocol/mod.ts";
import {
  type ControlPlane,
  type ControlPlaneOptions,
  createControlPlane,
} from "../../src/control_plane/control_plane.ts";
import type { StorageEngine } from "../../src/control_plane/storage/repositories.ts";
import { openSqliteStorage } from "../../src/control_plane/storage/sqlite/sqlite_storage.ts";

/** A valid register body. */
export function registerBody(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    hostname: "test-host",
    platform: "linux",
    version: "0.1.0",
    capabilities: ["metrics", "trading"],
    max_concurrency: 2,
    metadata: { arch: "x86_64", cpu_count: 4 },
    // A v1.1 worker; a test of a legacy (FineTuneLab) agent passes instance_id: undefined.
    instance_id: "test-instance-0001",
    ...extra,
  };
}

/** A valid sample of stream `stream` with sequence number `seq`. */
export function sample(stream: string, seq: number, ts = 1_764_000_000_000 + seq * 1000): Sample {
  return {
    stream,
    seq,
    ts,
    cpu_percent: 12.5,
    memory_used_mb: 1000,
    memory_total_mb: 8000,
    disk_used_gb: 10,
    disk_total_gb: 100,
    network_sent_mb: 1,
    network_recv_mb: 2,
    trading_status: "stopped",
    active_trades: 0,
    cpu_per_core: [10, 15],
    load_avg: [0.1, 0.2, 0.3],
    memory_available_mb: 7000,
    swap_used_mb: 0,
    swap_total_mb: 0,
    disks: [{ mount: "/", fs_type: "ext4", total_bytes: 100, used_bytes: 10 }],
    net: [{ iface: "eth0", rx_bytes: 5, tx_bytes: 6, rx_bytes_per_s: null, tx_bytes_per_s: null }],
    gpus: [],
    agent: { rss_mb: 50, cpu_percent: 1, uptime_s: 10, spool_depth: 0, dropped_samples: 0 },
    trading: { status: "stopped", pid: null, uptime_s: null, restarts: 0, active_trades: 0 },
  };
}

/** A manual clock for in-process tests. */
export class ManualClock {
  /** Current time in ms. */
  time = 1_764_000_000_000;
  /** The clock function to inject. */
  now = (): number => this.time;
  /** Moves time forward. */
  advance(ms: number): void {
    this.time += ms;
  }
}

/** An in-process control plane on an in-memory database, called without a socket. */
export interface TestPlane extends Disposable {
  cp: ControlPlane;
  db: DatabaseSync;
  clock: ManualClock;
  adminToken: string;
  /** Every log line written so far. */
  logs: string[];
  /** A worker-API call with `key` in X-API-Key (when given). */
  call(path: string, init?: RequestInit & { key?: string; json?: unknown }): Promise<Response>;
  /** An admin call. */
  admin(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  /** Creates a key via the admin API and returns the raw key and its id. */
  createKey(scopes?: string[]): Promise<{ key: string; id: string }>;
  /** Creates a key and registers a worker with it. */
  registerWorker(): Promise<{ key: string; keyId: string; workerId: string }>;
}

/** Starts an in-process control plane (on an in-memory SQLite database by default). */
export function testPlane(options: Partial<ControlPlaneOptions> = {}): TestPlane {
  const clock = new ManualClock();
  const engine = openSqliteStorage(":memory:");
  const db = engine.db;
  const logs: string[] = [];
  const adminToken = "adm_test_token_0123456789";
  const cp = createControlPlane({
    storage: engine as StorageEngine,
    adminToken,
    publicUrl: "http://127.0.0.1:9",
    now: clock.now,
    logger: createLogger({ level: "debug", format: "json", write: (line) => logs.push(line) }),
    ...options,
  });
  async function call(
    path: string,
    init: RequestInit & { key?: string; json?: unknown } = {},
  ): Promise<Response> {
    const { key, json, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (key !== undefined) headers.set("X-API-Key", key);
    if (json !== undefined) headers.set("Content-Type", "application/json");
    return await cp.fetch(
      new Request(`http://127.0.0.1:9${path}`, {
        method: json !== undefined ? "POST" : "GET",
        ...rest,
        headers,
        ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
      }),
      { remoteAddr: "127.0.0.1" },
    );
  }
  const plane: TestPlane = {
    cp,
    db,
    clock,
    adminToken,
    logs,
    call,
    admin: (path, init = {}) =>
      call(path, {
        ...init,
        headers: {
          ...Object.fromEntries(new Headers(init.headers)),
          authorization: `Bearer ${adminToken}`,
        },
      }),
    async createKey(scopes = ["worker"]) {
      const res = await plane.admin("/api/admin/keys", { json: { name: "k", scopes } });
      const body = await res.json();
      if (res.status !== 201) throw new Error(`createKey: ${res.status} ${JSON.stringify(body)}`);
      return { key: body.key, id: body.id };
    },
    async registerWorker() {
      const { key, id } = await plane.createKey();
      const res = await call("/api/workers/register", { key, json: registerBody() });
      const body = await res.json();
      if (res.status !== 200) throw new Error(`register: ${res.status} ${JSON.stringify(body)}`);
      return { key, keyId: id, workerId: body.worker_id };
    },
    [Symbol.dispose]() {
      if (db.isOpen) db.close();
    },
  };
  return plane;
}

/** An in-process plane served on a loopback port (WebSockets need a real server). */
export function servedPlane(
  options: Parameters<typeof testPlane>[0] = {},
): { plane: TestPlane; baseUrl: string } & AsyncDisposable {
  const plane = testPlane({ rateLimitPerSecond: 0, ...options });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request, info) => plane.cp.fetch(request, { remoteAddr: info.remoteAddr.hostname }),
  );
  return {
    plane,
    baseUrl: `http://127.0.0.1:${server.addr.port}`,
    async [Symbol.asyncDispose]() {
      await plane.cp.drain(AbortSignal.timeout(2000));
      await server.shutdown();
      plane[Symbol.dispose]();
    },
  };
}
