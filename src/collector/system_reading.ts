/**
 * What each OS implementation reports per sample; the shared collector turns it into the
 * protocol's sample (units, deltas, totals).
 *
 * @module
 */

/** Cumulative byte counters of one network interface since boot. */
export interface NetCounters {
  iface: string;
  rxBytes: number;
  txBytes: number;
}

/** Physical memory and swap in bytes. */
export interface MemoryReading {
  totalBytes: number;
  availableBytes: number;
  swapTotalBytes: number | null;
  swapUsedBytes: number | null;
}

/** One mounted file system in bytes. */
export interface DiskReading {
  mount: string;
  fsType: string;
  totalBytes: number;
  usedBytes: number;
}

/** One reading of the machine; a field is null when its probe failed. */
export interface SystemReading {
  memory: MemoryReading | null;
  loadAvg: [number, number, number] | null;
  /** Real (non-pseudo) file systems. */
  disks: DiskReading[] | null;
  /** The volume holding the collector's `diskPath`. */
  mainDisk: { totalBytes: number; usedBytes: number } | null;
  /** Non-loopback interfaces. */
  net: NetCounters[] | null;
}

/** One OS implementation: chosen once at start by `createCollector`. */
export interface SystemReader {
  /** Reads the machine; never throws for a failing probe (its field is null). */
  read(signal?: AbortSignal): Promise<SystemReading>;
  /** Stops helper processes. */
  close(): Promise<void>;
}
