/**
 * Reading a JSON request body under a byte limit and a deadline, with or without
 * `Content-Length`.
 */
import { MAX_BODY_BYTES, parseJson, type z } from "./_deps.ts";
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
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const late = Promise.withResolvers<never>();
  late.promise.catch(() => {});
  const timer = options.deadlineMs === undefined ? undefined : setTimeout(() => {
    late.reject(
      new HttpError(408, "invalid_request", "(body): not received in time", { field: "(body)" }),
    );
  }, options.deadlineMs);
  try {
    while (true) {
      const read = reader.read().catch((cause) => {
        // The client hung up mid-body (or sent a broken chunked body): its fault, not ours.
        throw new HttpError(400, "invalid_request", "(body): could not be read to the end", {
          field: "(body)",
          cause,
        });
      });
      const { done, value } = await Promise.race([read, late.promise]);
      if (done) break;
      total += value.byteLength;
      if (total > limit) throw tooLarge(limit);
      chunks.push(value);
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  const all = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
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
