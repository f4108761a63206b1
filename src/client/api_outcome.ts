/**
 * The one place that decides what an answer from the control plane means: an HTTP answer
 * ({@linkcode classifyFailure}) and the end of a WebSocket session ({@linkcode classifySocketEnd})
 * come to the same few kinds, which the loops turn into the same waits.
 *
 * @module
 */
import { CloseCode, ErrorBodySchema, redactSecrets, validate } from "../protocol/mod.ts";
import { parseBoundedJson } from "../protocol/bounded_json.ts";

/**
 * What a call to a worker endpoint came to:
 * - `ok`: 2xx with a body that matches the protocol schema;
 * - `retry`: network error, timeout, 429, 5xx or an unreadable 2xx body (backoff, `Retry-After` wins);
 * - `auth`: 401, or 403 `forbidden`/`invalid_api_key` (the key is bad or revoked: slow retry);
 * - `not_found`: 404 (the worker was deleted: register again);
 * - `worker_mismatch`: 403 `worker_mismatch` (the key is bound to another worker);
 * - `key_in_use`: 409 `key_in_use` (v1.1: another machine holds the key; slow retry, never fight);
 * - `rejected`: any other 4xx (this request can never succeed as it is).
 */
export type ApiOutcome<T> =
  | { kind: "ok"; value: T; status: number }
  | { kind: "retry"; reason: string; status?: number; retryAfterMs?: number }
  | { kind: "auth"; reason: string; status: number; code: string }
  | { kind: "not_found"; reason: string; code: string }
  | { kind: "worker_mismatch"; reason: string }
  | { kind: "key_in_use"; reason: string; holder: KeyHolder }
  | { kind: "rejected"; reason: string; status: number; code: string };

/** The machine that holds a key, as a 409 `key_in_use` names it (protocol 3.1, v1.1). */
export interface KeyHolder {
  /** Its hostname (redacted, at most 255 characters), when the server named it. */
  hostname: string | undefined;
  /** Its last heartbeat as Unix ms, when the server said (ms or an ISO string). */
  lastHeartbeatAt: number | undefined;
}

/**
 * Parses `Retry-After` (seconds or an HTTP date) into milliseconds, between 1 s and one hour:
 * a server (or proxy) answering every request with `Retry-After: 0` must not make a loop spin.
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  let ms: number;
  if (Number.isFinite(seconds)) ms = seconds * 1000;
  else {
    const date = Date.parse(value);
    if (Number.isNaN(date)) return undefined;
    ms = date - now;
  }
  return boundServerWaitMs(ms);
}

/**
 * A wait the server asked for (`Retry-After`, a `disconnect` frame's `retry_after_seconds`),
 * kept between 1 s and one hour: 0 must not make a loop spin, and a delay past 2^31 ms would
 * fire at once (timer overflow).
 */
export function boundServerWaitMs(ms: number): number {
  return Math.min(3_600_000, Math.max(1_000, Math.round(ms)));
}

/**
 * Classifies a non-2xx answer. `bodyText` is the response body (maybe empty or not JSON);
 * the error message in it is passed on, truncated.
 */
export function classifyFailure(
  status: number,
  bodyText: string,
  retryAfter: string | null,
  now: number,
): Exclude<ApiOutcome<never>, { kind: "ok" }> {
  let code = "";
  let message = "";
  // Not JSON (a proxy's error page, say), too deep or the wrong shape: the status alone decides.
  const json = parseBoundedJson(bodyText);
  const parsed = json.ok ? validate(ErrorBodySchema, json.value) : undefined;
  if (parsed?.ok) {
    code = parsed.value.code.slice(0, 64);
    message = parsed.value.error;
  }
  const reason = `HTTP ${status}${code ? ` ${code}` : ""}${
    // Redacted here: the reason goes to status.json and `worker-agent status`, not only the log.
    message ? `: ${redactSecrets(message).slice(0, 200)}` : ""}`;
  if (status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(retryAfter, now);
    return retryAfterMs === undefined
      ? { kind: "retry", reason, status }
      : { kind: "retry", reason, status, retryAfterMs };
  }
  if (status === 401) return { kind: "auth", reason, status, code: code || "invalid_api_key" };
  if (status === 403) {
    if (code === "worker_mismatch") return { kind: "worker_mismatch", reason };
    return { kind: "auth", reason, status, code: code || "forbidden" };
  }
  if (status === 404) return { kind: "not_found", reason, code: code || "not_found" };
  if (status === 409 && code === "key_in_use") {
    return { kind: "key_in_use", reason, holder: keyHolderOf(json.ok ? json.value : undefined) };
  }
  if (status === 408) return { kind: "retry", reason, status };
  return { kind: "rejected", reason, status, code: code || "invalid_request" };
}

function keyHolderOf(body: unknown): KeyHolder {
  const record = body !== null && typeof body === "object" ? body as Record<string, unknown> : {};
  const hostname = typeof record.hostname === "string" && record.hostname !== ""
    ? redactSecrets(printable(record.hostname.slice(0, 255)))
    : undefined;
  const last = record.last_heartbeat;
  const lastHeartbeatAt = typeof last === "number" && Number.isFinite(last)
    ? last
    : typeof last === "string" && !Number.isNaN(Date.parse(last))
    ? Date.parse(last)
    : undefined;
  return { hostname, lastHeartbeatAt };
}

/** `text` with control characters replaced, so a hostile name cannot forge log lines. */
function printable(text: string): string {
  return [...text].map((c) => (c < " " || c === "\x7f" ? "?" : c)).join("");
}

/** How one WebSocket session (protocol 3.5) ended, as the command channel saw it. */
export type SocketEnd =
  | { kind: "closed"; code: number; reason: string; welcomed: boolean }
  | { kind: "refused"; status: number; message: string }
  | { kind: "error"; message: string }
  | { kind: "bad_frame"; message: string }
  | { kind: "aborted" };

/**
 * What the end of a WebSocket session means, decided like an HTTP answer:
 * - `unsupported`: the upgrade answered 404 (no WebSocket endpoint: heartbeat polling only);
 * - `auth`: the upgrade answered 401/403, or the server closed with 4001/4003 (the slow auth
 *   schedule, like a 401 on register);
 * - `key_in_use`: the upgrade answered 409 (v1.1: another machine holds the key; never fight);
 * - `replaced`: closed with 4008 (another session of this worker took over: back off);
 * - `retry`: anything else: a network error, another close code (4029 included), an unusable
 *   frame (`badFrame`): reconnect with backoff, `disconnect`'s delay winning.
 */
export type SocketOutcome =
  | { kind: "unsupported"; reason: string }
  | { kind: "auth"; reason: string }
  | { kind: "key_in_use"; reason: string }
  | { kind: "replaced"; reason: string }
  | { kind: "retry"; reason: string; badFrame: boolean };

/** Classifies how a WebSocket session ended (`aborted` is the agent's own shutdown, not here). */
export function classifySocketEnd(end: Exclude<SocketEnd, { kind: "aborted" }>): SocketOutcome {
  if (end.kind === "refused") {
    if (end.status === 404) return { kind: "unsupported", reason: "upgrade answered 404" };
    if (end.status === 401 || end.status === 403) {
      return { kind: "auth", reason: `WebSocket upgrade refused with HTTP ${end.status}` };
    }
    if (end.status === 409) {
      return {
        kind: "key_in_use",
        reason: "WebSocket upgrade refused with HTTP 409: the key is in use elsewhere",
      };
    }
    return { kind: "retry", reason: `upgrade refused with HTTP ${end.status}`, badFrame: false };
  }
  if (end.kind === "closed") {
    if (end.code === CloseCode.unauthorized || end.code === CloseCode.forbidden) {
      return { kind: "auth", reason: `WebSocket closed ${end.code} ${end.reason}` };
    }
    if (end.code === CloseCode.replaced) {
      return { kind: "replaced", reason: "session replaced (4008)" };
    }
    const reason = `closed ${end.code}${end.reason ? ` ${end.reason}` : ""}`;
    return { kind: "retry", reason, badFrame: false };
  }
  return { kind: "retry", reason: end.message, badFrame: end.kind === "bad_frame" };
}
