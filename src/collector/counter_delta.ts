/**
 * Counter-delta logic shared by every OS: CPU percentages from time counters and byte
 * rates from byte counters. The first observation has no delta (null), a counter that goes
 * backwards is a reset (null, never negative), zero elapsed time gives null, and CPU is
 * clamped to 0–100.
 *
 * @module
 */

/** Cumulative CPU times of one core in milliseconds, as `node:os` `cpus()[i].times`. */
export interface CpuTimes {
  user: number;
  nice: number;
  sys: number;
  idle: number;
  irq: number;
}

/** CPU busy percentages between two observations. */
export interface CpuUsage {
  /** All cores together, 0–100; null without a usable delta. */
  total: number | null;
  /** Per core, 0–100 each; null entries where that core has no usable delta. */
  perCore: (number | null)[];
}

/** Clamps `value` to 0–100. */
export function clampPercent(value: number): number {
  if (Number.isNaN(value)) return 0;
  return Math.min(100, Math.max(0, value));
}

/**
 * Rate per second of a cumulative counter, or null when there is no previous value, the
 * elapsed time is not positive, or the counter went backwards (reboot, wrap, reset).
 */
export function counterRate(
  previous: number | undefined,
  current: number,
  elapsedMs: number,
): number | null {
  if (previous === undefined) return null;
  if (!(elapsedMs > 0)) return null;
  if (!Number.isFinite(previous) || !Number.isFinite(current)) return null;
  if (current < previous) return null;
  return (current - previous) / (elapsedMs / 1000);
}

function sumTimes(t: CpuTimes): number {
  return t.user + t.nice + t.sys + t.idle + t.irq;
}

/**
 * Busy percentage of one core between two observations, or null when there is no previous
 * observation, no time passed, or any counter went backwards.
 */
export function coreBusyPercent(previous: CpuTimes | undefined, current: CpuTimes): number | null {
  if (previous === undefined) return null;
  const keys = ["user", "nice", "sys", "idle", "irq"] as const;
  for (const key of keys) {
    if (!Number.isFinite(current[key]) || current[key] < previous[key]) return null;
  }
  const total = sumTimes(current) - sumTimes(previous);
  if (!(total > 0)) return null;
  const idle = current.idle - previous.idle;
  return clampPercent(100 * (1 - idle / total));
}

/**
 * CPU usage between two observations of all cores. When the number of cores changed (CPU
 * hotplug) per-core values cannot be paired and everything is null.
 */
export function cpuUsage(previous: CpuTimes[] | undefined, current: CpuTimes[]): CpuUsage {
  if (previous === undefined || previous.length !== current.length) {
    return { total: null, perCore: current.map(() => null) };
  }
  const perCore = current.map((times, i) => coreBusyPercent(previous[i], times));
  if (perCore.some((p) => p === null) || current.length === 0) {
    return { total: null, perCore };
  }
  let busy = 0;
  let total = 0;
  current.forEach((times, i) => {
    const before = previous[i] as CpuTimes;
    const dt = sumTimes(times) - sumTimes(before);
    total += dt;
    busy += dt - (times.idle - before.idle);
  });
  return { total: total > 0 ? clampPercent((100 * busy) / total) : null, perCore };
}

/**
 * CPU percentage of a process from cumulative CPU microseconds (user + system) over a wall
 * interval, as a share of the whole machine (`cores` cores), 0–100; null without a usable delta.
 */
export function processCpuPercent(
  previousMicros: number | undefined,
  currentMicros: number,
  elapsedMs: number,
  cores: number,
): number | null {
  const rate = counterRate(previousMicros, currentMicros, elapsedMs); // µs per second
  if (rate === null || !(cores > 0)) return null;
  return clampPercent(rate / 1e6 / cores * 100);
}
