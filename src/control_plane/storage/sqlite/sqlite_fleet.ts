/** The worker list on SQLite (see `FleetRepository` and `fleet_query.ts`). */
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import type { FleetRow, FleetSortKey, FleetSummary, WorkerKeyInfo } from "../../admin_api.ts";
import {
  decodeCursor,
  DEFAULT_FLEET_SORT,
  encodeCursor,
  type FleetPage,
  type FleetPageOptions,
  likePattern,
  snapshotColumnSql,
} from "../../fleet_query.ts";
import type { FleetRepository } from "../repositories.ts";
import { type FleetPageRow, fleetRowOf, workerKeyInfoOf, type WorkerKeyRow } from "../row_views.ts";

const METRICS = "w.last_metrics";
/** The SQL of each value a row shows; sortable ones are made non-null for keyset pagination. */
const COLUMN_SQL = snapshotColumnSql({
  numberAt: (path) => `CAST(json_extract(${METRICS}, '$.${path}') AS REAL)`,
  stringAt: (path) => `json_extract(${METRICS}, '$.${path}')`,
});

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

interface PageRow extends FleetPageRow {
  sort_value: SQLInputValue;
}

/** Queries of the worker list over the SQLite database. */
export class SqliteFleet implements FleetRepository {
  #db: DatabaseSync;

  /** Creates the query helper. */
  constructor(db: DatabaseSync) {
    this.#db = db;
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
      `SELECT w.*, ${sortSql} AS sort_value, k.name AS key_name, k.active AS key_active,
         k.revoked_at AS key_revoked_at, ${COLUMN_SQL.cpu} AS cpu, ${COLUMN_SQL.memory} AS memory,
         ${COLUMN_SQL.disk} AS disk, ${COLUMN_SQL.trading} AS trading,
         ${COLUMN_SQL.active_trades} AS active_trades
       FROM workers w LEFT JOIN api_keys k ON k.id = w.key_id ${pageWhere.join(" ")}
       ORDER BY ${sortSql} ${dir}, w.worker_id ${dir} LIMIT ?`,
    ).all(...pageArgs, options.limit + 1) as unknown as PageRow[];
    const more = rows.length > options.limit;
    const shown = more ? rows.slice(0, options.limit) : rows;
    const out: FleetRow[] = shown.map(fleetRowOf);
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
    ).get(workerId) as WorkerKeyRow | undefined;
    return Promise.resolve(row ? workerKeyInfoOf(row) : null);
  }
}

function filterSql(options: FleetPageOptions): { where: string; args: SQLInputValue[] } {
  const clauses: string[] = [];
  const args: SQLInputValue[] = [];
  const like = likePattern(options.q);
  if (like !== undefined) {
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
