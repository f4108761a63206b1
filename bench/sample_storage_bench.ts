/**
 * Bytes on disk per stored metric sample (issue 10), for the per-worker storage quota: a real
 * control plane process (`--rate-limit 0`) and one worker per row posting samples in batches,
 * then the server is stopped (SQLite checkpoints its WAL into the database file on close) and
 * the database file is measured, less the size of the same database without samples.
 *
 * Rows: a realistic sample (8 cores, 2 disks, 2 interfaces, ≈970 bytes of JSON), a minimal
 * FineTuneLab-style sample (stream, seq, ts and the flat snapshot fields), and the largest
 * sample the caps allow (every string 256 characters, every array 256 entries; three fit in a
 * 1 MiB request). `deno run -A bench/sample_storage_bench.ts [samples]` (default 20,000 per row;
 * the largest row sends a hundredth of that). Prints a table.
 */
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { DATABASE_FILE } from "../src/control_plane/storage/sqlite/database.ts";
import { SAMPLE_ROW_OVERHEAD_BYTES } from "../src/control_plane/storage_quota.ts";
import { startControlPlane } from "../tests/_helpers/control_plane_process.ts";
import { sample, snapshot } from "./_samples.ts";

const N = Number(Deno.args[0] ?? 20_000);

function minimal(stream: string, seq: number): Record<string, unknown> {
  return { stream, seq, ts: Date.now(), ...snapshot(seq) };
}

function largest(stream: string, seq: number): Record<string, unknown> {
  const text = (c: string) => c.repeat(256);
  const many = <T>(make: (i: number) => T) => Array.from({ length: 256 }, (_, i) => make(i));
  return {
    ...sample(stream, seq),
    trading_status: text("t"),
    cpu_per_core: many((i) => i / 3),
    disks: many((i) => ({
      mount: text("m"),
      fs_type: text("f"),
      total_bytes: 1e12 + i,
      used_bytes: 5e11 + i,
    })),
    net: many((i) => ({
      iface: text("i"),
      rx_bytes: 1e9 + i,
      tx_bytes: 2e9 + i,
      rx_bytes_per_s: 1234.5,
      tx_bytes_per_s: 5432.1,
    })),
    gpus: many((i) => ({
      index: i,
      name: text("g"),
      util_percent: 50.5,
      memory_used_mb: 1000.25,
      memory_total_mb: 8000,
      temperature_c: 60.5,
      power_w: 150.25,
    })),
    trading: { status: text("s"), pid: 4242, uptime_s: 10, restarts: 0, active_trades: 1 },
  };
}

interface Row {
  kind: string;
  samples: number;
  wireBytes: number;
  storedBytes: number;
  dbBytes: number;
}

/** Posts `count` samples from `make` in batches of `batch`; returns the database size after. */
async function run(
  kind: string,
  make: (stream: string, seq: number) => Record<string, unknown>,
  count: number,
  batch: number,
): Promise<Row> {
  const dataDir = await Deno.makeTempDir({ prefix: "ftl-bench-storage-" });
  try {
    const cp = await startControlPlane({ dataDir, args: ["--rate-limit", "0"] });
    let wire = 0;
    try {
      const key = await cp.createKey("storage");
      const headers = { "X-API-Key": key, "Content-Type": "application/json" };
      const registered = await fetch(`${cp.baseUrl}/api/workers/register`, {
        method: "POST",
        headers,
        body: JSON.stringify({ hostname: "storage", platform: "linux", version: "0.1.0" }),
      });
      const workerId = (await registered.json()).worker_id;
      for (let seq = 0; seq < count; seq += batch) {
        const samples = Array.from(
          { length: Math.min(batch, count - seq) },
          (_, i) => make("storage", seq + i),
        );
        wire += samples.reduce((n, s) => n + JSON.stringify(s).length, 0);
        const res = await fetch(`${cp.baseUrl}/api/workers/${workerId}/metrics`, {
          method: "POST",
          headers,
          body: JSON.stringify({ samples }),
        });
        const answer = await res.json();
        if (res.status !== 200) throw new Error(`${kind}: ${res.status} ${JSON.stringify(answer)}`);
      }
    } finally {
      await cp.stop();
    }
    const db = new DatabaseSync(join(dataDir, DATABASE_FILE), { readOnly: true });
    const stored = db.prepare(
      "SELECT COUNT(*) AS n, COALESCE(SUM(length(CAST(sample AS BLOB))), 0) AS bytes FROM metric_samples",
    ).get() as { n: number; bytes: number };
    db.close();
    let dbBytes = 0;
    for (const suffix of ["", "-wal"]) {
      dbBytes += (await Deno.stat(join(dataDir, DATABASE_FILE + suffix)).catch(() => null))?.size ??
        0;
    }
    return {
      kind,
      samples: Number(stored.n),
      wireBytes: wire,
      storedBytes: Number(stored.bytes),
      dbBytes,
    };
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

const empty = await run("none", minimal, 0, 1);
const rows = [
  await run("realistic (8 cores, 2 disks, 2 interfaces)", (s, q) => sample(s, q), N, 500),
  await run("minimal FineTuneLab-style (flat fields only)", minimal, N, 500),
  await run("largest the caps allow", largest, Math.max(3, Math.round(N / 100)), 3),
];

console.log(
  `Bytes per stored sample, SQLite (WAL checkpointed on close), deno ${Deno.version.deno}; ` +
    `an empty database is ${empty.dbBytes} bytes; the quota counts stored JSON + ` +
    `${SAMPLE_ROW_OVERHEAD_BYTES} bytes per row\n`,
);
console.log(
  "| sample | samples | JSON sent, bytes/sample | JSON stored, bytes/sample | " +
    "database, bytes/sample | database − stored JSON, bytes/row | counted by the quota, bytes/sample |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const row of rows) {
  const perSample = (row.dbBytes - empty.dbBytes) / row.samples;
  const stored = row.storedBytes / row.samples;
  console.log(
    `| ${row.kind} | ${row.samples} | ${(row.wireBytes / row.samples).toFixed(0)} | ${
      stored.toFixed(0)
    } | ${perSample.toFixed(0)} | ${(perSample - stored).toFixed(0)} | ${
      (stored + SAMPLE_ROW_OVERHEAD_BYTES).toFixed(0)
    } |`,
  );
}
