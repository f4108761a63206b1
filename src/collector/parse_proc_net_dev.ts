/**
 * Parser of Linux `/proc/net/dev`.
 *
 * @module
 */
import type { NetCounters } from "./system_reading.ts";

/**
 * Byte counters of every interface in `/proc/net/dev` text (loopback included; see
 * {@linkcode isLoopbackName}). Throws `SyntaxError` when the text has no interface rows.
 */
export function parseProcNetDev(text: string): NetCounters[] {
  const rows: NetCounters[] = [];
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon === -1 || line.includes("|")) continue;
    const iface = line.slice(0, colon).trim();
    const fields = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (!iface || fields.length < 16 || fields.some((n) => !Number.isFinite(n))) continue;
    rows.push({ iface, rxBytes: fields[0] as number, txBytes: fields[8] as number });
  }
  if (rows.length === 0) throw new SyntaxError("no interface rows in /proc/net/dev output");
  return rows;
}

/** Whether an interface name is a loopback interface (`lo`, `lo0`, "Loopback …"). */
export function isLoopbackName(iface: string): boolean {
  return /^lo\d*$/.test(iface) || /loopback/i.test(iface);
}
