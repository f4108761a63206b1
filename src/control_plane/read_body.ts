/** Reading a JSON request body under a byte limit, with or without `Content-Length`. */
import { MAX_BODY_BYTES, parseJson, type z } from "./_deps.ts";
import { HttpError } from "./http_error.ts";

/**
 * Reads the body of `request` as text, refusing with 413 as soon as more than `limit`
 * bytes have arrived (a lying or missing `Content-Length` does not help).
 */
export async function readBodyText(
  request: Request,
  limit: number = MAX_BODY_BYTES,
): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (true) {
      const { done, value } = await reader.read().catch((cause) => {
        // The client hung up mid-body (or sent a broken chunked body): its fault, not ours.
        throw new HttpError(400, "invalid_request", "(body): could not be read to the end", {
          field: "(body)",
          cause,
        });
      });
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel().catch(() => {});
        throw tooLarge(limit);
      }
      chunks.push(value);
    }
  } finally {
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
  limit: number = MAX_BODY_BYTES,
): Promise<z.infer<S>> {
  const text = await readBodyText(request, limit);
  const result = parseJson(schema, text.trim() === "" ? "{}" : text);
  if (!result.ok) {
    throw new HttpError(400, "invalid_request", result.error, { field: result.field });
  }
  return result.value;
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, "payload_too_large", `The body is larger than ${limit} bytes`);
}
