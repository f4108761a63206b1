/**
 * The result to store for a result body as received (protocol 4, v1.1): FineTuneLab's own agent
 * answers a command type it does not know with the status `error`, which is stored as `failed`.
 */
import type { IncomingResult, ResultStatus } from "./_deps.ts";

/** `error_code` stored for a result that arrived with status `error` and no code. */
export const AGENT_ERROR_CODE = "agent_error";

/** A result as it is stored: status `error` already mapped. */
export type StoredResult = IncomingResult & { status: ResultStatus };

/**
 * The result to store: status `error` becomes `failed`, with `error_code: "agent_error"`
 * unless the agent gave one. Any other result is stored as it came.
 */
export function resultToStore(received: IncomingResult): StoredResult {
  if (received.status !== "error") return { ...received, status: received.status };
  return {
    ...received,
    status: "failed",
    error_code: received.error_code ?? AGENT_ERROR_CODE,
  };
}
