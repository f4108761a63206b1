/**
 * What storage throws. The HTTP layer (`app.ts`) maps each to a status; nothing below it
 * knows HTTP. An adapter turns its engine's own errors into these (see `guarded.ts`).
 *
 * @module
 */

/** Base of every domain error storage throws. */
export class StorageError extends Error {
  /** Creates the error. */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
  }
}

/** The thing asked for does not exist (HTTP 404). */
export class NotFoundError extends StorageError {}

/** The write conflicts with what is stored (a unique value taken; HTTP 409). */
export class ConflictError extends StorageError {}

/** The input cannot be stored as given (too big, say; HTTP 400). */
export class InvalidInputError extends StorageError {
  /** The request field at fault. */
  readonly field: string | undefined;

  /** Creates the error; `field` names the input at fault. */
  constructor(message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, options);
    this.field = options.field;
  }
}

/**
 * The database cannot answer now: unreachable, busy, out of connections (HTTP 503 with
 * `Retry-After`). Worth retrying; never a reason to end the process.
 */
export class UnavailableError extends StorageError {
  /** Suggested wait before a retry, in seconds. */
  readonly retryAfterSeconds: number;

  /** Creates the error. */
  constructor(message: string, options: { retryAfterSeconds?: number; cause?: unknown } = {}) {
    super(message, options);
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
  }
}
