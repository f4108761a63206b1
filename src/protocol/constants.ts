/**
 * Numbers and names fixed by the wire protocol v1 (`shared/protocol.md`).
 *
 * Both the agent and the reference control plane import these; a change here is a
 * protocol change.
 */

/** Protocol major version spoken by this code. */
export const PROTOCOL_VERSION = 1;

/** Largest request or response body either side accepts (protocol 1). */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Largest WebSocket frame; bigger frames close the socket with 1009 (protocol 1). */
export const MAX_FRAME_BYTES = 256 * 1024;
/** Most samples in one `POST …/metrics` request (protocol 3.3). */
export const MAX_SAMPLES_PER_REQUEST = 500;
/** Most commands handed out in one heartbeat response (protocol 3.2). */
export const MAX_PENDING_PER_HEARTBEAT = 10;

/**
 * The WebSocket upgrade header naming the agent's instance (v1.1, the `instance_id` it
 * registered with): an instance other than the key's online holder is refused with 409.
 */
export const INSTANCE_ID_HEADER = "X-Instance-Id";

/** Each side sends a `ping` frame this often (protocol 3.5). */
export const WS_PING_INTERVAL_MS = 20_000;
/** Missed pongs after which a WebSocket is considered dead (protocol 3.5). */
export const WS_MAX_MISSED_PONGS = 2;
/** The server re-sends a command not acked within this time (protocol 3.5). */
export const ACK_TIMEOUT_MS = 30_000;
/** `expires_at - issued_at` of a freshly signed command (protocol 6). */
export const COMMAND_TTL_MS = 10 * 60_000;
/** Clock skew tolerated on both ends of a command's validity window (protocol 6). */
export const CLOCK_SKEW_MS = 300_000;
/** Executed command ids are remembered at least this long (protocol 6). */
export const SEEN_ID_RETENTION_MS = 24 * 60 * 60_000;
/** A worker is offline after this many missed heartbeat intervals (protocol 3.2). */
export const MISSED_HEARTBEATS_OFFLINE = 3;

/** Bounds the agent clamps server-set intervals to (protocol 3.1). */
export const HEARTBEAT_INTERVAL_BOUNDS = { min: 5, max: 300 } as const;
/** Bounds the agent clamps server-set intervals to (protocol 3.1). */
export const METRICS_INTERVAL_BOUNDS = { min: 1, max: 300 } as const;
/** Bounds of a command's `timeout_seconds` (protocol 4). */
export const COMMAND_TIMEOUT_BOUNDS = { min: 1, max: 3600 } as const;

/** Default intervals a server hands out (protocol 3.1). */
export const DEFAULT_HEARTBEAT_INTERVAL_SECONDS = 30;
/** Default intervals a server hands out (protocol 3.1). */
export const DEFAULT_METRICS_INTERVAL_SECONDS = 10;

/** Full-jitter backoff: cap of one wait (protocol 8). */
export const BACKOFF_CAP_MS = 60_000;
/** Full-jitter backoff: base of the exponent (protocol 8). */
export const BACKOFF_BASE_MS = 1_000;
/** Backoff attempts reset after this much healthy connection (protocol 8). */
export const BACKOFF_RESET_AFTER_MS = 60_000;
/** Slow retry after 401/403: first wait (protocol 8). */
export const AUTH_RETRY_FIRST_MS = 5 * 60_000;
/** Slow retry after 401/403: longest wait (protocol 8). */
export const AUTH_RETRY_MAX_MS = 60 * 60_000;

/** WebSocket close codes of protocol 3.5. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  messageTooBig: 1009,
  unauthorized: 4001,
  forbidden: 4003,
  replaced: 4008,
  rateLimited: 4029,
} as const;

/** Error codes of HTTP error bodies (protocol 1). */
export const ERROR_CODES = [
  "missing_api_key",
  "invalid_api_key",
  "forbidden",
  "worker_mismatch",
  "not_found",
  "invalid_request",
  "payload_too_large",
  "rate_limited",
  "internal",
  "key_in_use",
] as const;
/** One of {@linkcode ERROR_CODES}. */
export type ErrorCode = typeof ERROR_CODES[number];

/** Signature algorithms of protocol 6. */
export const SIGNATURE_ALGS = ["hmac-sha256", "ed25519"] as const;
/** One of {@linkcode SIGNATURE_ALGS}. */
export type SignatureAlg = typeof SIGNATURE_ALGS[number];

/** Worker statuses an agent reports in heartbeats (protocol 3.2). */
export const WORKER_STATUSES = ["online", "error", "draining", "offline"] as const;
/** One of {@linkcode WORKER_STATUSES}. */
export type WorkerStatus = typeof WORKER_STATUSES[number];

/** Trading workload states (protocol 5.1). */
export const TRADING_STATUSES = ["stopped", "starting", "running", "stopping", "crashed"] as const;
/** One of {@linkcode TRADING_STATUSES}. */
export type TradingStatus = typeof TRADING_STATUSES[number];

/** Terminal statuses of a command result (protocol 3.4). */
export const RESULT_STATUSES = ["completed", "failed", "timeout"] as const;
/** One of {@linkcode RESULT_STATUSES}. */
export type ResultStatus = typeof RESULT_STATUSES[number];

/** Platforms a worker registers with (protocol 3.1). */
export const PLATFORMS = ["windows", "darwin", "linux"] as const;
/** One of {@linkcode PLATFORMS}. */
export type Platform = typeof PLATFORMS[number];

/** The message an HMAC signing key is derived with (protocol 6). */
export const SIGNING_KEY_DERIVATION_MESSAGE = "finetunelab-worker-command-signing-v1";

/** Paths of the worker endpoints (protocol 3). */
export const Paths = {
  register: "/api/workers/register",
  heartbeat: (workerId: string): string => `/api/workers/${encodeURIComponent(workerId)}/heartbeat`,
  metrics: (workerId: string): string => `/api/workers/${encodeURIComponent(workerId)}/metrics`,
  result: (commandId: string): string =>
    `/api/workers/commands/${encodeURIComponent(commandId)}/result`,
  websocket: "/api/v1/workers/ws",
} as const;

/**
 * Every command type of protocol 4, in the order of its table: the one list a new command type
 * is added to (its params schema goes in `command_types.ts`, which the compiler then asks for).
 */
export const COMMAND_TYPES = [
  "start_trading",
  "stop_trading",
  "update_config",
  "restart_agent",
  "collect_diagnostics",
  "ping",
] as const;
/** One of {@linkcode COMMAND_TYPES}. */
export type CommandType = typeof COMMAND_TYPES[number];
