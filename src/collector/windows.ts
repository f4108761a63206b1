/**
 * Windows implementation: one long-lived PowerShell helper answers each sample with one JSON
 * document from `Get-CimInstance` (`Win32_OperatingSystem`, `Win32_LogicalDisk` with
 * `DriveType=3`, `Win32_PerfRawData_Tcpip_NetworkInterface`); PowerShell starts once, not
 * per sample or per metric. Windows has no load average (null).
 *
 * @module
 */
import { toBase64 } from "../protocol/encoding.ts";
import type { Logger } from "../log/logger.ts";
import { parseWindowsSample } from "./parse_windows.ts";
import { ProbeHealth } from "./probe_health.ts";
import { PROBE_END_MARKER, ProbeProcess } from "./probe_process.ts";
import type { SystemReader, SystemReading } from "./system_reading.ts";

/** The helper loop: one JSON line and the end marker per line read from stdin. */
export const WINDOWS_HELPER_SCRIPT = `
$ErrorActionPreference = 'Stop'
while ($true) {
  $req = [Console]::In.ReadLine()
  if ($null -eq $req) { break }
  $os = $null; $disks = @(); $net = @()
  try { $os = Get-CimInstance Win32_OperatingSystem | Select-Object TotalVisibleMemorySize,FreePhysicalMemory,SizeStoredInPagingFiles,FreeSpaceInPagingFiles,SystemDrive } catch {}
  try { $disks = @(Get-CimInstance Win32_LogicalDisk -Filter 'DriveType=3' | Select-Object DeviceID,FileSystem,Size,FreeSpace,DriveType) } catch {}
  try { $net = @(Get-CimInstance Win32_PerfRawData_Tcpip_NetworkInterface | Select-Object Name,BytesReceivedPersec,BytesSentPersec) } catch {}
  [Console]::Out.WriteLine((ConvertTo-Json -InputObject @{ os = $os; disks = $disks; net = $net } -Compress -Depth 3))
  [Console]::Out.WriteLine('${PROBE_END_MARKER}')
  [Console]::Out.Flush()
}
`;

/** The script as `-EncodedCommand` wants it: base64 of UTF-16LE. */
export function encodePowerShell(script: string): string {
  const bytes = new Uint8Array(script.length * 2);
  for (let i = 0; i < script.length; i++) {
    const code = script.charCodeAt(i);
    bytes[i * 2] = code & 0xff;
    bytes[i * 2 + 1] = code >> 8;
  }
  return toBase64(bytes);
}

/** Options of {@linkcode createWindowsReader}. */
export interface WindowsReaderOptions {
  /** `disk_*` report the drive holding this path. @default the system drive */
  diskPath?: string;
  /** Where probe failures are logged (once each). */
  logger?: Logger;
  /** Unused on Windows (kept for a uniform signature). */
  now?: () => number;
  /** Deadline of one helper answer (PowerShell's first answer is slow). @default {15000} */
  timeoutMs?: number;
}

/** The drive letter ("C:") a Windows path is on, or null for a UNC or relative path. */
export function driveOf(path: string): string | null {
  const match = /^([A-Za-z]:)/.exec(path);
  return match ? (match[1] as string).toUpperCase() : null;
}

/** The Windows {@linkcode SystemReader}. */
export function createWindowsReader(options: WindowsReaderOptions = {}): SystemReader {
  const health = new ProbeHealth(options.logger);
  const helper = new ProbeProcess({
    command: "powershell",
    args: [
      "-NoLogo",
      "-NoProfile",
      "-NonInteractive",
      "-ExecutionPolicy",
      "Bypass",
      "-EncodedCommand",
      encodePowerShell(WINDOWS_HELPER_SCRIPT),
    ],
    timeoutMs: options.timeoutMs ?? 15_000,
  });
  return {
    async read(signal?: AbortSignal): Promise<SystemReading> {
      const reading = await health.run(
        "helper",
        async () => parseWindowsSample(await helper.request("sample", signal)),
      );
      signal?.throwIfAborted();
      if (!reading) {
        return { memory: null, loadAvg: null, disks: null, mainDisk: null, net: null };
      }
      const drive = (options.diskPath ? driveOf(options.diskPath) : null) ??
        reading.systemDrive?.toUpperCase() ?? "C:";
      const main = reading.disks.find((d) => d.mount.toUpperCase() === drive);
      return {
        memory: reading.memory,
        loadAvg: null,
        disks: reading.disks,
        mainDisk: main ? { totalBytes: main.totalBytes, usedBytes: main.usedBytes } : null,
        net: reading.net,
      };
    },
    close: () => helper.close(),
  };
}
