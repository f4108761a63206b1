/**
 * Linux implementation: memory, swap and load from Deno, the `disk_*` volume from `statfs` of
 * the disk path (the agent's state dir, which it may read anyway), the per-mount `disks` list
 * from the helper's `stat -f` of the real mounts of `/proc/self/mounts`, network counters from
 * `/proc/net/dev`.
 *
 * Deno lets a process read `/proc` only under `--allow-all`, and `statfs` of a path only with
 * read access to it (which Deno grants with everything beneath it). So that the agent never
 * needs `--allow-read=/`, one long-lived `sh` helper serves what Deno may not read: it copies
 * the `/proc` files with shell builtins when a direct read is refused (no process spawn per
 * sample), and runs `stat -f` on the mount points when the `disks` list is refreshed (at most
 * every 30 s; the list and its sizes are cached in between, so they may be up to 30 s old).
 *
 * @module
 */
import type { Logger } from "../log/logger.ts";
import { type MountEntry, parseProcMounts, realMounts } from "./parse_proc_mounts.ts";
import { isLoopbackName, parseProcNetDev } from "./parse_proc_net_dev.ts";
import { ProbeHealth } from "./probe_health.ts";
import { parseStatF, STAT_F_FORMAT } from "./parse_stat_f.ts";
import { PROBE_END_MARKER, ProbeProcess } from "./probe_process.ts";
import { volumeUsage } from "./statfs_disk.ts";
import type { DiskReading, SystemReader, SystemReading } from "./system_reading.ts";
import { withTimeout } from "../shared/timeout.ts";

/** The `/proc` files the Linux collector reads, by request word of the helper. */
export const LINUX_PROC_FILES = {
  net: "/proc/net/dev",
  mounts: "/proc/self/mounts",
} as const;

/** Name of a `/proc` file the collector reads. */
export type ProcFile = keyof typeof LINUX_PROC_FILES;

/** The request word of the helper's `disks` answer (see {@linkcode disksRequest}). */
export const LINUX_DISKS_REQUEST = "disks";

/**
 * The helper script: answers `net` or `mounts` with the file, using only shell builtins, and
 * `disks` (followed by one mount point per line and an empty line) with one
 * `stat -f -c '%S %b %f %n'` line per mount point it could stat.
 */
export const LINUX_PROC_HELPER_SCRIPT = [
  `while IFS= read -r req; do`,
  `  case "$req" in`,
  ...Object.entries(LINUX_PROC_FILES).map(([word, path]) => `    ${word}) f=${path} ;;`),
  `    ${LINUX_DISKS_REQUEST}) f=/dev/null; set --`,
  `      while IFS= read -r m && [ -n "$m" ]; do set -- "$@" "$m"; done`,
  `      [ "$#" -eq 0 ] || stat -f -c '${STAT_F_FORMAT}' -- "$@" 2>/dev/null ;;`,
  `    *) f=/dev/null ;;`,
  `  esac`,
  `  while IFS= read -r l || [ -n "$l" ]; do printf '%s\\n' "$l"; done < "$f"`,
  `  printf '%s\\n' '${PROBE_END_MARKER}'`,
  `done`,
].join("\n");

/**
 * The helper request for the sizes of `mounts`: the request word, one mount point per line,
 * then the empty line that `ProbeProcess.request` appends. Mount points holding a newline
 * cannot be sent this way and are left out.
 */
export function disksRequest(mounts: readonly string[]): string {
  return [LINUX_DISKS_REQUEST, ...mounts.filter((m) => m !== "" && !/[\r\n]/.test(m)), ""]
    .join("\n");
}

/** The `disks` list from the real mounts and the helper's `stat -f` answer for them. */
export function disksFromStatF(mounts: readonly MountEntry[], statText: string): DiskReading[] {
  const usage = parseStatF(statText);
  const disks: DiskReading[] = [];
  for (const entry of mounts) {
    const found = usage.get(entry.mount);
    // A mount we may not stat (permissions, a vanished mount) is left out, as is an empty one.
    if (found && found.totalBytes > 0) {
      disks.push({ mount: entry.mount, fsType: entry.fsType, ...found });
    }
  }
  if (mounts.length > 0 && usage.size === 0) {
    throw new Error(`stat -f answered for none of ${mounts.length} mount points`);
  }
  return disks.sort((a, b) => a.mount.localeCompare(b.mount));
}

/** How `/proc` files are read: directly, through the helper, or direct with fallback. */
export type ProcMode = "auto" | "direct" | "helper";

/** Options of {@linkcode createLinuxReader}. */
export interface LinuxReaderOptions {
  /** `disk_*` report the volume holding this path; Deno needs read access to it.
   * @default {"/"} */
  diskPath?: string;
  /** Where probe failures are logged (once each). */
  logger?: Logger;
  /** Clock for the `disks` refresh. @default {Date.now} */
  now?: () => number;
  /** Re-read the mount list and the sizes of `disks` at most this often (a failed refresh
   * too: its `disks` stay null until the next try). @default {30000} */
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
  let diskCache: { list: DiskReading[] | null; at: number } | undefined;

  async function readDisks(signal?: AbortSignal): Promise<DiskReading[]> {
    const mounts = realMounts(parseProcMounts(await proc.read("mounts", signal)));
    const answer = await proc.helper.request(disksRequest(mounts.map((m) => m.mount)), signal);
    return disksFromStatF(mounts, answer);
  }

  /** The cached `disks` list, refreshed through the helper once it is `refreshMs` old. */
  async function currentDisks(signal?: AbortSignal): Promise<DiskReading[] | null> {
    if (!diskCache || now() - diskCache.at >= refreshMs) {
      const list = await health.run("disks", () => readDisks(signal));
      // An aborted refresh is not a result: the next sample tries again.
      diskCache = signal?.aborted ? undefined : { list, at: now() };
      return list;
    }
    return diskCache.list;
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
        currentDisks(signal),
        health.run("disk", () =>
          withTimeout(volumeUsage(diskPath), timeoutMs, {
            message: `statfs did not answer within ${timeoutMs} ms`,
          })),
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
