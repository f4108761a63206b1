/**
 * Liberal readers (protocol v1.1): what a server accepts from agents, which is wider than what
 * this project's agent sends. A sample needs only `stream`, `seq` and `ts`; every other field
 * may be missing (an older or simpler agent, a platform without that metric) and reads as
 * null. A result body may omit `command_id` (the URL names the command). Bounds stay strict:
 * strings in a sample hold at most 256 characters and arrays at most 256 entries, so one key
 * cannot fill a disk with a few large samples.
 *
 * The schemas of `metrics.ts` and `messages.ts` stay what the agent produces and checks.
 */
import { z } from "zod";
import { MAX_SAMPLES_PER_REQUEST, RESULT_STATUSES } from "./constants.ts";
import { CommandResultSchema } from "./messages.ts";

/** Longest string anywhere in a sample, in UTF-16 code units (protocol 3.3, v1.1). */
export const MAX_SAMPLE_STRING_LENGTH = 256;
/** Most entries of any array in a sample (protocol 3.3, v1.1). */
export const MAX_SAMPLE_ARRAY_LENGTH = 256;

const num = z.number().finite();
const count = z.number().int().nonnegative();
const text = z.string().max(MAX_SAMPLE_STRING_LENGTH);

/**
 * The sample schema, with every field but `stream`, `seq` and `ts` optional and nullable. With
 * `fill`, a missing field reads as null (how samples are shown); without, it stays missing (how
 * they are stored, so a sample never takes more room on disk than on the wire).
 */
function sampleSchema<F extends boolean>(fill: F) {
  function maybe<T extends z.ZodType>(schema: T) {
    return (fill ? schema.nullable().default(null) : schema.nullable().optional()) as F extends true
      ? z.ZodDefault<z.ZodNullable<T>>
      : z.ZodOptional<z.ZodNullable<T>>;
  }
  const list = <T extends z.ZodType>(item: T) => z.array(item).max(MAX_SAMPLE_ARRAY_LENGTH);
  const disk = z.object({
    mount: maybe(text),
    fs_type: maybe(text),
    total_bytes: maybe(num.nonnegative()),
    used_bytes: maybe(num.nonnegative()),
  });
  const netInterface = z.object({
    iface: maybe(text),
    rx_bytes: maybe(num.nonnegative()),
    tx_bytes: maybe(num.nonnegative()),
    rx_bytes_per_s: maybe(num),
    tx_bytes_per_s: maybe(num),
  });
  const gpu = z.object({
    index: maybe(count),
    name: maybe(text),
    util_percent: maybe(num),
    memory_used_mb: maybe(num),
    memory_total_mb: maybe(num),
    temperature_c: maybe(num),
    power_w: maybe(num),
  });
  const agentSelf = z.object({
    rss_mb: maybe(num),
    cpu_percent: maybe(num),
    uptime_s: maybe(num.nonnegative()),
    spool_depth: maybe(count),
    dropped_samples: maybe(count),
  });
  const trading = z.object({
    status: maybe(text),
    pid: maybe(z.number().int()),
    uptime_s: maybe(num),
    restarts: maybe(count),
    active_trades: maybe(count),
  });
  return z.object({
    stream: z.string().min(1).max(64),
    seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    ts: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    cpu_percent: maybe(num),
    memory_used_mb: maybe(num),
    memory_total_mb: maybe(num),
    disk_used_gb: maybe(num),
    disk_total_gb: maybe(num),
    network_sent_mb: maybe(num),
    network_recv_mb: maybe(num),
    trading_status: maybe(text),
    active_trades: maybe(count),
    cpu_per_core: maybe(list(num.nullable())),
    load_avg: maybe(z.tuple([num, num, num])),
    memory_available_mb: maybe(num),
    swap_used_mb: maybe(num),
    swap_total_mb: maybe(num),
    disks: maybe(list(disk)),
    net: maybe(list(netInterface)),
    gpus: maybe(list(gpu)),
    agent: maybe(agentSelf),
    trading: maybe(trading),
  });
}

/**
 * A sample as the server reads it (protocol 3.3, v1.1): `stream`, `seq`, `ts` required, every
 * other field of protocol 5.2 optional (missing stays missing), unknown fields dropped, strings
 * and arrays bounded. `trading_status` is any short string, so a workload state this project
 * does not know is still stored.
 */
export const IncomingSampleSchema = sampleSchema(false);
/** A sample as the server reads and stores it. */
export type IncomingSample = z.output<typeof IncomingSampleSchema>;

/** A stored sample as it is shown: every field of protocol 5.2 present, null where missing. */
export const ShownSampleSchema = sampleSchema(true);
/** A sample with every field present. */
export type ShownSample = z.output<typeof ShownSampleSchema>;

/** `POST /api/workers/{id}/metrics` as the server reads it (protocol 3.3, v1.1). */
export const IncomingMetricsRequestSchema = z.object({
  samples: z.array(IncomingSampleSchema).min(1).max(MAX_SAMPLES_PER_REQUEST),
});
/** `POST /api/workers/{id}/metrics` as the server reads it. */
export type IncomingMetricsRequest = z.output<typeof IncomingMetricsRequestSchema>;

/**
 * `POST /api/workers/commands/{id}/result` as the server reads it (protocol 3.4 and 4, v1.1):
 * the URL's id is authoritative and the body's `command_id` is optional; the status `error`
 * that FineTuneLab's own agent sends for a type it does not know is accepted (and stored as
 * `failed`).
 */
export const IncomingResultSchema = CommandResultSchema.extend({
  command_id: z.string().min(1).max(128).optional(),
  status: z.enum([...RESULT_STATUSES, "error"]),
});
/** A result body as the server reads it. */
export type IncomingResult = z.output<typeof IncomingResultSchema>;
