/**
 * What the running agent publishes about itself in `<state_dir>/status.json`, read by
 * `worker-agent status`. The agent rewrites the file atomically whenever a field changes
 * (at most about once a second) and once more when it stops.
 */
import { z } from "zod";
import { TRADING_STATUSES } from "../protocol/constants.ts";

/** Connection states the agent moves through. */
export const CONNECTION_STATES = [
  "starting",
  "registering",
  "connected",
  "reconnecting",
  "auth_failed",
  "key_in_use",
  "draining",
  "stopped",
] as const;
/** One of {@linkcode CONNECTION_STATES}. */
export type ConnectionState = typeof CONNECTION_STATES[number];

/** States of the WebSocket command channel. */
export const WEBSOCKET_STATES = [
  "connecting",
  "open",
  "closed",
  "unsupported",
  "disabled",
] as const;
/** One of {@linkcode WEBSOCKET_STATES}. */
export type WebSocketState = typeof WEBSOCKET_STATES[number];

/** The contents of `status.json`. Times are Unix milliseconds. */
export const AgentStatusSchema = z.object({
  version: z.string(),
  pid: z.number().int(),
  state: z.enum(CONNECTION_STATES),
  worker_id: z.string().nullable(),
  base_url: z.string(),
  started_at: z.number().int(),
  updated_at: z.number().int(),
  last_heartbeat_at: z.number().int().nullable(),
  websocket: z.enum(WEBSOCKET_STATES),
  spool_depth: z.number().int().nonnegative(),
  dropped_samples: z.number().int().nonnegative(),
  pending_results: z.number().int().nonnegative(),
  trading_status: z.enum(TRADING_STATUSES),
  last_error: z.string().nullable(),
  /** When the agent retries next after an auth failure (or key_in_use), else null. */
  next_retry_at: z.number().int().nullable(),
  /** Bytes the result outbox and the sample spool use on disk (v1.1 budget). */
  state_used_bytes: z.number().int().nonnegative().optional(),
  /** `state_max_mb` in bytes. */
  state_max_bytes: z.number().int().nonnegative().optional(),
  /** The random id of this installation sent on register (v1.1). */
  instance_id: z.string().optional(),
});
/** The contents of `status.json`. */
export type AgentStatus = z.infer<typeof AgentStatusSchema>;

/** File name of the status file inside the state dir. */
export const STATUS_FILE = "status.json";
