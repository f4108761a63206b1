/**
 * A worker's history in buckets (`GET /api/workers/{id}/series`): minimum, mean and maximum
 * per bucket, at most 1,000 buckets for any range, gaps where the data stops, every metric the
 * dashboard charts.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { SeriesResponse } from "../../src/control_plane/admin_api.ts";
import { MetricSeries } from "../../src/control_plane/metric_downsample.ts";
import { Paths, type Sample } from "../../src/protocol/mod.ts";
import { sample, testPlane } from "./_fixtures.ts";

const T0 = 1_764_000_000_000;

function at(seq: number, ts: number, fields: Partial<Sample> = {}): Sample {
  return { ...sample("s", seq, ts), ...fields };
}

async function seriesOf(
  plane: ReturnType<typeof testPlane>,
  workerId: string,
  query: string,
): Promise<SeriesResponse> {
  const res = await plane.admin(`/api/workers/${workerId}/series?${query}`);
  const body = await res.json();
  assertEquals(res.status, 200, JSON.stringify(body));
  return body;
}

Deno.test("series() gives the minimum, mean and maximum of each bucket", async () => {
  using plane = testPlane();
  const { key, workerId } = await plane.registerWorker();
  // Four samples in the first minute, two in the second; 2 cores, 2 interfaces, a GPU.
  const samples = [10, 20, 30, 40, 50, 70].map((cpu, i) =>
    at(i + 1, T0 + (i < 4 ? i * 10_000 : 60_000 + (i - 4) * 10_000), {
      cpu_percent: cpu,
      cpu_per_core: [cpu, cpu + 10],
      load_avg: [cpu / 10, 1, 0.5],
      net: [
        { iface: "a", rx_bytes: 0, tx_bytes: 0, rx_bytes_per_s: cpu, tx_bytes_per_s: 1 },
        { iface: "b", rx_bytes: 0, tx_bytes: 0, rx_bytes_per_s: 100, tx_bytes_per_s: null },
      ],
      gpus: [{
        index: 0,
        name: "G",
        util_percent: cpu,
        memory_used_mb: 100,
        memory_total_mb: 200,
        temperature_c: 50,
        power_w: 10,
      }],
      trading: {
        status: i % 2 === 0 ? "running" : "stopped",
        pid: 1,
        uptime_s: 1,
        restarts: 0,
        active_trades: i,
      },
    })
  );
  const posted = await plane.call(Paths.metrics(workerId), { key, json: { samples } });
  assertEquals(posted.status, 200);
  const s = await seriesOf(plane, workerId, `since=${T0}&until=${T0 + 120_000}&points=2`);
  assertEquals(s.bucket_ms, 60_000);
  assertEquals(s.t, [T0 + 30_000, T0 + 90_000]);
  assertEquals(s.count, [4, 2]);
  assertEquals(s.samples, 6);
  assertEquals(s.series.cpu_percent, { min: [10, 50], avg: [25, 60], max: [40, 70] });
  assertEquals(s.cores, [[25, 60], [35, 70]]);
  assertEquals(s.series.net_rx_bytes_per_s.avg, [125, 160], "interfaces are summed per sample");
  assertEquals(s.series.net_tx_bytes_per_s.avg, [1, 1], "a null rate counts as nothing");
  assertEquals(s.series.load_1.max, [4, 7]);
  assertEquals(s.series.trading_running_percent.avg, [50, 50]);
  assertEquals(s.series.active_trades.max, [3, 5]);
  assertEquals(s.gpus.map((g) => [g.index, g.name, g.util_percent.avg]), [[0, "G", [25, 60]]]);
});

Deno.test("series() has at most 1,000 buckets for 7 days, and a gap where the data stops", async () => {
  using plane = testPlane();
  const { key, workerId } = await plane.registerWorker();
  const week = 7 * 86_400_000;
  const samples: Sample[] = [];
  // One sample a minute for 7 days, except for a 6-hour outage on day 3.
  for (let ts = T0 - week, seq = 1; ts < T0; ts += 60_000, seq++) {
    const outage = ts > T0 - 4 * 86_400_000 && ts < T0 - 4 * 86_400_000 + 6 * 3_600_000;
    if (!outage) samples.push(at(seq, ts, { cpu_percent: seq % 100 }));
  }
  for (let i = 0; i < samples.length; i += 500) {
    const res = await plane.call(Paths.metrics(workerId), {
      key,
      json: { samples: samples.slice(i, i + 500) },
    });
    assertEquals(res.status, 200);
  }
  plane.clock.time = T0;
  const s = await seriesOf(plane, workerId, "range=7d");
  assertEquals(s.until - s.since, week);
  assert(s.bucket_ms >= week / 1000, `bucket ${s.bucket_ms} ms`);
  const points = s.t.length;
  const gaps = s.count.filter((n) => n === 0).length;
  assert(points - gaps <= 1000, `${points - gaps} buckets`);
  assertEquals(gaps, 1, "one gap for the outage");
  assertEquals(s.samples, samples.length);
  const gap = s.count.indexOf(0);
  assertEquals(s.series.cpu_percent.avg[gap], null);
  assert(s.t[gap]! > T0 - 4 * 86_400_000 && s.t[gap]! < T0 - 4 * 86_400_000 + 6 * 3_600_000);
  assert(s.series.cpu_percent.max.every((v, i) => v === null || v >= s.series.cpu_percent.min[i]!));
});

Deno.test("series() of the 1-hour default, an unknown worker and a bad range", async (t) => {
  using plane = testPlane();
  const { workerId } = await plane.registerWorker();
  await t.step("no samples: empty lists", async () => {
    const s = await seriesOf(plane, workerId, "");
    assertEquals([s.until - s.since, s.t, s.samples, s.cores, s.gpus], [3_600_000, [], 0, [], []]);
  });
  await t.step("an unknown worker is 404", async () => {
    const res = await plane.admin(`/api/workers/wkr_${"0".repeat(24)}/series`);
    assertEquals(res.status, 404);
    await res.body?.cancel();
  });
  for (const query of ["range=2y", "since=10&until=5", "points=0", "points=1001"]) {
    await t.step(`${query} is 400`, async () => {
      const res = await plane.admin(`/api/workers/${workerId}/series?${query}`);
      assertEquals(res.status, 400);
      await res.body?.cancel();
    });
  }
});

Deno.test("series() skips a damaged stored sample and values of the wrong type", async () => {
  using plane = testPlane();
  const { workerId } = await plane.registerWorker();
  const insert = plane.db.prepare(
    `INSERT INTO metric_samples (worker_id, stream, seq, ts, received_at, sample)
     VALUES (?, 's', ?, ?, 0, ?)`,
  );
  insert.run(workerId, 1, T0, "{not json");
  insert.run(
    workerId,
    2,
    T0 + 1,
    JSON.stringify({ cpu_percent: "90", cpu_per_core: "x", gpus: [7, null] }),
  );
  insert.run(workerId, 3, T0 + 2, JSON.stringify({ cpu_percent: 30 }));
  const s = await new MetricSeries(plane.cp.storage.samples).series(workerId, {
    since: T0,
    until: T0 + 1000,
    maxPoints: 1,
  });
  assertEquals(s.samples, 2, "the damaged row is not counted");
  assertEquals(s.series.cpu_percent.avg, [30]);
  assertEquals([s.cores, s.gpus], [[], []]);
});
