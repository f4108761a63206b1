/** Metrics: the flat heartbeat snapshot and the full sample (protocol 5). */
import { z } from "zod";
import { TRADING_STATUSES } from "./constants.ts";

const num = z.number().finite();
const nullableNum = num.nullable();

/** The flat, FineTuneLab-compatible snapshot sent in heartbeats (protocol 5.1). */
export const SnapshotSchema = z.object({
  cpu_percent: nullableNum,
  memory_used_mb: nullableNum,
  memory_total_mb: nullableNum,
  disk_used_gb: nullableNum,
  disk_total_gb: nullableNum,
  network_sent_mb: nullableNum,
  network_recv_mb: nullableNum,
  trading_status: z.enum(TRADING_STATUSES),
  active_trades: z.number().int().nonnegative(),
});
/** The flat snapshot of protocol 5.1. */
export type Snapshot = z.infer<typeof SnapshotSchema>;

/** One mounted file system in a sample. */
export const DiskSchema = z.object({
  mount: z.string(),
  fs_type: z.string(),
  total_bytes: num.nonnegative(),
  used_bytes: num.nonnegative(),
});
/** One mounted file system in a sample. */
export type Disk = z.infer<typeof DiskSchema>;

/** One network interface in a sample; rates are null on the first sample and after a reset. */
export const NetInterfaceSchema = z.object({
  iface: z.string(),
  rx_bytes: num.nonnegative(),
  tx_bytes: num.nonnegative(),
  rx_bytes_per_s: nullableNum,
  tx_bytes_per_s: nullableNum,
});
/** One network interface in a sample. */
export type NetInterface = z.infer<typeof NetInterfaceSchema>;

/** One GPU in a sample; fields a driver does not report are null. */
export const GpuSchema = z.object({
  index: z.number().int().nonnegative(),
  name: z.string(),
  util_percent: nullableNum,
  memory_used_mb: nullableNum,
  memory_total_mb: nullableNum,
  temperature_c: nullableNum,
  power_w: nullableNum,
});
/** One GPU in a sample. */
export type Gpu = z.infer<typeof GpuSchema>;

/** The agent's own process. */
export const AgentSelfSchema = z.object({
  rss_mb: nullableNum,
  cpu_percent: nullableNum,
  uptime_s: num.nonnegative(),
  spool_depth: z.number().int().nonnegative(),
  dropped_samples: z.number().int().nonnegative(),
  /** v1.1: MiB the agent's outbox and spool use of `state_max_mb`. */
  state_used_mb: nullableNum.optional(),
});
/** The agent's own process. */
export type AgentSelf = z.infer<typeof AgentSelfSchema>;

/** The trading workload as the supervisor sees it. */
export const TradingStateSchema = z.object({
  status: z.enum(TRADING_STATUSES),
  pid: z.number().int().nullable(),
  uptime_s: nullableNum,
  restarts: z.number().int().nonnegative(),
  active_trades: z.number().int().nonnegative(),
});
/** The trading workload as the supervisor sees it. */
export type TradingState = z.infer<typeof TradingStateSchema>;

/** A full sample sent to the metrics endpoint (protocol 5.2). */
export const SampleSchema = SnapshotSchema.extend({
  stream: z.string().min(1).max(64),
  seq: z.number().int().nonnegative(),
  ts: z.number().int().nonnegative(),
  cpu_per_core: z.array(nullableNum),
  load_avg: z.tuple([num, num, num]).nullable(),
  memory_available_mb: nullableNum,
  swap_used_mb: nullableNum,
  swap_total_mb: nullableNum,
  disks: z.array(DiskSchema),
  net: z.array(NetInterfaceSchema),
  gpus: z.array(GpuSchema),
  agent: AgentSelfSchema,
  trading: TradingStateSchema,
});
/** A full sample of protocol 5.2. */
export type Sample = z.infer<typeof SampleSchema>;

/**
 * A sample as measured, before it has its place in a stream: everything but `stream` and
 * `seq`, which the agent's spool stamps when it stores it.
 */
export type Measurement = Omit<Sample, "stream" | "seq">;

/**
 * `measurement` with its place in a stream. The agent's spool is the one caller: it stamps
 * each sample as it stores it (protocol 3.3), so `seq` is allocated in one place.
 */
export function stampSample(
  measurement: Measurement,
  place: { stream: string; seq: number },
): Sample {
  return { stream: place.stream, seq: place.seq, ...measurement };
}

/** The flat snapshot fields of a sample. */
export function snapshotOf(sample: Sample): Snapshot {
  return {
    cpu_percent: sample.cpu_percent,
    memory_used_mb: sample.memory_used_mb,
    memory_total_mb: sample.memory_total_mb,
    disk_used_gb: sample.disk_used_gb,
    disk_total_gb: sample.disk_total_gb,
    network_sent_mb: sample.network_sent_mb,
    network_recv_mb: sample.network_recv_mb,
    trading_status: sample.trading_status,
    active_trades: sample.active_trades,
  };
}
