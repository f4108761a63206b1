/**
 * Parsers of Windows CIM/WMI objects: `Win32_OperatingSystem`, `Win32_LogicalDisk` and
 * `Win32_PerfRawData_Tcpip_NetworkInterface`, as the JSON the Windows helper prints per
 * sample, or as the list text of PowerShell `Format-List` and `wmic … /value` (see
 * {@linkcode parseKeyValueRecords}). Numbers may arrive as JSON numbers or strings.
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
  return list
    .filter((item): item is Record<string, unknown> => typeof item === "object" && item !== null)
    // Python WMI dumps wrap each object as {classname, properties}.
    .map((item) =>
      typeof item.properties === "object" && item.properties !== null && "classname" in item
        ? item.properties as Record<string, unknown>
        : item
    );
}

/** A property by name, ignoring case (`DeviceId` and `DeviceID` both occur). */
function prop(item: Record<string, unknown> | undefined, name: string): unknown {
  if (!item) return undefined;
  if (name in item) return item[name];
  const key = Object.keys(item).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : item[key];
}

/**
 * Objects from list text: PowerShell `Format-List` (`Key : Value`) or `wmic … /value`
 * (`Key=Value`), one object per block of lines separated by blank lines. Values are strings
 * (empty when the property is null).
 */
export function parseKeyValueRecords(text: string): Record<string, string>[] {
  const records: Record<string, string>[] = [];
  let current: Record<string, string> | undefined;
  for (const raw of text.split(/\r*\n/)) {
    const line = raw.trimEnd();
    const match = /^(\w+)\s*(?:=|\s:)\s?(.*)$/.exec(line) ?? /^(\w+)\s*:$/.exec(line);
    if (!match) {
      if (line.trim() === "") current = undefined;
      continue;
    }
    if (!current) records.push(current = {});
    current[match[1] as string] = (match[2] ?? "").trim();
  }
  return records;
}

function num(value: unknown): number | null {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) ? n : null;
}

/** Memory from a `Win32_OperatingSystem` object (sizes in KiB). */
export function parseWin32OperatingSystem(os: unknown): MemoryReading | null {
  const [item] = asArray(os);
  const total = num(prop(item, "TotalVisibleMemorySize"));
  const free = num(prop(item, "FreePhysicalMemory"));
  if (!item || total === null || free === null) return null;
  const swapTotal = num(prop(item, "SizeStoredInPagingFiles"));
  const swapFree = num(prop(item, "FreeSpaceInPagingFiles"));
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
    const size = num(prop(disk, "Size"));
    const free = num(prop(disk, "FreeSpace"));
    if (num(prop(disk, "DriveType")) !== 3 || size === null || free === null || size <= 0) continue;
    const fsType = prop(disk, "FileSystem");
    readings.push({
      mount: String(prop(disk, "DeviceID") ?? prop(disk, "Name") ?? ""),
      fsType: typeof fsType === "string" ? fsType : "",
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
    const name = prop(item, "Name");
    const rx = num(prop(item, "BytesReceivedPersec"));
    const tx = num(prop(item, "BytesSentPersec"));
    if (typeof name !== "string" || name === "" || rx === null || tx === null) continue;
    rows.push({ iface: name, rxBytes: rx, txBytes: tx });
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
    systemDrive: typeof prop(osItem, "SystemDrive") === "string"
      ? prop(osItem, "SystemDrive") as string
      : null,
    disks: parseWin32LogicalDisks(disks),
    net: parseWin32NetworkInterfaces(net),
  };
}
