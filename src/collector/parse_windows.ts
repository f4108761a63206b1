/**
 * Parser of the JSON the Windows helper prints per sample: `Win32_OperatingSystem`,
 * `Win32_LogicalDisk` and `Win32_PerfRawData_Tcpip_NetworkInterface` from `Get-CimInstance`.
 *
 * @module
 */
import type { DiskReading, MemoryReading, NetCounters } from "./system_reading.ts";

/** The parts of one Windows reading. */
export interface WindowsReading {
  memory: MemoryReading | null;
  systemDrive: string | null;
  disks: DiskReading[];
  net: NetCounters[];
}

function asArray(value: unknown): Record<string, unknown>[] {
  const list = Array.isArray(value) ? value : value == null ? [] : [value];
  return list.filter((item): item is Record<string, unknown> =>
    typeof item === "object" && item !== null
  );
}

function num(value: unknown): number | null {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) ? n : null;
}

/** Memory from a `Win32_OperatingSystem` object (sizes in KiB). */
export function parseWin32OperatingSystem(os: unknown): MemoryReading | null {
  const [item] = asArray(os);
  const total = num(item?.TotalVisibleMemorySize);
  const free = num(item?.FreePhysicalMemory);
  if (!item || total === null || free === null) return null;
  const swapTotal = num(item.SizeStoredInPagingFiles);
  const swapFree = num(item.FreeSpaceInPagingFiles);
  return {
    totalBytes: total * 1024,
    availableBytes: free * 1024,
    swapTotalBytes: swapTotal === null ? null : swapTotal * 1024,
    swapUsedBytes: swapTotal === null || swapFree === null
      ? null
      : Math.max(0, swapTotal - swapFree) * 1024,
  };
}

/** Local fixed disks (`DriveType` 3) from `Win32_LogicalDisk` objects; others are skipped. */
export function parseWin32LogicalDisks(disks: unknown): DiskReading[] {
  const readings: DiskReading[] = [];
  for (const disk of asArray(disks)) {
    const size = num(disk.Size);
    const free = num(disk.FreeSpace);
    if (num(disk.DriveType) !== 3 || size === null || free === null || size <= 0) continue;
    readings.push({
      mount: String(disk.DeviceID ?? disk.Name ?? ""),
      fsType: typeof disk.FileSystem === "string" ? disk.FileSystem : "",
      totalBytes: size,
      usedBytes: Math.max(0, size - free),
    });
  }
  return readings;
}

/** Byte counters from `Win32_PerfRawData_Tcpip_NetworkInterface` objects (no loopback there). */
export function parseWin32NetworkInterfaces(interfaces: unknown): NetCounters[] {
  const rows: NetCounters[] = [];
  for (const item of asArray(interfaces)) {
    const rx = num(item.BytesReceivedPersec);
    const tx = num(item.BytesSentPersec);
    if (typeof item.Name !== "string" || rx === null || tx === null) continue;
    rows.push({ iface: item.Name, rxBytes: rx, txBytes: tx });
  }
  return rows;
}

/**
 * Parses the helper's JSON `{ os, disks, net }`; throws `SyntaxError` when it is not JSON
 * of that shape.
 */
export function parseWindowsSample(text: string): WindowsReading {
  const value: unknown = JSON.parse(text);
  if (typeof value !== "object" || value === null || !("os" in value)) {
    throw new SyntaxError("Windows helper output is not an object with os, disks and net");
  }
  const { os, disks, net } = value as Record<string, unknown>;
  const [osItem] = asArray(os);
  return {
    memory: parseWin32OperatingSystem(os),
    systemDrive: typeof osItem?.SystemDrive === "string" ? osItem.SystemDrive : null,
    disks: parseWin32LogicalDisks(disks),
    net: parseWin32NetworkInterfaces(net),
  };
}
