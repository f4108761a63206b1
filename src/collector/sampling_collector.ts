/**
 * The collector shared by every OS: CPU from `node:os` time counters, the OS reading from
 * a {@linkcode SystemReader}, GPUs from `nvidia-smi`, the agent's own process, and the
 * counter deltas that turn all of it into one protocol sample.
 *
 * @module
 */
import os from "node:os";
import process from "node:process";
import type { Logger } from "../log/logger.ts";
import type { Gpu, Measurement, NetInterface } from "../protocol/mod.ts";
import type { Collector, CollectorInput } from "./collector.ts";
import { counterRate, type CpuTimes, cpuUsage, processCpuPercent } from "./counter_delta.ts";
import { ProbeHealth } from "./probe_health.ts";
import type { SystemReader, SystemReading } from "./system_reading.ts";

const MIB = 2 ** 20;
const GIB = 2 ** 30;

/** A source of GPU entries (see `NvidiaSmiProbe`). */
export interface GpuSource {
  /** The GPUs now; never throws. */
  read(signal?: AbortSignal): Promise<Gpu[]>;
}

/** Options of {@linkcode SamplingCollector}. */
export interface SamplingCollectorOptions {
  /** The OS implementation. */
  reader: SystemReader;
  /** GPUs. @default none (empty list) */
  gpus?: GpuSource;
  /** Where probe failures are logged (once each). */
  logger?: Logger;
  /** Wall clock in Unix milliseconds. @default {Date.now} */
  now?: () => number;
  /** Per-core CPU time counters. @default `os.cpus()` times */
  cpuTimes?: () => CpuTimes[];
  /** CPU microseconds (user + system) this process has used. @default `process.cpuUsage()` */
  processCpuMicros?: () => number;
  /** Resident set size of this process in bytes. @default `Deno.memoryUsage().rss` */
  rssBytes?: () => number;
  /** When this process started (Unix ms), for `agent.uptime_s`. @default process start */
  startedAt?: number;
}

function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function roundOrNull(value: number | null | undefined, digits = 2): number | null {
  return value === null || value === undefined || !Number.isFinite(value)
    ? null
    : round(value, digits);
}

function defaultCpuTimes(): CpuTimes[] {
  return os.cpus().map((cpu) => cpu.times);
}

function defaultProcessCpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

/** Collects samples from one OS reader; see the module doc. */
export class SamplingCollector implements Collector {
  #reader: SystemReader;
  #cpuCount: number | undefined;
  #gpus: GpuSource | undefined;
  #now: () => number;
  #cpuTimes: () => CpuTimes[];
  #processCpuMicros: () => number;
  #rssBytes: () => number;
  #startedAt: number;
  #health: ProbeHealth;
  #previousCpu: { times: CpuTimes[] } | undefined;
  #previousSelf: { micros: number; at: number } | undefined;
  #previousNet: { at: number; byIface: Map<string, { rx: number; tx: number }> } | undefined;
  #closed: Promise<void> | undefined;

  /** @param options the OS reader and overridable sources. */
  constructor(options: SamplingCollectorOptions) {
    this.#reader = options.reader;
    this.#gpus = options.gpus;
    this.#now = options.now ?? Date.now;
    this.#cpuTimes = options.cpuTimes ?? defaultCpuTimes;
    this.#processCpuMicros = options.processCpuMicros ?? defaultProcessCpuMicros;
    this.#rssBytes = options.rssBytes ?? (() => Deno.memoryUsage().rss);
    this.#startedAt = options.startedAt ?? Math.round(performance.timeOrigin);
    this.#health = new ProbeHealth(options.logger);
    // Baselines now, so the first sample already has CPU figures for the time since start.
    try {
      this.#previousCpu = { times: this.#cpuTimes() };
    } catch {
      // Reported (once) by the first sample.
    }
    try {
      this.#previousSelf = { micros: this.#processCpuMicros(), at: this.#now() };
    } catch {
      // As above.
    }
  }

  /** See {@linkcode Collector.sample}. */
  async sample(input: CollectorInput, signal?: AbortSignal): Promise<Measurement> {
    signal?.throwIfAborted();
    if (this.#closed) throw new Error("collector is closed");
    const [reading, gpus] = await Promise.all([
      this.#reader.read(signal),
      this.#gpus ? this.#gpus.read(signal) : Promise.resolve([]),
    ]);
    signal?.throwIfAborted();
    const at = this.#now();
    const cpu = await this.#health.run("cpu", () => {
      const times = this.#cpuTimes();
      if (times.length > 0) this.#cpuCount = times.length;
      const usage = cpuUsage(this.#previousCpu?.times, times);
      this.#previousCpu = { times };
      return usage;
    });
    const self = await this.#health.run("agent", () => {
      const micros = this.#processCpuMicros();
      const previous = this.#previousSelf;
      this.#previousSelf = { micros, at };
      return {
        rss: this.#rssBytes(),
        cpu: processCpuPercent(
          previous?.micros,
          micros,
          at - (previous?.at ?? at),
          // Counted from this sample's CPU times: a second os.cpus() would read
          // /proc/stat and /proc/cpuinfo again (issue 17).
          this.#cpuCount ?? os.cpus().length,
        ),
      };
    });
    const net = this.#netRates(reading, at);
    const memory = reading.memory;
    return {
      ts: Math.max(0, Math.round(at)),
      cpu_percent: roundOrNull(cpu?.total, 1),
      cpu_per_core: cpu ? cpu.perCore.map((p) => roundOrNull(p, 1)) : [],
      load_avg: reading.loadAvg
        ? [round(reading.loadAvg[0]), round(reading.loadAvg[1]), round(reading.loadAvg[2])]
        : null,
      memory_used_mb: memory
        ? round(Math.max(0, memory.totalBytes - memory.availableBytes) / MIB)
        : null,
      memory_total_mb: memory ? round(memory.totalBytes / MIB) : null,
      memory_available_mb: memory ? round(memory.availableBytes / MIB) : null,
      swap_used_mb: memory?.swapUsedBytes == null ? null : round(memory.swapUsedBytes / MIB),
      swap_total_mb: memory?.swapTotalBytes == null ? null : round(memory.swapTotalBytes / MIB),
      disk_used_gb: reading.mainDisk ? round(reading.mainDisk.usedBytes / GIB) : null,
      disk_total_gb: reading.mainDisk ? round(reading.mainDisk.totalBytes / GIB) : null,
      disks: (reading.disks ?? []).map((d) => ({
        mount: d.mount,
        fs_type: d.fsType,
        total_bytes: d.totalBytes,
        used_bytes: d.usedBytes,
      })),
      network_sent_mb: reading.net
        ? round(reading.net.reduce((sum, row) => sum + row.txBytes, 0) / MIB)
        : null,
      network_recv_mb: reading.net
        ? round(reading.net.reduce((sum, row) => sum + row.rxBytes, 0) / MIB)
        : null,
      net,
      gpus,
      trading_status: input.trading.status,
      active_trades: input.trading.active_trades,
      trading: input.trading,
      agent: {
        rss_mb: self ? round(self.rss / MIB) : null,
        cpu_percent: roundOrNull(self?.cpu, 1),
        uptime_s: Math.max(0, round((at - this.#startedAt) / 1000, 1)),
        spool_depth: input.spoolDepth,
        dropped_samples: input.droppedSamples,
      },
    };
  }

  #netRates(reading: SystemReading, at: number): NetInterface[] {
    if (!reading.net) return [];
    const previous = this.#previousNet;
    const elapsedMs = previous ? at - previous.at : 0;
    const byIface = new Map<string, { rx: number; tx: number }>();
    const rows = reading.net.map((row) => {
      byIface.set(row.iface, { rx: row.rxBytes, tx: row.txBytes });
      const before = previous?.byIface.get(row.iface);
      return {
        iface: row.iface,
        rx_bytes: row.rxBytes,
        tx_bytes: row.txBytes,
        rx_bytes_per_s: roundOrNull(counterRate(before?.rx, row.rxBytes, elapsedMs), 1),
        tx_bytes_per_s: roundOrNull(counterRate(before?.tx, row.txBytes, elapsedMs), 1),
      };
    });
    this.#previousNet = { at, byIface };
    return rows;
  }

  /** Stops the OS reader's helper processes. Idempotent. */
  close(): Promise<void> {
    return this.#closed ??= this.#reader.close();
  }
}
