/** Keeping command results small and clean enough to send (protocol 3.4, 1 MiB bodies). */
import { type CommandResult, redactSecrets } from "../protocol/mod.ts";
import { redactDeep } from "./redact_deep.ts";

/** Longest `output` or `error` text sent, in characters. */
export const MAX_RESULT_TEXT = 8 * 1024;
/** Largest `data` sent, in bytes of JSON; bigger data is replaced by a note of its size. */
export const MAX_RESULT_DATA_BYTES = 256 * 1024;

/** Cuts `text` to {@linkcode MAX_RESULT_TEXT} characters, saying how much was cut. */
export function fitText(text: string, max: number = MAX_RESULT_TEXT): string {
  const clean = redactSecrets(text);
  if (clean.length <= max) return clean;
  const note = `… [${clean.length - max} more characters cut]`;
  return clean.slice(0, Math.max(0, max - note.length)) + note;
}

/**
 * `data` redacted, turned into plain JSON, and replaced by
 * `{ truncated: true, original_bytes }` when larger than `maxBytes`.
 */
export function fitData(
  data: Record<string, unknown>,
  maxBytes: number = MAX_RESULT_DATA_BYTES,
): Record<string, unknown> {
  let json: string;
  try {
    json = JSON.stringify(redactDeep(data)) ?? "{}";
  } catch (error) {
    return { unserializable: true, reason: redactSecrets(String(error)) };
  }
  const bytes = new TextEncoder().encode(json).length;
  if (bytes > maxBytes) return { truncated: true, original_bytes: bytes };
  const plain: unknown = JSON.parse(json);
  return plain !== null && typeof plain === "object" && !Array.isArray(plain)
    ? plain as Record<string, unknown>
    : { value: plain };
}

/** `result` with its text cut, its data fitted and every secret redacted. */
export function fitResult(result: CommandResult): CommandResult {
  const fitted: CommandResult = { ...result };
  if (result.output !== undefined) fitted.output = fitText(result.output);
  if (result.error !== undefined) fitted.error = fitText(result.error);
  if (result.data !== undefined) fitted.data = fitData(result.data);
  return fitted;
}
