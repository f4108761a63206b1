/** Small builders shared by the agent's unit tests. */
import { SampleSpool } from "../../src/agent/sample_spool.ts";
import { createLogger, type Logger } from "../../src/log/logger.ts";
import {
  type Command,
  deriveSigningKey,
  type Sample,
  signCommand,
} from "../../src/protocol/mod.ts";
import { onDiskBytes, StateBudget } from "../../src/state/state_budget.ts";

/** A logger that keeps its lines in memory. */
export function memoryLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger({ level: "debug", write: (line) => lines.push(line) }), lines };
}

/** Options of {@linkcode signedCommand}. */
export interface SignedCommandOptions {
  /** `created_at` and `issued_at`; `expires_at` is 10 minutes later. @default {Date.now()} */
  now?: number;
  /** Members that replace the defaults (a `ping` for `wkr_me`) before signing. */
  overrides?: Record<string, unknown>;
}

/** A command signed with the HMAC key derived from `apiKey`, as a control plane would send it. */
export async function signedCommand(
  apiKey: string,
  options: SignedCommandOptions = {},
): Promise<Command> {
  const now = options.now ?? Date.now();
  return await signCommand({
    id: crypto.randomUUID(),
    worker_id: "wkr_me",
    command_type: "ping",
    params: {},
    timeout_seconds: 30,
    created_at: new Date(now).toISOString(),
    issued_at: now,
    expires_at: now + 600_000,
    ...options.overrides,
  }, { alg: "hmac-sha256", key: await deriveSigningKey(apiKey) }) as Command;
}

/** A valid sample of `stream` with `seq`. */
export function sampleOf(stream: string, seq: number, padding = 0): Sample {
  return {
    stream,
    seq,
    ts: 1_764_000_000_000 + seq * 1000,
    cpu_percent: 1,
    memory_used_mb: 1,
    memory_total_mb: 2,
    disk_used_gb: 1,
    disk_total_gb: 2,
    network_sent_mb: 0,
    network_recv_mb: 0,
    trading_status: "stopped",
    active_trades: 0,
    cpu_per_core: Array.from({ length: padding }, () => 1),
    load_avg: null,
    memory_available_mb: 1,
    swap_used_mb: 0,
    swap_total_mb: 0,
    disks: [],
    net: [],
    gpus: [],
    agent: { rss_mb: 1, cpu_percent: 0, uptime_s: 1, spool_depth: 0, dropped_samples: 0 },
    trading: { status: "stopped", pid: null, uptime_s: null, restarts: 0, active_trades: 0 },
  };
}

/** A {@linkcode SampleSpool} of stream `s` in `dir`, on a fresh budget of `budgetBytes` (1 MiB). */
export function openSpool(
  dir: string,
  logger: Logger,
  budgetBytes = 1 << 20,
  stream = "s",
): Promise<SampleSpool> {
  return SampleSpool.open(dir, { stream, budget: new StateBudget(budgetBytes), logger });
}

/** Disk bytes the spool counts for one {@linkcode sampleOf} with `padding`. */
export function sampleDiskBytes(padding: number): number {
  return onDiskBytes(new TextEncoder().encode(JSON.stringify(sampleOf("s", 0, padding))).length);
}
