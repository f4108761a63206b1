/**
 * Linux implementation: memory, swap and load from Deno, disks from `statfs` over the real
 * mounts of `/proc/self/mounts`, network counters from `/proc/net/dev`.
 *
 * Deno lets a process read `/proc` only under `--allow-all`. When a direct read is refused
 * the collector switches, once, to a long-lived `sh` helper that copies the file with shell
 * builtins (no process spawn per sample).
 *
 * @module
 */
import type { Logger } from "../log/logger.ts";
import { parseProcMounts, realMounts } from "./parse_proc_mounts.ts";
import { isLoopbackName, parseProcNetDev } from "./parse_proc_net_dev.ts";
import { ProbeHealth } from "./probe_health.ts";
import { PROBE_END_MARKER, ProbeProcess } from "./probe_process.ts";
import { volumeUsage } from "./statfs_disk.ts";
import type { DiskReading, SystemReader, SystemReading } from "./system_reading.ts";

/** The `/proc` files the Linux collector reads, by request word of the helper. */
export const LINUX_PROC_FILES = {
  net: "/proc/net/dev",
  mounts: "/proc/self/mounts",
} as const;

/** Name of a `/proc` file the collector reads. */
export type ProcFile = keyof typeof LINUX_PROC_FILES;

/** The helper script: answers `net` or `mounts` with the file, using only shell builtins. */
export const LINUX_PROC_HELPER_SCRIPT = [
  `while IFS= read -r req; do`,
  `  case "$req" in`,
  ...Object.entries(LINUX_PROC_FILES).map(([word, path]) => `    ${word}) f=${path} ;;`),
  `    *) f=/dev/null ;;`,
  `  esac`,
  `  while IFS= read -r l || [ -n "$l" ]; do printf '%s\\n' "$l"; done < "$f"`,
  `  printf '%s\\n' '${PROBE_END_MARKER}'`,
  `done`,
].join("\n");

/** How `/proc` files are read: directly, through the helper, or direct with fallback. */
export type ProcMode = "auto" | "direct" | "helper";

/** Options of {@linkcode createLinuxReader}. */
export interface LinuxReaderOptions {
  /** `disk_*` report the volume holding this path. @default {"/"} */
  diskPath?: string;
  /** Where probe failures are logged (once each). */
  logger?: Logger;
  /** Clock for the mount-list refresh. @default {Date.now} */
  now?: () => number;
  /** Re-read the mount list this often. @default {30000} */
  mountRefreshMs?: number;
  /** How `/proc` is read. @default {"auto"} */
  procMode?: ProcMode;
  /** Deadline of one helper answer or one statfs. @default {3000} */
  timeoutMs?: number;
  /** Reads a file directly. @default {Deno.readTextFile} */
  readTextFile?: (path: string) => Promise<string>;
}

/** Reads `/proc` files directly when Deno allows it, else through one long-lived helper. */
export class ProcFileSource {
  #mode: "direct" | "helper" | undefined;
  #helper: ProbeProcess;
  #readTextFile: (path: string) => Promise<string>;

  /** @param options see {@linkcode LinuxReaderOptions}. */
  constructor(
    options: Pick<LinuxReaderOptions, "procMode" | "timeoutMs" | "readTextFile"> = {},
  ) {
    const mode = options.procMode ?? "auto";
    this.#mode = mode === "auto" ? undefined : mode;
    this.#readTextFile = options.readTextFile ?? Deno.readTextFile;
    this.#helper = new ProbeProcess({
      command: "sh",
      args: ["-c", LINUX_PROC_HELPER_SCRIPT],
      timeoutMs: options.timeoutMs ?? 3000,
    });
  }

  /** "direct" or "helper" once decided; undefined before the first read. */
  get mode(): "direct" | "helper" | undefined {
    return this.#mode;
  }

  /** The helper process (for tests and the benchmark). */
  get helper(): ProbeProcess {
    return this.#helper;
  }

  /** The text of one `/proc` file. */
  async read(file: ProcFile, signal?: AbortSignal): Promise<string> {
    if (this.#mode !== "helper") {
      try {
        const text = await this.#readTextFile(LINUX_PROC_FILES[file]);
        this.#mode = "direct";
        return text;
      } catch (error) {
        const refused = error instanceof Deno.errors.NotCapable ||
          error instanceof Deno.errors.PermissionDenied;
        if (this.#mode === "direct" || !refused) throw error;
        this.#mode = "helper";
      }
    }
    return await this.#helper.request(file, signal);
  }

  /** Stops the helper. */
  async close(): Promise<void> {
    await this.#helper.close();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The Linux {@linkcode SystemReader}. */
export function createLinuxReader(options: LinuxReaderOptions = {}): SystemReader & {
  readonly proc: ProcFileSource;
} {
  const diskPath = options.diskPath ?? "/";
  const now = options.now ?? Date.now;
  const refreshMs = options.mountRefreshMs ?? 30_000;
  const timeoutMs = options.timeoutMs ?? 3000;
  const health = new ProbeHealth(options.logger);
  const proc = new ProcFileSource(options);
  let mounts: { list: ReturnType<typeof realMounts>; at: number } | undefined;

  async function readDisks(signal?: AbortSignal): Promise<DiskReading[]> {
    if (!mounts || now() - mounts.at >= refreshMs) {
      mounts = { list: realMounts(parseProcMounts(await proc.read("mounts", signal))), at: now() };
    }
    const disks: DiskReading[] = [];
    await Promise.all(mounts.list.map(async (entry) => {
      try {
        const usage = await withTimeout(volumeUsage(entry.mount), timeoutMs, "statfs");
        if (usage.totalBytes > 0) {
          disks.push({ mount: entry.mount, fsType: entry.fsType, ...usage });
        }
      } catch {
        // A mount we may not stat (permissions, stale network share) is left out.
      }
    }));
    return disks.sort((a, b) => a.mount.localeCompare(b.mount));
  }

  return {
    proc,
    async read(signal?: AbortSignal): Promise<SystemReading> {
      const [memory, loadAvg, disks, mainDisk, net] = await Promise.all([
        health.run("memory", () => {
          const info = Deno.systemMemoryInfo();
          return {
            totalBytes: info.total,
            availableBytes: info.available,
            swapTotalBytes: info.swapTotal,
            swapUsedBytes: Math.max(0, info.swapTotal - info.swapFree),
          };
        }),
        health.run("loadavg", () => Deno.loadavg() as [number, number, number]),
        health.run("disks", () => readDisks(signal)),
        health.run("disk", () => withTimeout(volumeUsage(diskPath), timeoutMs, "statfs")),
        health.run(
          "network",
          async () =>
            parseProcNetDev(await proc.read("net", signal)).filter((row) =>
              !isLoopbackName(row.iface)
            ),
        ),
      ]);
      signal?.throwIfAborted();
      return { memory, loadAvg, disks, mainDisk, net };
    },
    close: () => proc.close(),
  };
}
