/**
 * What the control plane stores, as the rest of it sees it: records and views of keys,
 * workers and commands, independent of the engine. Types and small constants only (the
 * dashboard's browser bundle imports the views through `admin_api.ts`).
 *
 * @module
 */
import type { WorkerStatus } from "../../protocol/constants.ts";

/** Scopes a key can have; worker endpoints need `worker` or `all` (protocol 2). */
export const KEY_SCOPES = ["worker", "all", "read"] as const;

/** A stored key, without any secret except the derived signing key. */
export interface KeyRecord {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  signingKey: Uint8Array;
  active: boolean;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** The public view of a key for the admin API. */
export interface KeyView {
  id: string;
  name: string;
  key_prefix: string;
  scopes: string[];
  active: boolean;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  worker_id: string | null;
}

/** The admin API's view of a key (no secret). */
export function viewOf(record: KeyRecord): Omit<KeyView, "worker_id"> {
  return {
    id: record.id,
    name: record.name,
    key_prefix: record.prefix,
    scopes: record.scopes,
    active: record.active,
    created_at: record.createdAt,
    last_used_at: record.lastUsedAt,
    revoked_at: record.revokedAt,
  };
}

/** Largest stored metadata (JSON bytes); heartbeats merge into it, so it must be capped. */
export const MAX_METADATA_BYTES = 64 * 1024;

/** A worker as the admin API shows it. */
export interface WorkerView {
  worker_id: string;
  key_id: string;
  hostname: string;
  platform: string;
  version: string;
  status: WorkerStatus;
  is_online: boolean;
  capabilities: string[];
  max_concurrency: number;
  current_load: number;
  metadata: Record<string, unknown>;
  metrics: Record<string, unknown> | null;
  registered_at: number;
  /** Unix ms of the last heartbeat (or registration), null before any. */
  last_heartbeat: number | null;
  last_heartbeat_iso: string | null;
  /**
   * v1.1: registered without `instance_id`, i.e. FineTuneLab's own agent: no signature
   * checks on its side, commands handed out once by heartbeat (at most once).
   */
  legacy: boolean;
  /** Unix ms of the worker's latest registration (null: not since v1.1). */
  last_registered_at: number | null;
  /** Unix ms of the worker's last `POST …/metrics`, null if it never used that endpoint. */
  metrics_posted_at: number | null;
}

/** Who holds a worker's key (protocol 3.1, one machine per key). */
export interface WorkerHolder {
  worker_id: string;
  /** The instance that registered last; null when that was a legacy agent. */
  instance_id: string | null;
  hostname: string;
  status: WorkerStatus;
  last_heartbeat: number | null;
}

/** Every status a stored command can have. */
export const COMMAND_STATUSES = [
  "pending",
  "delivered",
  "acked",
  "completed",
  "failed",
  "timeout",
] as const;
/** One of {@linkcode COMMAND_STATUSES}. */
export type CommandStatus = typeof COMMAND_STATUSES[number];

/** Statuses after which nothing changes a command any more. */
export const TERMINAL_STATUSES: readonly CommandStatus[] = ["completed", "failed", "timeout"];

/** A command as the admin API shows it. */
export interface CommandView {
  command_id: string;
  worker_id: string;
  command_type: string;
  params: Record<string, unknown>;
  timeout_seconds: number;
  status: CommandStatus;
  created_at: number;
  delivered_at: number | null;
  last_delivery_at: number | null;
  acked_at: number | null;
  finished_at: number | null;
  deadline_at: number;
  delivery_count: number;
  result: Record<string, unknown> | null;
}

/** Timing rules of delivery and the timeout sweep. */
export interface CommandTiming {
  /** How long after creation a command is still delivered. */
  deliveryWindowMs: number;
  /** Extra time after `timeout_seconds` for the result to arrive. */
  resultGraceMs: number;
}

/** The stored result of a command that timed out. */
export const TIMEOUT_RESULT = {
  status: "timeout",
  error: "no result before the deadline",
  error_code: "deadline_exceeded",
} as const;
