/** The worker list on PostgreSQL (see `FleetRepository` and `fleet_query.ts`). */
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
import type { Sql } from "./pg_types.ts";

const METRICS = "(w.last_metrics::jsonb)";
/** The SQL of each value a row shows. */
const COLUMN_SQL = snapshotColumnSql({
  numberAt: (path) =>
    `(CASE WHEN jsonb_typeof(${METRICS} -> '${path}') = 'number' ` +
    `THEN (${METRICS} ->> '${path}')::float8 END)`,
  stringAt: (path) =>
    `(CASE WHEN jsonb_typeof(${METRICS} -> '${path}') = 'string' ` +
    `THEN ${METRICS} ->> '${path}' END)`,
});

/** Sort expressions (never null, one type per key) and the type of their cursor value. */
const SORT_SQL: Record<FleetSortKey, [string, "text" | "float8" | "bigint"]> = {
  hostname: ["lower(w.hostname)", "text"],
  worker_id: ['w.worker_id COLLATE "C"', "text"],
  key_name: ["lower(COALESCE(k.name, ''))", "text"],
  platform: ["lower(w.platform)", "text"],
  version: ['w.version COLLATE "C"', "text"],
  status: ['w.status COLLATE "C"', "text"],
  last_seen: ["COALESCE(w.last_heartbeat, w.registered_at)", "bigint"],
  cpu: [`COALESCE(${COLUMN_SQL.cpu}, -1.0)`, "float8"],
  memory: [`COALESCE(${COLUMN_SQL.memory}, -1.0)`, "float8"],
  disk: [`COALESCE(${COLUMN_SQL.disk}, -1.0)`, "float8"],
  trading: [`COALESCE(${COLUMN_SQL.trading}, '') COLLATE "C"`, "text"],
};

interface PageRow extends FleetPageRow {
  sort_value: string | number;
}

/** Queries of the worker list over PostgreSQL. */
export class PgFleet implements FleetRepository {
  #sql: Sql;

  /** Creates the query helper. */
  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async page(options: FleetPageOptions): Promise<FleetPage> {
    const sort = options.sort ?? DEFAULT_FLEET_SORT;
    const { clauses, args } = filterSql(options);
    const where = clauses.length ? `WHERE ${clauses.join(" AND ")}` : "";
    const [count] = await this.#sql.unsafe<{ n: number }[]>(
      `SELECT COUNT(*)::bigint AS n FROM workers w LEFT JOIN api_keys k ON k.id = w.key_id ${where}`,
      args,
    );
    const [sortSql, sortType] = SORT_SQL[sort.key];
    const dir = sort.descending ? "DESC" : "ASC";
    const pageClauses = [...clauses];
    const pageArgs: (string | number)[] = [...args];
    if (options.cursor !== undefined && options.cursor !== "") {
      const [value, workerId] = decodeCursor(options.cursor, sort);
      const op = sort.descending ? "<" : ">";
      pageArgs.push(sortType === "text" ? String(value) : value, workerId);
      const v = `$${pageArgs.length - 1}::${sortType}`;
      const id = `$${pageArgs.length}::text`;
      pageClauses.push(
        `(${sortSql} ${op} ${v} OR (${sortSql} = ${v} AND w.worker_id COLLATE "C" ${op} ${id}))`,
      );
    }
    pageArgs.push(options.limit + 1);
    const rows = await this.#sql.unsafe<PageRow[]>(
      `SELECT w.*, ${sortSql} AS sort_value, k.name AS key_name, k.active AS key_active,
         k.revoked_at AS key_revoked_at, ${COLUMN_SQL.cpu} AS cpu, ${COLUMN_SQL.memory} AS memory,
         ${COLUMN_SQL.disk} AS disk, ${COLUMN_SQL.trading} AS trading,
         ${COLUMN_SQL.active_trades} AS active_trades
       FROM workers w LEFT JOIN api_keys k ON k.id = w.key_id
       ${pageClauses.length ? `WHERE ${pageClauses.join(" AND ")}` : ""}
       ORDER BY ${sortSql} ${dir}, w.worker_id COLLATE "C" ${dir} LIMIT $${pageArgs.length}`,
      pageArgs,
    );
    const more = rows.length > options.limit;
    const shown = more ? rows.slice(0, options.limit) : [...rows];
    const out: FleetRow[] = shown.map(fleetRowOf);
    const last = shown.at(-1);
    const lastValue = last === undefined
      ? undefined
      : sortType === "text"
      ? String(last.sort_value)
      : Number(last.sort_value);
    return {
      rows: out,
      nextCursor: more && last ? encodeCursor(sort, lastValue, last.worker_id) : null,
      total: Number(count?.n ?? 0),
    };
  }

  async summary(): Promise<FleetSummary> {
    const [row] = await this.#sql.unsafe<FleetSummary[]>(
      `SELECT COUNT(*)::bigint AS total,
         COUNT(*) FILTER (WHERE status IN ('online', 'draining'))::bigint AS online,
         COUNT(*) FILTER (WHERE status = 'offline')::bigint AS offline,
         COUNT(*) FILTER (WHERE status = 'error')::bigint AS error,
         COUNT(*) FILTER (WHERE status != 'offline' AND ${COLUMN_SQL.trading} = 'running')::bigint
           AS trading
       FROM workers w`,
    );
    return {
      total: Number(row?.total ?? 0),
      online: Number(row?.online ?? 0),
      offline: Number(row?.offline ?? 0),
      error: Number(row?.error ?? 0),
      trading: Number(row?.trading ?? 0),
    };
  }

  async keyOf(workerId: string): Promise<WorkerKeyInfo | null> {
    const [row] = await this.#sql<WorkerKeyRow[]>`
      SELECT k.id, k.name, k.prefix, k.active, k.revoked_at FROM workers w
      JOIN api_keys k ON k.id = w.key_id WHERE w.worker_id = ${workerId}`;
    return row ? workerKeyInfoOf(row) : null;
  }
}

function filterSql(options: FleetPageOptions): { clauses: string[]; args: (string | number)[] } {
  const clauses: string[] = [];
  const args: (string | number)[] = [];
  const like = likePattern(options.q);
  if (like !== undefined) {
    args.push(like);
    const p = `$${args.length}`;
    clauses.push(
      `(w.hostname ILIKE ${p} ESCAPE '\\' OR w.worker_id ILIKE ${p} ESCAPE '\\' ` +
        `OR k.name ILIKE ${p} ESCAPE '\\')`,
    );
  }
  if (options.status) {
    args.push(options.status);
    clauses.push(`w.status = $${args.length}`);
  }
  if (options.trading) {
    args.push(options.trading);
    clauses.push(`w.status != 'offline' AND ${COLUMN_SQL.trading} = $${args.length}`);
  }
  return { clauses, args };
}
