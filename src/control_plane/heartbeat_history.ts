/**
 * Heartbeat metrics as history (protocol 4, v1.1): a worker that does not use the metrics
 * endpoint (FineTuneLab's own agent reports metrics only in heartbeats) still gets a history,
 * one sample per heartbeat in its stream `heartbeat`.
 */
import { type HeartbeatRequest, MISSED_HEARTBEATS_OFFLINE, SnapshotSchema } from "./_deps.ts";
import type { MetricStore } from "./metric_store.ts";
import type { WorkerView } from "./storage/records.ts";

/** The stream heartbeat snapshots are stored in. */
export const HEARTBEAT_STREAM = "heartbeat";

/** The flat snapshot members that are numbers (every one that accepts 0). */
const NUMERIC_SNAPSHOT_FIELDS: readonly string[] = Object.entries(SnapshotSchema.shape)
  .filter(([, schema]) => schema.safeParse(0).success)
  .map(([name]) => name);

type Metrics = NonNullable<HeartbeatRequest["metrics"]>;

/**
 * A legacy agent's snapshot with its omitted numbers put back as 0: FineTuneLab's agent
 * leaves out every zero value (Go's `omitempty`), so a missing `cpu_percent` means 0 %, not
 * "unknown". Explicit nulls and present values are kept.
 */
export function withOmittedZeros(metrics: Metrics): Metrics {
  const filled: Record<string, unknown> = { ...metrics };
  for (const name of NUMERIC_SNAPSHOT_FIELDS) {
    if (filled[name] === undefined) filled[name] = 0;
  }
  return filled as Metrics;
}

/** Options of {@linkcode keepsHeartbeatHistory}. */
export interface HeartbeatHistoryOptions {
  /** The current time in Unix ms. */
  now: number;
  /** Heartbeat interval handed to workers, in seconds. */
  heartbeatIntervalSeconds: number;
  /** Metrics interval handed to workers, in seconds. */
  metricsIntervalSeconds: number;
}

/**
 * Whether a heartbeat's metrics should be stored as a sample: the worker has not posted to
 * the metrics endpoint within the last {@linkcode MISSED_HEARTBEATS_OFFLINE} intervals (the
 * longer of the two intervals), so its history would otherwise have a gap. A legacy worker
 * never posts, so its heartbeats are history from the first one. Any other worker is given
 * that long after it (re)registers to post its first batch: this project's agent does, and
 * its history stays one stream.
 */
export function keepsHeartbeatHistory(
  worker: Pick<WorkerView, "legacy" | "metrics_posted_at" | "last_registered_at">,
  options: HeartbeatHistoryOptions,
): boolean {
  const quietSince = Math.max(
    worker.metrics_posted_at ?? Number.NEGATIVE_INFINITY,
    worker.legacy
      ? Number.NEGATIVE_INFINITY
      : worker.last_registered_at ?? Number.NEGATIVE_INFINITY,
  );
  const intervalMs = Math.max(options.heartbeatIntervalSeconds, options.metricsIntervalSeconds) *
    1000;
  return options.now - quietSince > MISSED_HEARTBEATS_OFFLINE * intervalMs;
}

/** Options of {@linkcode HeartbeatHistory}. */
export interface HeartbeatHistoryStores {
  metrics: MetricStore;
  now: () => number;
  /** Heartbeat interval handed to workers, in seconds. */
  heartbeatIntervalSeconds: number;
  /** Metrics interval handed to workers, in seconds. */
  metricsIntervalSeconds: number;
}

/** Applies the v1.1 heartbeat rules above to each heartbeat before it is stored. */
export class HeartbeatHistory {
  #options: HeartbeatHistoryStores;

  /** Creates the helper. */
  constructor(options: HeartbeatHistoryStores) {
    this.#options = options;
  }

  /**
   * Returns the heartbeat of `worker` (as stored before it) as it should be stored (a legacy
   * agent's omitted numbers filled in), and keeps its metrics as a history sample when
   * {@linkcode keepsHeartbeatHistory} says so.
   */
  async record(worker: WorkerView, received: HeartbeatRequest): Promise<HeartbeatRequest> {
    const { metrics, now } = this.#options;
    if (received.metrics === undefined) return received;
    const workerId = worker.worker_id;
    const body = worker.legacy
      ? { ...received, metrics: withOmittedZeros(received.metrics) }
      : received;
    if (keepsHeartbeatHistory(worker, { ...this.#options, now: now() })) {
      await metrics.appendToStream(workerId, HEARTBEAT_STREAM, now(), body.metrics!);
    }
    return body;
  }
}
