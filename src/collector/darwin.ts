/**
 * macOS implementation. Deno has no source for network counters or page-accurate memory
 * figures on macOS (its `systemMemoryInfo` assumes 4 KiB pages, Apple silicon uses 16 KiB),
 * so one long-lived `sh` helper runs `vm_stat`, `sysctl` and `netstat -ibn` per sample (one
 * pipe round trip), and `df -k -P` with `mount` when the `disks` list is refreshed (at most
 * every 30 s; cached in between). Load average comes from Deno, and `disk_*` from `statfs` of
 * the disk path, the only path Deno needs to read (the agent's state dir).
 *
 * @module
 */
import type { Logger } from "../log/logger.ts";
import {
  availableBytesOf,
  parseDarwinDf,
  parseDarwinMount,
  parseNetstatIbn,
  parseSwapUsage,
  parseVmStat,
} from "./parse_darwin.ts";
import { isLoopbackName } from "./parse_proc_net_dev.ts";
import { ProbeHealth } from "./probe_health.ts";
import { PROBE_END_MARKER, ProbeProcess } from "./probe_process.ts";
import { volumeUsage } from "./statfs_disk.ts";
import type { DiskReading, SystemReader, SystemReading } from "./system_reading.ts";

/** Separates the outputs of several tools in one helper answer. */
export const DARWIN_SECTION_MARKER = "@@FTL_SECTION@@";

/** The helper script: `sample` → vm_stat, sysctl, netstat; `disks` → df, mount. */
export const DARWIN_HELPER_SCRIPT = [
  `PATH=/usr/bin:/bin:/usr/sbin:/sbin:$PATH`,
  `while IFS= read -r req; do`,
  `  case "$req" in`,
  `    sample) vm_stat; echo '${DARWIN_SECTION_MARKER}'; sysctl -n hw.memsize vm.swapusage;` +
  ` echo '${DARWIN_SECTION_MARKER}'; netstat -ibn ;;`,
  `    disks) df -k -P; echo '${DARWIN_SECTION_MARKER}'; mount ;;`,
  `  esac`,
  `  printf '%s\\n' '${PROBE_END_MARKER}'`,
  `done`,
].join("\n");

/** Options of {@linkcode createDarwinReader}. */
export interface DarwinReaderOptions {
  /** `disk_*` report the volume holding this path (Deno needs read access to it); "/" means
   * the Data volume. @default {"/"} */
  diskPath?: string;
  /** Where probe failures are logged (once each). */
  logger?: Logger;
  /** Clock for the mount-list refresh. @default {Date.now} */
  now?: () => number;
  /** Re-read the `disks` list (mounts and sizes) at most this often. @default {30000} */
  mountRefreshMs?: number;
  /** Deadline of one helper answer. @default {3000} */
  timeoutMs?: number;
}

/** Splits a helper answer into the outputs of its tools. */
export function splitSections(text: string): string[] {
  return text.split(new RegExp(`^${DARWIN_SECTION_MARKER}\\r?\\n`, "m"));
}

/** The memory reading from `vm_stat` and `sysctl -n hw.memsize vm.swapusage` outputs. */
export function darwinMemory(vmStatText: string, sysctlText: string) {
  const [memsize, ...swapLines] = sysctlText.trim().split(/\r?\n/);
  const totalBytes = Number(memsize);
  if (!(totalBytes > 0)) throw new SyntaxError(`hw.memsize is not a size: ${memsize}`);
  const swap = parseSwapUsage(swapLines.join(" "));
  return {
    totalBytes,
    availableBytes: Math.min(totalBytes, availableBytesOf(parseVmStat(vmStatText))),
    swapTotalBytes: swap.totalBytes,
    swapUsedBytes: swap.usedBytes,
  };
}

/** The macOS {@linkcode SystemReader}. */
export function createDarwinReader(options: DarwinReaderOptions = {}): SystemReader {
  const now = options.now ?? Date.now;
  const refreshMs = options.mountRefreshMs ?? 30_000;
  const health = new ProbeHealth(options.logger);
  const helper = new ProbeProcess({
    command: "sh",
    args: ["-c", DARWIN_HELPER_SCRIPT],
    timeoutMs: options.timeoutMs ?? 3000,
  });
  const diskPath = options.diskPath ?? "/";
  let diskCache: { list: DiskReading[] | null; at: number } | undefined;

  async function mainDisk() {
    if (diskPath === "/") {
      // "/" is the sealed system volume; user data lives on the Data volume beside it.
      try {
        return await volumeUsage("/System/Volumes/Data");
      } catch {
        // Before Catalina there is no Data volume.
      }
    }
    return await volumeUsage(diskPath);
  }

  return {
    async read(signal?: AbortSignal): Promise<SystemReading> {
      const answer = await health.run("helper", () => helper.request("sample", signal));
      const [vmStat = "", sysctl = "", netstat = ""] = answer ? splitSections(answer) : [];
      const memory = answer === null
        ? null
        : await health.run("memory", () => darwinMemory(vmStat, sysctl));
      const net = answer === null
        ? null
        : await health.run("network", () =>
          parseNetstatIbn(netstat).filter((row) => !isLoopbackName(row.iface)));
      // The disks list is refreshed at most every refreshMs, a failed try too (so a hung
      // network mount cannot stall every sample); between refreshes it is served from cache.
      if (!diskCache || now() - diskCache.at >= refreshMs) {
        const list = await health.run("disks", async () => {
          const [df = "", mount = ""] = splitSections(await helper.request("disks", signal));
          return parseDarwinDf(df, parseDarwinMount(mount));
        });
        diskCache = signal?.aborted ? undefined : { list, at: now() };
      }
      const [loadAvg, disk] = await Promise.all([
        health.run("loadavg", () => Deno.loadavg() as [number, number, number]),
        health.run("disk", mainDisk),
      ]);
      signal?.throwIfAborted();
      return { memory, loadAvg, disks: diskCache?.list ?? null, mainDisk: disk, net };
    },
    close: () => helper.close(),
  };
}
