/**
 * Stored rows as both engines return them, and their mapping to records and views. The only
 * column types that differ are flags (SQLite INTEGER 0/1, PostgreSQL BOOLEAN); everything
 * else reads the same, so each adapter keeps only its SQL.
 *
 * @module
 */
import type { FleetRow, WorkerKeyInfo } from "../admin_api.ts";
import type { WorkerStatus } from "../../protocol/constants.ts";
import { finiteOrNull } from "../fleet_query.ts";
import { parseColumn } from "./json_column.ts";
import type { CommandStatus, CommandView, KeyRecord, WorkerView } from "./records.ts";

/** A flag column: INTEGER 0/1 on SQLite, BOOLEAN on PostgreSQL. */
export type FlagColumn = number | boolean;

/** True for a set flag of either engine. */
export function flagSet(value: FlagColumn | null): boolean {
  return value === true || value === 1;
}

/** An `api_keys` row. */
export interface KeyRow {
  id: string;
  name: string;
  prefix: string;
  hash: string;
  scopes: string;
  signing_key: Uint8Array;
  active: FlagColumn;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

/** The record of a stored key. */
export function keyRecordOf(row: KeyRow): KeyRecord {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: parseColumn<string[]>(row.scopes, []),
    signingKey: new Uint8Array(row.signing_key),
    active: flagSet(row.active),
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

/** The key columns the worker detail shows. */
export interface WorkerKeyRow {
  id: string;
  name: string;
  prefix: string;
  active: FlagColumn;
  revoked_at: number | null;
}

/** The worker detail's view of its key. */
export function workerKeyInfoOf(row: WorkerKeyRow): WorkerKeyInfo {
  return {
    id: row.id,
    name: row.name,
    key_prefix: row.prefix,
    active: flagSet(row.active),
    revoked_at: row.revoked_at,
  };
}

/** A `workers` row. */
export interface WorkerRow {
  worker_id: string;
  key_id: string;
  hostname: string;
  platform: string;
  version: string;
  capabilities: string;
  max_concurrency: number;
  metadata: string;
  status: string;
  current_load: number;
  last_metrics: string | null;
  registered_at: number;
  last_heartbeat: number | null;
  instance_id: string | null;
  legacy: FlagColumn;
  last_registered_at: number | null;
  metrics_posted_at: number | null;
}

/** The view of a stored worker. */
export function workerViewOf(row: WorkerRow): WorkerView {
  const status = row.status as WorkerStatus;
  return {
    worker_id: row.worker_id,
    key_id: row.key_id,
    hostname: row.hostname,
    platform: row.platform,
    version: row.version,
    status,
    is_online: status !== "offline",
    capabilities: parseColumn<string[]>(row.capabilities, []),
    max_concurrency: row.max_concurrency,
    current_load: row.current_load,
    metadata: parseColumn<Record<string, unknown>>(row.metadata, {}),
    metrics: parseColumn<Record<string, unknown> | null>(row.last_metrics, null),
    registered_at: row.registered_at,
    last_heartbeat: row.last_heartbeat,
    last_heartbeat_iso: row.last_heartbeat === null
      ? null
      : new Date(row.last_heartbeat).toISOString(),
    legacy: flagSet(row.legacy),
    last_registered_at: row.last_registered_at,
    metrics_posted_at: row.metrics_posted_at,
  };
}

/** A worker row of the fleet list: the worker, its key and values of its latest snapshot. */
export interface FleetPageRow extends WorkerRow {
  key_name: string | null;
  key_active: FlagColumn | null;
  key_revoked_at: number | null;
  cpu: number | null;
  memory: number | null;
  disk: number | null;
  trading: string | null;
  active_trades: number | null;
}

/** The fleet list's view of a row. */
export function fleetRowOf(row: FleetPageRow): FleetRow {
  return {
    ...workerViewOf(row),
    key_name: row.key_name,
    key_active: flagSet(row.key_active),
    key_revoked_at: row.key_revoked_at,
    cpu_percent: finiteOrNull(row.cpu),
    memory_percent: finiteOrNull(row.memory),
    disk_percent: finiteOrNull(row.disk),
    trading_status: typeof row.trading === "string" ? row.trading : null,
    active_trades: finiteOrNull(row.active_trades),
  };
}

/** A `commands` row. */
export interface CommandRow {
  id: string;
  worker_id: string;
  command_type: string;
  params: string;
  timeout_seconds: number;
  status: CommandStatus;
  created_at: number;
  deliver_until: number;
  deadline_at: number;
  delivery_count: number;
  delivered_at: number | null;
  last_delivery_at: number | null;
  acked_at: number | null;
  finished_at: number | null;
  result: string | null;
}

/** The view of a stored command. */
export function commandViewOf(row: CommandRow): CommandView {
  return {
    command_id: row.id,
    worker_id: row.worker_id,
    command_type: row.command_type,
    params: parseColumn<Record<string, unknown>>(row.params, {}),
    timeout_seconds: row.timeout_seconds,
    status: row.status,
    created_at: row.created_at,
    delivered_at: row.delivered_at,
    last_delivery_at: row.last_delivery_at,
    acked_at: row.acked_at,
    finished_at: row.finished_at,
    deadline_at: row.deadline_at,
    delivery_count: row.delivery_count,
    result: parseColumn<Record<string, unknown> | null>(row.result, null),
  };
}
