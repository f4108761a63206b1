/**
 * The admin API's request parameters and answers as types, shared by the control plane's
 * handlers and the dashboard (`dashboard/app/`), so both sides compile against one definition.
 *
 * This module holds only types and small constants (and re-exports two lists of statuses): the
 * browser bundle imports it without pulling in server code or zod.
 *
 * @module
 */
import type { CommandType, WorkerStatus } from "../protocol/constants.ts";
import type { ShownSample } from "../protocol/liberal_readers.ts";
import type { CommandStatus, CommandView, KeyView, WorkerView } from "./storage/records.ts";

export type {
  CommandStatus,
  CommandType,
  CommandView,
  KeyView,
  ShownSample,
  WorkerStatus,
  WorkerView,
};
export { COMMAND_STATUSES } from "./storage/records.ts";
export { WORKER_STATUSES } from "../protocol/constants.ts";

/** Every answer with a body carries the server's clock (protocol 1). */
export interface ServerTime {
  /** Unix ms on the server when it answered. */
  server_time: number;
}

// ---------------------------------------------------------------- session

/** Name of the dashboard's session cookie (HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = "ftl_admin_session";
/**
 * Header a cookie-authenticated request must carry when it changes something (POST, DELETE):
 * another site cannot add a custom header to a request without CORS, which this server never
 * allows, so a cross-site form or script cannot act with the cookie.
 */
export const CSRF_HEADER = "X-FTL-Dashboard";

/** `POST /api/admin/session` body: the admin token, exchanged for the session cookie. */
export interface SessionRequest {
  token: string;
}

/** `GET` / `POST /api/admin/session`: who is signed in, and what the dashboard must know. */
export interface SessionResponse extends ServerTime {
  ok: true;
  /** How this request was authenticated. */
  via: "session" | "bearer";
  /** When the session cookie expires (Unix ms); null for a bearer token. */
  expires_at: number | null;
  /** The control plane's version. */
  version: string;
  /** Heartbeat interval handed to workers (s). */
  heartbeat_interval_seconds: number;
  /** Metrics interval handed to workers (s). */
  metrics_interval_seconds: number;
  /** A worker is offline after this many missed heartbeat intervals (protocol 3.2). */
  missed_heartbeats_offline: number;
  /** How long a command waits to be delivered before it times out (ms). */
  command_delivery_window_ms: number;
}

/** `GET /api/admin/session` without a valid session or token. */
export interface SignedOutResponse extends ServerTime {
  ok: false;
}

// ---------------------------------------------------------------- fleet

/** Columns the worker list can be sorted by (`sort=<key>` ascending, `sort=-<key>` descending). */
export const FLEET_SORT_KEYS = [
  "hostname",
  "worker_id",
  "key_name",
  "platform",
  "version",
  "status",
  "last_seen",
  "cpu",
  "memory",
  "disk",
  "trading",
] as const;
/** One of {@linkcode FLEET_SORT_KEYS}. */
export type FleetSortKey = typeof FLEET_SORT_KEYS[number];

/** Longest `q` of the worker list. */
export const MAX_FLEET_QUERY_LENGTH = 100;

/** The key a worker registered with, as its row and its page show it. */
export interface WorkerKeyInfo {
  id: string;
  name: string;
  key_prefix: string;
  active: boolean;
  /** Unix ms of the revocation, null while active. */
  revoked_at: number | null;
}

/** A row of the worker list: the worker, its key and its latest flat metrics. */
export interface FleetRow extends WorkerView {
  /** Name of the worker's key (null when the key is gone). */
  key_name: string | null;
  /** False once the key was revoked. */
  key_active: boolean;
  /** Unix ms of the key's revocation. */
  key_revoked_at: number | null;
  /** From the latest heartbeat's snapshot (protocol 5.1); null when not reported. */
  cpu_percent: number | null;
  memory_percent: number | null;
  disk_percent: number | null;
  trading_status: string | null;
  active_trades: number | null;
}

/** Counts over the whole fleet, whatever the list shows. */
export interface FleetSummary {
  total: number;
  /** Status `online` or `draining`. */
  online: number;
  offline: number;
  /** Status `error`. */
  error: number;
  /** Not offline, and the latest snapshot says the trading workload is `running`. */
  trading: number;
}

/** `GET /api/workers`: one page of workers. */
export interface WorkerListResponse extends ServerTime {
  workers: FleetRow[];
  /** Pass as `cursor` for the next page; null on the last page. */
  next_cursor: string | null;
  /** Workers matching `q`, `status` and `trading`, on every page together. */
  total: number;
  summary: FleetSummary;
}

/** `GET /api/workers/{id}`. */
export interface WorkerDetailResponse extends ServerTime {
  worker: WorkerView;
  /** The worker's key; null when it no longer exists. */
  key: WorkerKeyInfo | null;
  /** The latest samples, oldest first. */
  metrics: ShownSample[];
  /** The latest commands, newest first. */
  commands: CommandView[];
}

// ---------------------------------------------------------------- time series

/** The ranges the dashboard offers, in ms. */
export const SERIES_RANGES = {
  "15m": 15 * 60_000,
  "1h": 60 * 60_000,
  "24h": 24 * 60 * 60_000,
  "7d": 7 * 24 * 60 * 60_000,
} as const;
/** One of the keys of {@linkcode SERIES_RANGES}. */
export type SeriesRange = keyof typeof SERIES_RANGES;

/** Most points one series of `GET /api/workers/{id}/series` has (`points` may ask fewer). */
export const MAX_SERIES_POINTS = 1000;

/** Scalar series of a worker's history, each one value per sample. */
export const SERIES_NAMES = [
  "cpu_percent",
  "memory_used_mb",
  "memory_total_mb",
  "disk_used_gb",
  "disk_total_gb",
  "net_rx_bytes_per_s",
  "net_tx_bytes_per_s",
  "load_1",
  "load_5",
  "load_15",
  "trading_running_percent",
  "active_trades",
] as const;
/** One of {@linkcode SERIES_NAMES}. */
export type SeriesName = typeof SERIES_NAMES[number];

/** Minimum, mean and maximum of each bucket; null for a gap (no sample in it). */
export interface Band {
  min: (number | null)[];
  avg: (number | null)[];
  max: (number | null)[];
}

/** One GPU's history. */
export interface GpuSeries {
  index: number;
  name: string | null;
  util_percent: Band;
  memory_used_mb: Band;
  memory_total_mb: (number | null)[];
}

/** `GET /api/workers/{id}/series`: a worker's history in buckets. */
export interface SeriesResponse extends ServerTime {
  worker_id: string;
  /** Start of the range (Unix ms, inclusive). */
  since: number;
  /** End of the range (Unix ms, exclusive). */
  until: number;
  /** Width of one bucket (ms). */
  bucket_ms: number;
  /** Samples in the range. */
  samples: number;
  /** Time of each point (Unix ms, the middle of its bucket); a gap is a point of nulls. */
  t: number[];
  /** Samples in each point's bucket (0 for a gap). */
  count: number[];
  series: Record<SeriesName, Band>;
  /** Mean utilisation of each CPU core per point; `cores[i][p]`. */
  cores: (number | null)[][];
  gpus: GpuSeries[];
}

// ---------------------------------------------------------------- commands

/** `GET /api/workers/commands`. */
export interface CommandListResponse extends ServerTime {
  commands: CommandView[];
}

/** A JSON Schema (the subset a params form is generated from). */
export interface JsonSchema {
  type?: string | string[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  examples?: unknown[];
  items?: JsonSchema;
  default?: unknown;
}

/** A command type the control plane knows, with its params as a JSON Schema. */
export interface CommandCatalogEntry {
  command_type: CommandType;
  /** One line for people. */
  description: string;
  /** Stops the workload or the agent: the dashboard asks before sending it. */
  disruptive: boolean;
  params_schema: JsonSchema;
}

/** `GET /api/admin/command-types`. */
export interface CommandCatalogResponse extends ServerTime {
  command_types: CommandCatalogEntry[];
}

// ---------------------------------------------------------------- keys

/** `GET /api/admin/keys`. */
export interface KeyListResponse extends ServerTime {
  keys: KeyView[];
}

/** `POST /api/admin/keys`: the new key, shown once. */
export interface CreatedKeyResponse extends ServerTime, Omit<KeyView, "worker_id"> {
  key: string;
}

// ---------------------------------------------------------------- live events

/** A worker registered, changed status, went offline or was deleted. */
export interface WorkerEvent {
  type: "worker";
  worker_id: string;
  /** null once deleted. */
  status: WorkerStatus | null;
  is_online: boolean;
  last_heartbeat: number | null;
}

/** Workers that sent heartbeats or samples since the last such event (at most one a second). */
export interface ActivityEvent {
  type: "activity";
  worker_ids: string[];
  /** More workers were active than `worker_ids` lists: treat every worker as changed. */
  all: boolean;
}

/** A command was created or changed status. */
export interface CommandEvent {
  type: "command";
  command_id: string;
  worker_id: string;
  command_type: string;
  status: CommandStatus;
}

/** A key was created or revoked. */
export interface KeyEvent {
  type: "key";
  key_id: string;
  active: boolean;
}

/** What `GET /api/admin/events` pushes; the SSE `event:` field is the `type`. */
export type LiveEvent = WorkerEvent | ActivityEvent | CommandEvent | KeyEvent;
