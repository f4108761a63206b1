/** The one place that decides what an HTTP answer from the control plane means. */
import { ErrorBodySchema, redactSecrets, validate } from "../protocol/mod.ts";

/**
 * What a call to a worker endpoint came to:
 * - `ok`: 2xx with a body that matches the protocol schema;
 * - `retry`: network error, timeout, 429, 5xx or an unreadable 2xx body (backoff, `Retry-After` wins);
 * - `auth`: 401, or 403 `forbidden`/`invalid_api_key` (the key is bad or revoked: slow retry);
 * - `not_found`: 404 (the worker was deleted: register again);
 * - `worker_mismatch`: 403 `worker_mismatch` (the key is bound to another worker);
 * - `rejected`: any other 4xx (this request can never succeed as it is).
 */
export type ApiOutcome<T> =
  | { kind: "ok"; value: T; status: number }
  | { kind: "retry"; reason: string; status?: number; retryAfterMs?: number }
  | { kind: "auth"; reason: string; status: number; code: string }
  | { kind: "not_found"; reason: string; code: string }
  | { kind: "worker_mismatch"; reason: string }
  | { kind: "rejected"; reason: string; status: number; code: string };

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
  try {
    const parsed = validate(ErrorBodySchema, JSON.parse(bodyText));
    if (parsed.ok) {
      code = parsed.value.code;
      message = parsed.value.error;
    }
  } catch {
    // Not JSON: a proxy's error page, say. The status alone decides.
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
  if (status === 408) return { kind: "retry", reason, status };
  return { kind: "rejected", reason, status, code: code || "invalid_request" };
}
