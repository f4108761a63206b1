/**
 * Parsers of macOS tool outputs: `vm_stat`, `sysctl` (memory size, swap usage), `df -k -P`,
 * `mount` and `netstat -ibn`.
 *
 * @module
 */
import type { DiskReading, NetCounters } from "./system_reading.ts";

/** `vm_stat` as page size and page counts by label ("Pages free" → count). */
export interface VmStat {
  pageSize: number;
  pages: Record<string, number>;
}

/** Parses `vm_stat` output; the page size comes from its header line. */
export function parseVmStat(text: string): VmStat {
  const header = /page size of (\d+) bytes/.exec(text);
  if (!header) throw new SyntaxError("vm_stat output has no page size header");
  const pages: Record<string, number> = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^"?([^":]+)"?:\s+(\d+)\.?\s*$/.exec(line.trim());
    if (match) pages[match[1] as string] = Number(match[2]);
  }
  return { pageSize: Number(header[1]), pages };
}

/**
 * Available memory in bytes from `vm_stat`: free + speculative + inactive pages (what
 * psutil calls available; `vm_stat` lists speculative pages apart from free ones).
 */
export function availableBytesOf(vmStat: VmStat): number {
  const page = (label: string) => {
    const value = vmStat.pages[label];
    if (value === undefined) throw new SyntaxError(`vm_stat output has no "${label}" line`);
    return value;
  };
  return (page("Pages free") + (vmStat.pages["Pages speculative"] ?? 0) + page("Pages inactive")) *
    vmStat.pageSize;
}

const UNIT: Record<string, number> = { B: 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** Parses `sysctl vm.swapusage` (with or without the name) into total and used bytes. */
export function parseSwapUsage(text: string): { totalBytes: number; usedBytes: number } {
  const value = (name: string) => {
    // The decimal separator follows the locale: "1024.00M" or "1024,00M".
    const match = new RegExp(`${name}\\s*=\\s*(\\d+(?:[.,]\\d+)?)([BKMGT])?`).exec(text);
    if (!match) throw new SyntaxError(`vm.swapusage has no ${name}: ${text.trim().slice(0, 80)}`);
    return Number((match[1] as string).replace(",", ".")) * (UNIT[match[2] ?? "B"] ?? 1);
  };
  return { totalBytes: value("total"), usedBytes: value("used") };
}

/** Mount points under /System/Volumes that are APFS plumbing, not user data. */
const DARWIN_HIDDEN_MOUNT = /^\/System\/Volumes\/(?!Data$)/;

/**
 * Parses BSD `df` output (`df -k -P` as the collector runs it; also plain `df` with 512-byte
 * blocks and inode columns): device-backed file systems (`/dev/…`) without the APFS system
 * plumbing volumes (VM, Preboot, Update, xarts, …; the Data volume is kept). The block size
 * comes from the header. `fsTypes` maps mount points to types where known (see
 * {@linkcode parseDarwinMount}); else the type is "".
 */
export function parseDarwinDf(
  text: string,
  fsTypes: Map<string, string> = new Map(),
): DiskReading[] {
  const lines = text.split(/\r?\n/);
  const header = /^Filesystem\s+(\d+)-blocks/.exec(lines[0] ?? "");
  if (!header) throw new SyntaxError(`not df output: ${(lines[0] ?? "").slice(0, 80)}`);
  const blockSize = Number(header[1]);
  const disks: DiskReading[] = [];
  for (const line of lines.slice(1)) {
    // The device may contain spaces ("map auto_home"), so the row is read around the numbers;
    // the mount point (which may contain spaces too) follows the capacity or inode columns.
    const match =
      /^(.*?)\s+(\d+)\s+(\d+)\s+(-?\d+)\s+(\d+%|-)\s+(?:\d+\s+\d+\s+(?:\d+%|-)\s+)?(\/.*)$/
        .exec(line);
    if (!match) continue;
    const [, device, blocks, used, , , mount] = match as unknown as string[];
    if (!device?.startsWith("/dev/") || !mount || DARWIN_HIDDEN_MOUNT.test(mount)) continue;
    disks.push({
      mount,
      fsType: fsTypes.get(mount) ?? "",
      totalBytes: Number(blocks) * blockSize,
      usedBytes: Number(used) * blockSize,
    });
  }
  return disks;
}

/** Parses macOS `mount` output into mount point → file system type. */
export function parseDarwinMount(text: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const match = /^.+? on (\/.*) \(([^,)]+)/.exec(line);
    if (match) types.set(match[1] as string, (match[2] as string).trim());
  }
  return types;
}

/**
 * Parses `netstat -ibn`: the link-level row (`<Link#N>`) of each interface, once (address
 * rows repeat the same counters). Interface names lose the trailing `*` of a down interface.
 */
export function parseNetstatIbn(text: string): NetCounters[] {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? "").trim().split(/\s+/);
  const ibytes = header.indexOf("Ibytes");
  const obytes = header.indexOf("Obytes");
  if (header[0] !== "Name" || ibytes === -1 || obytes === -1) {
    throw new SyntaxError(`not netstat -ibn output: ${(lines[0] ?? "").slice(0, 80)}`);
  }
  // Counted from the right, since the Address column is empty on some link rows.
  const fromRight = { rx: header.length - ibytes, tx: header.length - obytes };
  const seen = new Map<string, NetCounters>();
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (!fields[2]?.startsWith("<Link#")) continue;
    const iface = (fields[0] ?? "").replace(/\*$/, "");
    const rx = Number(fields[fields.length - fromRight.rx]);
    const tx = Number(fields[fields.length - fromRight.tx]);
    if (!iface || !Number.isFinite(rx) || !Number.isFinite(tx) || seen.has(iface)) continue;
    seen.set(iface, { iface, rxBytes: rx, txBytes: tx });
  }
  return [...seen.values()];
}
