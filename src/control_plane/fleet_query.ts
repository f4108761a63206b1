/**
 * The worker list for thousands of workers: search (`q`), sort by any column, keyset
 * pagination (`cursor`), and fleet-wide counts. This file holds what every engine shares
 * (options, sort keys, cursors); the SQL is in each adapter (`storage/<engine>/…_fleet.ts`).
 *
 * The CPU, memory, disk and trading columns come from each worker's latest heartbeat snapshot
 * (protocol 5.1): the agent puts its newest sample there, so they are at most one heartbeat
 * interval old while the worker is online.
 *
 * @module
 */
import {
  FLEET_SORT_KEYS,
  type FleetRow,
  type FleetSortKey,
  MAX_FLEET_QUERY_LENGTH,
} from "./admin_api.ts";
import { fromBase64, toBase64Url } from "../protocol/encoding.ts";
import { InvalidInputError } from "./storage/errors.ts";

/** How an engine reads a member of the latest snapshot (`w.last_metrics`) in SQL. */
export interface SnapshotSql {
  /** The member as a number, NULL when it is not one. */
  numberAt(field: string): string;
  /** The member as text. */
  stringAt(field: string): string;
}

/** The SQL of each value a row shows from the snapshot, in the engine's dialect. */
export function snapshotColumnSql(
  dialect: SnapshotSql,
): Readonly<Record<"cpu" | "memory" | "disk" | "trading" | "active_trades", string>> {
  const { numberAt, stringAt } = dialect;
  const percentOf = (used: string, total: string) =>
    `(100.0 * ${numberAt(used)} / NULLIF(${numberAt(total)}, 0))`;
  return {
    cpu: numberAt("cpu_percent"),
    memory: percentOf("memory_used_mb", "memory_total_mb"),
    disk: percentOf("disk_used_gb", "disk_total_gb"),
    trading: stringAt("trading_status"),
    active_trades: numberAt("active_trades"),
  };
}

/** A sort: a column and a direction. */
export interface FleetSort {
  key: FleetSortKey;
  descending: boolean;
}

/** Options of {@linkcode FleetQuery.page}. */
export interface FleetPageOptions {
  /** Substring of the hostname, worker id or key name (case-insensitive for ASCII). */
  q?: string;
  /** Only workers with this status. */
  status?: string;
  /** Only workers that are not offline and whose trading workload has this status. */
  trading?: string;
  /** @default {the old list order: last seen first} */
  sort?: FleetSort;
  /** From `next_cursor` of the previous page, made with the same sort. */
  cursor?: string;
  /** Rows per page. */
  limit: number;
}

/** One page of the worker list. */
export interface FleetPage {
  rows: FleetRow[];
  nextCursor: string | null;
  total: number;
}

/** The list order when no sort is asked for: most recently seen first (the old order). */
export const DEFAULT_FLEET_SORT: FleetSort = { key: "last_seen", descending: true };

/** Parses `sort` of the admin API: a key of {@linkcode FLEET_SORT_KEYS}, `-` for descending. */
export function parseFleetSort(text: string): FleetSort {
  const descending = text.startsWith("-");
  const key = descending ? text.slice(1) : text;
  if (!(FLEET_SORT_KEYS as readonly string[]).includes(key)) {
    throw new InvalidInputError(
      `sort: expected one of ${FLEET_SORT_KEYS.join(", ")} (with - for descending), got ${
        JSON.stringify(text.slice(0, 40))
      }`,
      { field: "sort" },
    );
  }
  return { key: key as FleetSortKey, descending };
}

/** The `sort` text of `sort`. */
export function formatFleetSort(sort: FleetSort): string {
  return `${sort.descending ? "-" : ""}${sort.key}`;
}

/** A finite number, else null. */
export function finiteOrNull(value: unknown): number | null {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) ? n : null;
}

/** The `q` filter as a LIKE pattern with `\\` as escape, or undefined when empty. */
export function likePattern(q: string | undefined): string | undefined {
  const text = (q ?? "").trim().slice(0, MAX_FLEET_QUERY_LENGTH);
  return text === "" ? undefined : `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Cursor text: base64url of `[sort, value, worker_id]`. */
export function encodeCursor(sort: FleetSort, value: unknown, workerId: string): string {
  const plain = typeof value === "bigint" ? Number(value) : value;
  return toBase64Url(
    new TextEncoder().encode(JSON.stringify([formatFleetSort(sort), plain, workerId])),
  );
}

/** The sort value and worker id a cursor of `sort` continues after. */
export function decodeCursor(cursor: string, sort: FleetSort): [string | number, string] {
  const invalid = (why: string) => new InvalidInputError(`cursor: ${why}`, { field: "cursor" });
  let parsed: unknown;
  try {
    if (cursor.length > 2000) throw new RangeError("too long");
    parsed = JSON.parse(new TextDecoder().decode(fromBase64(cursor)));
  } catch {
    throw invalid("not a cursor of this list (pass next_cursor as it was given)");
  }
  if (
    !Array.isArray(parsed) || parsed.length !== 3 || typeof parsed[2] !== "string" ||
    (typeof parsed[1] !== "string" && (typeof parsed[1] !== "number" || !isFinite(parsed[1])))
  ) {
    throw invalid("not a cursor of this list (pass next_cursor as it was given)");
  }
  if (parsed[0] !== formatFleetSort(sort)) {
    throw invalid(`made for sort ${JSON.stringify(parsed[0])}, not ${formatFleetSort(sort)}`);
  }
  return [parsed[1], parsed[2]];
}
