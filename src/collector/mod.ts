/**
 * Metrics collectors: {@linkcode createCollector} picks the implementation for this OS once.
 *
 * @example
 * ```ts
 * import { createCollector } from "./mod.ts";
 * const collector = createCollector({ diskPath: "/var/lib/agent" });
 * const sample = await collector.sample({
 *   spoolDepth: 0, droppedSamples: 0,
 *   trading: { status: "stopped", pid: null, uptime_s: null, restarts: 0, active_trades: 0 },
 * });
 * await collector.close();
 * ```
 *
 * @module
 */
import type { Logger } from "../log/logger.ts";
import { createDarwinReader } from "./darwin.ts";
import { createLinuxReader } from "./linux.ts";
import { NvidiaSmiProbe } from "./nvidia_smi.ts";
import { SamplingCollector } from "./sampling_collector.ts";
import type { SystemReader } from "./system_reading.ts";
import { createWindowsReader } from "./windows.ts";

export type { Collector, CollectorInput } from "./collector.ts";
export { SamplingCollector } from "./sampling_collector.ts";
export { collectorPermissionFlags, collectorPermissions } from "./permissions.ts";
export type { CollectorPermissionOptions, CollectorPermissions } from "./permissions.ts";

/** Options of {@linkcode createCollector}. */
export interface CreateCollectorOptions {
  /** `disk_*` report the volume holding this path (the agent passes its state dir). On Linux
   * and macOS Deno stats it, so the process needs read access to it (and to nothing else).
   * @default {"/"} (the system drive on Windows) */
  diskPath?: string;
  /** Where probe failures are logged, once each. */
  logger?: Logger;
  /** Wall clock in Unix milliseconds. @default {Date.now} */
  now?: () => number;
  /** The OS whose implementation is used. @default {Deno.build.os} */
  os?: typeof Deno.build.os;
}

/** The reader for `os`: Linux, macOS or Windows; other Unixes get the Linux one. */
function readerFor(options: CreateCollectorOptions): SystemReader {
  const common = {
    ...(options.diskPath !== undefined ? { diskPath: options.diskPath } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.now ? { now: options.now } : {}),
  };
  switch (options.os ?? Deno.build.os) {
    case "darwin":
      return createDarwinReader(common);
    case "windows":
      return createWindowsReader(common);
    default:
      return createLinuxReader(common);
  }
}

/**
 * Creates the collector for this OS (chosen once), with NVIDIA GPUs when `nvidia-smi` exists.
 * Its `close()` returns a promise that settles once helper processes have exited.
 */
export function createCollector(options: CreateCollectorOptions = {}): SamplingCollector {
  const logger = options.logger?.child({ component: "collector" });
  const withLogger = { ...options, ...(logger ? { logger } : {}) };
  return new SamplingCollector({
    reader: readerFor(withLogger),
    // No NVIDIA GPUs on macOS (and no nvidia-smi to ask).
    ...((options.os ?? Deno.build.os) === "darwin"
      ? {}
      : { gpus: new NvidiaSmiProbe(logger ? { logger } : {}) }),
    ...(logger ? { logger } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
}
