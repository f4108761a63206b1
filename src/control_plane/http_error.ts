/** An error that carries its HTTP status and protocol error code (protocol 1). */
import type { ErrorCode } from "../protocol/mod.ts";

/**
 * Thrown anywhere in a request handler; the app turns it into
 * `{error, code, server_time}` with `status` in exactly one place.
 *
 * @example
 * ```ts
 * throw new HttpError(404, "not_found", "No worker wkr_…");
 * ```
 */
export class HttpError extends Error {
  /** HTTP status of the response. */
  readonly status: number;
  /** Protocol error code (`snake_case`). */
  readonly code: ErrorCode;
  /** Extra response headers, e.g. `Retry-After`. */
  readonly headers: Record<string, string>;
  /** The request field at fault, for 400s. */
  readonly field: string | undefined;
  /** Extra members of the error body, e.g. the holder of a key in use (409 `key_in_use`). */
  readonly details: Record<string, unknown>;

  /** Creates the error; `message` is the human text of the body's `error`. */
  constructor(
    status: number,
    code: ErrorCode,
    message: string,
    options: {
      headers?: Record<string, string>;
      field?: string;
      details?: Record<string, unknown>;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "HttpError";
    this.status = status;
    this.code = code;
    this.headers = options.headers ?? {};
    this.field = options.field;
    this.details = options.details ?? {};
  }
}
