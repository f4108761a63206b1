/**
 * A worker's history for charts: the stored samples of a time range, grouped in at most
 * {@linkcode MAX_SERIES_POINTS} buckets with the minimum, mean and maximum of each, so a
 * chart of 7 days has as many points as one of 15 minutes. The samples come from the engine's
 * `SampleRepository.scan`, in batches.
 *
 * Each sample is parsed once, in one pass (measured faster than letting SQLite extract the
 * fields: `bench/dashboard_bench.ts`), and the pass yields to the event loop every few
 * thousand samples, so a long range does not hold up heartbeats.
 *
 * @module
 */
import type { SampleRepository } from "./storage/repositories.ts";
import {
  type Band,
  type GpuSeries,
  MAX_SERIES_POINTS,
  SERIES_NAMES,
  type SeriesName,
  type SeriesResponse,
} from "./admin_api.ts";

/** The narrowest bucket: samples come at most once a second (protocol 3.1). */
export const MIN_BUCKET_MS = 1000;

/** Samples parsed between two yields to the event loop. */
const YIELD_EVERY = 4000;

/** Most CPU cores and GPUs charted (a sample's arrays hold at most 256 entries anyway). */
const MAX_CORES = 256;
const MAX_GPUS = 64;

/** Options of {@linkcode MetricSeries.series}. */
export interface SeriesOptions {
  /** Start of the range, Unix ms (inclusive). */
  since: number;
  /** End of the range, Unix ms (exclusive). */
  until: number;
  /** Most points. @default {MAX_SERIES_POINTS} */
  maxPoints?: number;
  /**
   * How often the worker sends a sample (ms). Points further apart than three of these (or
   * three times the data's usual spacing, when that is longer) get a gap between them, so a
   * chart does not draw a line across an outage. @default {10000}
   */
  sampleIntervalMs?: number;
  /** Stops the pass (a closed request). */
  signal?: AbortSignal;
}

/** Running minimum, sum, maximum and count per bucket. */
class Accumulator {
  readonly min: Float64Array;
  readonly max: Float64Array;
  readonly sum: Float64Array;
  readonly n: Uint32Array;

  constructor(buckets: number) {
    this.min = new Float64Array(buckets).fill(Number.POSITIVE_INFINITY);
    this.max = new Float64Array(buckets).fill(Number.NEGATIVE_INFINITY);
    this.sum = new Float64Array(buckets);
    this.n = new Uint32Array(buckets);
  }

  add(bucket: number, value: number | undefined): void {
    if (value === undefined) return;
    if (value < this.min[bucket]!) this.min[bucket] = value;
    if (value > this.max[bucket]!) this.max[bucket] = value;
    this.sum[bucket]! += value;
    this.n[bucket]!++;
  }

  band(slots: readonly (number | null)[]): Band {
    const pick = (f: (b: number) => number) =>
      slots.map((b) => (b === null || this.n[b] === 0 ? null : round(f(b))));
    return {
      min: pick((b) => this.min[b]!),
      avg: pick((b) => this.sum[b]! / this.n[b]!),
      max: pick((b) => this.max[b]!),
    };
  }
}

/** A finite number, else undefined: stored samples are data of any type. */
function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function obj(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? value as Record<string, unknown>
    : undefined;
}

/** Two decimals are plenty for a chart, and keep a 7-day answer small. */
function round(value: number): number | null {
  return Number.isFinite(value) ? Math.round(value * 100) / 100 : null;
}

/** The value of each scalar series in one parsed sample. */
function scalars(s: Record<string, unknown>): Record<SeriesName, number | undefined> {
  const net = Array.isArray(s.net) ? s.net : [];
  let rx: number | undefined;
  let tx: number | undefined;
  for (const entry of net) {
    const e = obj(entry);
    const r = num(e?.rx_bytes_per_s);
    const t = num(e?.tx_bytes_per_s);
    if (r !== undefined) rx = (rx ?? 0) + r;
    if (t !== undefined) tx = (tx ?? 0) + t;
  }
  const load = Array.isArray(s.load_avg) ? s.load_avg : [];
  const trading = obj(s.trading);
  const status = trading?.status ?? s.trading_status;
  return {
    cpu_percent: num(s.cpu_percent),
    memory_used_mb: num(s.memory_used_mb),
    memory_total_mb: num(s.memory_total_mb),
    disk_used_gb: num(s.disk_used_gb),
    disk_total_gb: num(s.disk_total_gb),
    net_rx_bytes_per_s: rx,
    net_tx_bytes_per_s: tx,
    load_1: num(load[0]),
    load_5: num(load[1]),
    load_15: num(load[2]),
    // 100 while running, 0 in any other state, nothing when the sample has no state.
    trading_running_percent: typeof status === "string"
      ? (status === "running" ? 100 : 0)
      : undefined,
    active_trades: num(trading?.active_trades) ?? num(s.active_trades),
  };
}

/** The median distance between consecutive entries of a sorted list (1 for fewer than 2). */
function medianStep(sorted: readonly number[]): number {
  if (sorted.length < 2) return 1;
  const steps = sorted.slice(1).map((v, i) => v - sorted[i]!).sort((a, b) => a - b);
  return steps[Math.floor(steps.length / 2)]!;
}

/** Bucketed history queries over the control plane database. */
export class MetricSeries {
  #samples: SampleRepository;

  /** Creates the query helper. */
  constructor(samples: SampleRepository) {
    this.#samples = samples;
  }

  /** The history of `workerId` between `since` and `until`, in buckets. */
  async series(
    workerId: string,
    options: SeriesOptions,
  ): Promise<Omit<SeriesResponse, "server_time">> {
    const { since, until } = options;
    const maxPoints = Math.max(
      1,
      Math.min(MAX_SERIES_POINTS, Math.floor(options.maxPoints ?? MAX_SERIES_POINTS)),
    );
    const span = Math.max(1, until - since);
    const bucketMs = Math.max(MIN_BUCKET_MS, Math.ceil(span / maxPoints));
    const buckets = Math.ceil(span / bucketMs);

    const scalarAcc = Object.fromEntries(
      SERIES_NAMES.map((name) => [name, new Accumulator(buckets)]),
    ) as Record<SeriesName, Accumulator>;
    const count = new Uint32Array(buckets);
    const cores: Accumulator[] = [];
    const gpus = new Map<
      number,
      { name: string | null; util: Accumulator; mem: Accumulator; total: Accumulator }
    >();

    let seen = 0;
    for await (const batch of this.#samples.scan(workerId, since, until)) {
      for (const row of batch) {
        if (++seen % YIELD_EVERY === 0) {
          await new Promise((resolve) => setTimeout(resolve, 0));
          options.signal?.throwIfAborted();
        }
        const b = Math.floor((Number(row.ts) - since) / bucketMs);
        if (b < 0 || b >= buckets) continue;
        let parsed: unknown;
        try {
          parsed = JSON.parse(row.sample);
        } catch {
          continue; // a damaged row is skipped, as the sample list shows it as {}
        }
        const s = obj(parsed);
        if (!s) continue;
        count[b]!++;
        const values = scalars(s);
        for (const name of SERIES_NAMES) scalarAcc[name].add(b, values[name]);
        if (Array.isArray(s.cpu_per_core)) {
          const perCore = s.cpu_per_core;
          for (let c = 0; c < perCore.length && c < MAX_CORES; c++) {
            (cores[c] ??= new Accumulator(buckets)).add(b, num(perCore[c]));
          }
        }
        if (Array.isArray(s.gpus)) {
          s.gpus.forEach((entry: unknown, position: number) => {
            const g = obj(entry);
            if (!g) return;
            const index = num(g.index) ?? position;
            if (!Number.isInteger(index) || index < 0) return;
            let gpu = gpus.get(index);
            if (!gpu) {
              if (gpus.size >= MAX_GPUS) return;
              gpu = {
                name: null,
                util: new Accumulator(buckets),
                mem: new Accumulator(buckets),
                total: new Accumulator(buckets),
              };
              gpus.set(index, gpu);
            }
            if (typeof g.name === "string") gpu.name = g.name;
            gpu.util.add(b, num(g.util_percent));
            gpu.mem.add(b, num(g.memory_used_mb));
            gpu.total.add(b, num(g.memory_total_mb));
          });
        }
      }
    }

    // Points: one per non-empty bucket, and a gap (nulls) where the data stops for a while:
    // for longer than three times the usual spacing of the data (or of the configured interval).
    const filled: number[] = [];
    for (let b = 0; b < buckets; b++) if (count[b]! > 0) filled.push(b);
    const gapMs = 3 * Math.max(medianStep(filled) * bucketMs, options.sampleIntervalMs ?? 10_000);
    const slots: (number | null)[] = [];
    filled.forEach((b, i) => {
      if (i > 0 && (b - filled[i - 1]!) * bucketMs > gapMs) slots.push(null);
      slots.push(b);
    });
    const middle = Math.floor(bucketMs / 2);
    const t = slots.map((b, i) => since + (b ?? slots[i - 1]! + 1) * bucketMs + middle);

    let samples = 0;
    for (const n of count) samples += n;
    return {
      worker_id: workerId,
      since,
      until,
      bucket_ms: bucketMs,
      samples,
      t,
      count: slots.map((b) => (b === null ? 0 : count[b]!)),
      series: Object.fromEntries(
        SERIES_NAMES.map((name) => [name, scalarAcc[name].band(slots)]),
      ) as Record<SeriesName, Band>,
      cores: cores.map((core) => core.band(slots).avg),
      gpus: [...gpus.entries()].sort(([a], [b]) => a - b).map(([index, g]): GpuSeries => ({
        index,
        name: g.name,
        util_percent: g.util.band(slots),
        memory_used_mb: g.mem.band(slots),
        memory_total_mb: g.total.band(slots).max,
      })),
    };
  }
}
