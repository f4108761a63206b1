/**
 * Control plane ingest: metrics samples per second accepted by
 * `POST /api/workers/{id}/metrics` in batches of 1, 50 and 500, and heartbeats per second.
 *
 * A real control plane process on 127.0.0.1 (fresh data dir per row, `--rate-limit 0`, since
 * the default of 20 requests per second per key would be the limit measured otherwise) and a
 * protocol-level client in this process: each client registers a worker with its own key from
 * the admin API, then sends requests back to back, one in flight per client, for a bounded
 * window (default 5 s). Samples are valid against `SampleSchema` (checked once) and look like
 * an 8-core Linux box's (2 disks, 2 interfaces, no GPU); every sample has a new `seq`, so all
 * are stored. Run with `deno run -A bench/ingest_bench.ts [seconds]`. Prints a table; asserts
 * nothing. The client shares the machine with the server, so figures are a floor.
 */
import { SampleSchema } from "../src/protocol/metrics.ts";
import { sample, snapshot } from "./_samples.ts";
import {
  type ControlPlaneProcess,
  startControlPlane,
} from "../tests/_helpers/control_plane_process.ts";

const WINDOW_MS = Number(Deno.args[0] ?? 5) * 1000;
const CP_ARGS = ["--heartbeat-interval", "5", "--metrics-interval", "1", "--rate-limit", "0"];

SampleSchema.parse(sample("check", 0)); // the body is one the server must accept

interface Client {
  workerId: string;
  headers: Headers;
  stream: string;
  nextSeq: number;
}

async function register(cp: ControlPlaneProcess, n: number): Promise<Client> {
  const key = await cp.createKey(`ingest-${n}`);
  const headers = new Headers({ "X-API-Key": key, "Content-Type": "application/json" });
  const res = await fetch(`${cp.baseUrl}/api/workers/register`, {
    method: "POST",
    headers,
    body: JSON.stringify({
      hostname: `bench-${n}`,
      // A v1.1 worker like the agent: a legacy one would also store heartbeat metrics as samples.
      instance_id: `bench-instance-${n}`,
      platform: "linux",
      version: "0.1.0",
      capabilities: ["metrics"],
      metadata: { arch: "x86_64", runtime: `deno ${Deno.version.deno}` },
    }),
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`register: ${res.status} ${JSON.stringify(body)}`);
  return { workerId: body.worker_id, headers, stream: `bench${n}`, nextSeq: 0 };
}

interface Result {
  row: string;
  clients: number;
  requests: number;
  accepted: number;
  failed: number;
  bodyBytes: number;
  latencies: number[];
  wallS: number;
}

/** Sends requests from `clients` parallel loops until the window ends. */
async function drive(
  row: string,
  clients: number,
  request: (client: Client) => { path: string; body: string; samples: number },
): Promise<Result> {
  const cp = await startControlPlane({ args: CP_ARGS });
  try {
    const list = await Promise.all(Array.from({ length: clients }, (_, n) => register(cp, n)));
    const result: Result = {
      row,
      clients,
      requests: 0,
      accepted: 0,
      failed: 0,
      bodyBytes: 0,
      latencies: [],
      wallS: 0,
    };
    const t0 = performance.now();
    const end = t0 + WINDOW_MS;
    await Promise.all(list.map(async (client) => {
      while (performance.now() < end) {
        const { path, body, samples } = request(client);
        const start = performance.now();
        const res = await fetch(`${cp.baseUrl}${path}`, {
          method: "POST",
          headers: client.headers,
          body,
        });
        const answer = await res.json();
        result.latencies.push(performance.now() - start);
        result.requests++;
        result.bodyBytes = body.length;
        if (res.status !== 200) {
          result.failed++;
          continue;
        }
        result.accepted += typeof answer.accepted === "number" ? answer.accepted : samples;
      }
    }));
    result.wallS = (performance.now() - t0) / 1000;
    return result;
  } finally {
    await cp.stop();
  }
}

function metrics(batch: number) {
  return (client: Client) => {
    const samples = Array.from({ length: batch }, () => sample(client.stream, client.nextSeq++));
    return {
      path: `/api/workers/${client.workerId}/metrics`,
      body: JSON.stringify({ samples }),
      samples: batch,
    };
  };
}

function heartbeat(client: Client) {
  return {
    path: `/api/workers/${client.workerId}/heartbeat`,
    body: JSON.stringify({
      status: "online",
      current_load: 0,
      metrics: snapshot(client.nextSeq++),
    }),
    samples: 0,
  };
}

function pct(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ??
    NaN;
}

const results: Result[] = [];
for (const clients of [1, 4]) {
  for (const batch of [1, 50, 500]) {
    results.push(await drive(`metrics, batch ${batch}`, clients, metrics(batch)));
  }
  results.push(await drive("heartbeat", clients, heartbeat));
}

console.log(
  `Control plane ingest, ${WINDOW_MS / 1000} s per row, rate limit off, fresh data dir per row, ` +
    `deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs, ` +
    `one sample ≈ ${JSON.stringify(sample("bench0", 123456)).length} bytes of JSON`,
);
console.log("");
console.log(
  "| request | clients | requests/s | samples/s accepted | body KiB " +
    "| median ms | p95 ms | non-200 |",
);
console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
for (const r of results) {
  const samplesPerS = r.row === "heartbeat" ? "–" : (r.accepted / r.wallS).toFixed(0);
  console.log(
    `| ${r.row} | ${r.clients} | ${(r.requests / r.wallS).toFixed(0)} | ${samplesPerS} | ${
      (r.bodyBytes / 1024).toFixed(1)
    } | ${pct(r.latencies, 0.5).toFixed(2)} | ${pct(r.latencies, 0.95).toFixed(2)} | ${r.failed} |`,
  );
}
