/**
 * The worker list for thousands of workers: search (`q`), sort by any column, keyset
 * pagination (`cursor`), and fleet-wide counts. The SQL lives here, apart from the worker
 * store; the signatures are async so another database can stand behind them.
 *
 * The CPU, memory, disk and trading columns come from each worker's latest heartbeat snapshot
 * (protocol 5.1): the agent puts its newest sample there, so they are at most one heartbeat
 * interval old while the worker is online.
 *
 * @module
 */
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import {
  FLEET_SORT_KEYS,
  type FleetRow,
  type FleetSortKey,
  type FleetSummary,
  MAX_FLEET_QUERY_LENGTH,
  type WorkerKeyInfo,
} from "./admin_api.ts";
import { fromBase64, toBase64Url } from "../protocol/encoding.ts";
import { HttpError } from "./http_error.ts";
import type { WorkerStore } from "./worker_store.ts";

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

const METRICS = "w.last_metrics";
const numberAt = (path: string) => `CAST(json_extract(${METRICS}, '$.${path}') AS REAL)`;
const percentOf = (used: string, total: string) =>
  `(100.0 * ${numberAt(used)} / NULLIF(${numberAt(total)}, 0))`;

/** The SQL of each value a row shows; sortable ones are made non-null for keyset pagination. */
const COLUMN_SQL = {
  cpu: numberAt("cpu_percent"),
  memory: percentOf("memory_used_mb", "memory_total_mb"),
  disk: percentOf("disk_used_gb", "disk_total_gb"),
  trading: `json_extract(${METRICS}, '$.trading_status')`,
  active_trades: numberAt("active_trades"),
} as const;

/** Sort expressions: never null, one type per key, so `(expr, worker_id) > (?, ?)` is total. */
const SORT_SQL: Record<FleetSortKey, string> = {
  hostname: "w.hostname COLLATE NOCASE",
  worker_id: "w.worker_id",
  key_name: "COALESCE(k.name, '') COLLATE NOCASE",
  platform: "w.platform COLLATE NOCASE",
  version: "w.version",
  status: "w.status",
  last_seen: "COALESCE(w.last_heartbeat, w.registered_at)",
  cpu: `COALESCE(${COLUMN_SQL.cpu}, -1.0)`,
  memory: `COALESCE(${COLUMN_SQL.memory}, -1.0)`,
  disk: `COALESCE(${COLUMN_SQL.disk}, -1.0)`,
  trading: `COALESCE(${COLUMN_SQL.trading}, '')`,
};

/** Parses `sort` of the admin API: a key of {@linkcode FLEET_SORT_KEYS}, `-` for descending. */
export function parseFleetSort(text: string): FleetSort {
  const descending = text.startsWith("-");
  const key = descending ? text.slice(1) : text;
  if (!(FLEET_SORT_KEYS as readonly string[]).includes(key)) {
    throw new HttpError(
      400,
      "invalid_request",
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

interface IdRow {
  worker_id: string;
  sort_value: SQLInputValue;
  key_name: string | null;
  key_active: number | null;
  key_revoked_at: number | null;
  cpu: number | null;
  memory: number | null;
  disk: number | null;
  trading: string | null;
  active_trades: number | null;
}

/** Queries of the worker list over the control plane database. */
export class FleetQuery {
  #db: DatabaseSync;
  #workers: WorkerStore;

  /** Creates the query helper; rows are read through `workers`, so they match its views. */
  constructor(db: DatabaseSync, options: { workers: WorkerStore }) {
    this.#db = db;
    this.#workers = options.workers;
  }

  /** One page of workers matching `options`, in the order asked for. */
  page(options: FleetPageOptions): Promise<FleetPage> {
    const sort = options.sort ?? DEFAULT_FLEET_SORT;
    const { where, args } = filterSql(options);
    const total = (this.#db.prepare(
      `SELECT COUNT(*) AS n FROM workers w LEFT JOIN api_keys k ON k.id = w.key_id ${where}`,
    ).get(...args) as { n: number }).n;
    const sortSql = SORT_SQL[sort.key];
    const dir = sort.descending ? "DESC" : "ASC";
    const pageWhere = [where];
    const pageArgs = [...args];
    if (options.cursor !== undefined && options.cursor !== "") {
      const [value, workerId] = decodeCursor(options.cursor, sort);
      const op = sort.descending ? "<" : ">";
      pageWhere.push(
        `${
          where ? "AND" : "WHERE"
        } (${sortSql} ${op} ? OR (${sortSql} = ? AND w.worker_id ${op} ?))`,
      );
      pageArgs.push(value, value, workerId);
    }
    const rows = this.#db.prepare(
      `SELECT w.worker_id, ${sortSql} AS sort_value, k.name AS key_name, k.active AS key_active,
         k.revoked_at AS key_revoked_at, ${COLUMN_SQL.cpu} AS cpu, ${COLUMN_SQL.memory} AS memory,
         ${COLUMN_SQL.disk} AS disk, ${COLUMN_SQL.trading} AS trading,
         ${COLUMN_SQL.active_trades} AS active_trades
       FROM workers w LEFT JOIN api_keys k ON k.id = w.key_id ${pageWhere.join(" ")}
       ORDER BY ${sortSql} ${dir}, w.worker_id ${dir} LIMIT ?`,
    ).all(...pageArgs, options.limit + 1) as unknown as IdRow[];
    const more = rows.length > options.limit;
    const shown = more ? rows.slice(0, options.limit) : rows;
    const out: FleetRow[] = [];
    for (const row of shown) {
      const worker = this.#workers.get(row.worker_id);
      if (!worker) continue; // deleted between the two reads
      out.push({
        ...worker,
        key_name: row.key_name,
        key_active: row.key_active === 1,
        key_revoked_at: row.key_revoked_at,
        cpu_percent: finiteOrNull(row.cpu),
        memory_percent: finiteOrNull(row.memory),
        disk_percent: finiteOrNull(row.disk),
        trading_status: typeof row.trading === "string" ? row.trading : null,
        active_trades: finiteOrNull(row.active_trades),
      });
    }
    const last = shown.at(-1);
    return Promise.resolve({
      rows: out,
      nextCursor: more && last ? encodeCursor(sort, last.sort_value, last.worker_id) : null,
      total,
    });
  }

  /** Counts over every worker. */
  summary(): Promise<FleetSummary> {
    const row = this.#db.prepare(
      `SELECT COUNT(*) AS total,
         COALESCE(SUM(status IN ('online', 'draining')), 0) AS online,
         COALESCE(SUM(status = 'offline'), 0) AS offline,
         COALESCE(SUM(status = 'error'), 0) AS error,
         COALESCE(SUM(status != 'offline' AND ${COLUMN_SQL.trading} = 'running'), 0) AS trading
       FROM workers w`,
    ).get() as unknown as FleetSummary;
    return Promise.resolve({
      total: Number(row.total),
      online: Number(row.online),
      offline: Number(row.offline),
      error: Number(row.error),
      trading: Number(row.trading),
    });
  }

  /** The key worker `workerId` registered with, if both exist. */
  keyOf(workerId: string): Promise<WorkerKeyInfo | null> {
    const row = this.#db.prepare(
      `SELECT k.id, k.name, k.prefix, k.active, k.revoked_at FROM workers w
       JOIN api_keys k ON k.id = w.key_id WHERE w.worker_id = ?`,
    ).get(workerId) as
      | { id: string; name: string; prefix: string; active: number; revoked_at: number | null }
      | undefined;
    return Promise.resolve(
      row
        ? {
          id: row.id,
          name: row.name,
          key_prefix: row.prefix,
          active: row.active === 1,
          revoked_at: row.revoked_at,
        }
        : null,
    );
  }
}

function filterSql(options: FleetPageOptions): { where: string; args: SQLInputValue[] } {
  const clauses: string[] = [];
  const args: SQLInputValue[] = [];
  const q = (options.q ?? "").trim().slice(0, MAX_FLEET_QUERY_LENGTH);
  if (q !== "") {
    const like = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    clauses.push(
      "(w.hostname LIKE ? ESCAPE '\\' OR w.worker_id LIKE ? ESCAPE '\\' OR k.name LIKE ? ESCAPE '\\')",
    );
    args.push(like, like, like);
  }
  if (options.status) {
    clauses.push("w.status = ?");
    args.push(options.status);
  }
  if (options.trading) {
    clauses.push(`w.status != 'offline' AND ${COLUMN_SQL.trading} = ?`);
    args.push(options.trading);
  }
  return { where: clauses.length ? `WHERE ${clauses.join(" AND ")}` : "", args };
}

function finiteOrNull(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** Cursor text: base64url of `[sort, value, worker_id]`. */
function encodeCursor(sort: FleetSort, value: SQLInputValue, workerId: string): string {
  const plain = typeof value === "bigint" ? Number(value) : value;
  return toBase64Url(
    new TextEncoder().encode(JSON.stringify([formatFleetSort(sort), plain, workerId])),
  );
}

function decodeCursor(cursor: string, sort: FleetSort): [string | number, string] {
  const invalid = (why: string) =>
    new HttpError(400, "invalid_request", `cursor: ${why}`, { field: "cursor" });
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
