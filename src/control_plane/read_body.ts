/**
 * Reading a JSON request body under a byte limit and a deadline, with or without
 * `Content-Length`.
 */
import { MAX_BODY_BYTES, parseJson, type z } from "./_deps.ts";
import { BodyTooLargeError, readBoundedBytes } from "../shared/bounded_read.ts";
import { HttpError } from "./http_error.ts";

/** Options of {@linkcode readBodyText} and {@linkcode readJsonBody}. */
export interface ReadBodyOptions {
  /** Largest body in bytes; more is a 413. @default {MAX_BODY_BYTES} (1 MiB) */
  limit?: number;
  /**
   * The whole body must have arrived this many ms after reading starts, else 408.
   * @default {no deadline}
   */
  deadlineMs?: number;
}

/**
 * Reads the body of `request` as text, refusing with 413 as soon as more than `limit` bytes
 * have arrived (a lying or missing `Content-Length` does not help), and with 408 when the
 * body is not complete by the deadline.
 */
export async function readBodyText(
  request: Request,
  options: ReadBodyOptions = {},
): Promise<string> {
  const limit = options.limit ?? MAX_BODY_BYTES;
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  let all: Uint8Array;
  try {
    all = await readBoundedBytes(request.body, {
      maxBytes: limit,
      ...(options.deadlineMs === undefined
        ? {}
        : { signal: AbortSignal.timeout(options.deadlineMs) }),
    });
  } catch (cause) {
    if (cause instanceof BodyTooLargeError) throw tooLarge(limit);
    if (cause instanceof DOMException && cause.name === "TimeoutError") {
      throw new HttpError(408, "invalid_request", "(body): not received in time", {
        field: "(body)",
      });
    }
    // The client hung up mid-body (or sent a broken chunked body): its fault, not ours.
    throw new HttpError(400, "invalid_request", "(body): could not be read to the end", {
      field: "(body)",
      cause,
    });
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(all);
  } catch {
    throw new HttpError(400, "invalid_request", "(body): not valid UTF-8", { field: "(body)" });
  }
}

/**
 * Reads and validates a JSON body against `schema`; a bad field becomes a 400 that names
 * it. An empty body counts as `{}`.
 */
export async function readJsonBody<S extends z.ZodType>(
  request: Request,
  schema: S,
  options: ReadBodyOptions = {},
): Promise<z.output<S>> {
  const text = await readBodyText(request, options);
  return parseBody(schema, text);
}

/** Parses and validates body text already read; an empty body counts as `{}`. */
export function parseBody<S extends z.ZodType>(schema: S, text: string): z.output<S> {
  const result = parseJson(schema, text.trim() === "" ? "{}" : text);
  if (!result.ok) {
    throw new HttpError(400, "invalid_request", result.error, { field: result.field });
  }
  return result.value;
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, "payload_too_large", `The body is larger than ${limit} bytes`);
}
