/**
 * Numbers, sizes, rates and times as people read them. Every function takes `unknown` and
 * shows "—" for anything that is not a usable number.
 *
 * @module
 */
import { num } from "./untrusted.ts";

/** What stands for a missing value. */
export const NONE = "—";

/** A Unix ms time from a number (seconds before 2001 are taken as seconds) or an ISO string. */
export function toMs(value: unknown): number | undefined {
  const n = num(value);
  if (n !== undefined) return n < 1e12 ? n * 1000 : n;
  if (typeof value === "string" && value !== "") {
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  return undefined;
}

/** "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago" relative to `now`. */
export function formatAgo(value: unknown, now: number): string {
  const ms = toMs(value);
  if (ms === undefined) return "never";
  return `${formatAge(now - ms)} ago`.replace(/^just now ago$/, "just now");
}

/** An age in ms as "just now", "42 s", "5 min", "3 h", "2 d". */
export function formatAge(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 5) return "just now";
  if (seconds < 90) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 36) return `${hours} h`;
  return `${Math.round(hours / 24)} d`;
}

/** Local date and time, or "—". */
export function formatTime(value: unknown): string {
  const ms = toMs(value);
  return ms === undefined ? NONE : new Date(ms).toLocaleString();
}

/** `value` with `digits` decimals, or "—". */
export function fixed(value: unknown, digits = 1): string {
  const n = num(value);
  return n === undefined ? NONE : n.toFixed(digits);
}

/** A percentage as "42.5 %", or "—". */
export function formatPercent(value: unknown, digits = 1): string {
  const n = num(value);
  return n === undefined ? NONE : `${n.toFixed(digits)} %`;
}

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"] as const;

/** Bytes as "1.5 GiB". */
export function formatBytes(value: unknown): string {
  let n = num(value);
  if (n === undefined) return NONE;
  let unit = 0;
  while (Math.abs(n) >= 1024 && unit < BYTE_UNITS.length - 1) {
    n /= 1024;
    unit++;
  }
  return `${unit === 0 ? n.toFixed(0) : n.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

/** MiB (protocol 5.1) as "900 MiB" or "1.5 GiB". */
export function formatMb(value: unknown): string {
  const n = num(value);
  return n === undefined ? NONE : formatBytes(n * 1024 * 1024);
}

/** GiB (protocol 5.1) as "412.0 GiB" or "1.20 TiB". */
export function formatGb(value: unknown): string {
  const n = num(value);
  if (n === undefined) return NONE;
  return n >= 1024 ? `${(n / 1024).toFixed(2)} TiB` : `${n.toFixed(1)} GiB`;
}

/** Bytes per second as "2.0 KiB/s". */
export function formatRate(value: unknown): string {
  return num(value) === undefined ? NONE : `${formatBytes(value)}/s`;
}

/** Seconds as "2d 3h", "3h 4m", "4m 5s", "5s". */
export function formatDuration(value: unknown): string {
  const n = num(value);
  if (n === undefined) return NONE;
  const s = Math.floor(n);
  const d = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const mm = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${hh}h`;
  if (hh > 0) return `${hh}h ${mm}m`;
  if (mm > 0) return `${mm}m ${s % 60}s`;
  return `${s}s`;
}

/** Milliseconds as "3 ms" or a duration. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : formatDuration(ms / 1000);
}

/** "6.0 / 16.0 GiB" when both sides share a unit, else "900 MiB / 1.5 GiB". */
export function formatPair(used: unknown, total: unknown, format: (v: unknown) => string): string {
  const a = format(used);
  const b = format(total);
  const [valueA, unitA] = a.split(" ");
  return unitA !== undefined && unitA === b.split(" ")[1] ? `${valueA} / ${b}` : `${a} / ${b}`;
}

/** `used / total` in percent, or undefined. */
export function percent(used: unknown, total: unknown): number | undefined {
  const u = num(used);
  const t = num(total);
  return u !== undefined && t !== undefined && t > 0 ? (u / t) * 100 : undefined;
}

/** The last `length` characters of an id, for a narrow column ("…a1b2c3"). */
export function idSuffix(id: string, length = 6): string {
  return id.length > length ? `…${id.slice(-length)}` : id;
}

/** A long id shortened for display ("d8d3f0a1…"). */
export function shortId(id: unknown): string {
  return typeof id === "string" && id.length > 14
    ? `${id.slice(0, 8)}…`
    : typeof id === "string"
    ? id
    : NONE;
}
