/**
 * The result body as the control plane reads it (protocol 3.4 and 4, v1.1): the agent's
 * schema, plus the status `error` that FineTuneLab's own agent sends for a command type it
 * does not know. That status is stored as `failed`.
 */
import { type CommandResult, CommandResultSchema, RESULT_STATUSES, z } from "./_deps.ts";
import { z as zod } from "zod";

/** `error_code` stored for a result that arrived with status `error` and no code. */
export const AGENT_ERROR_CODE = "agent_error";

/** A result body as received: {@linkcode CommandResultSchema}, status `error` allowed. */
export const ReceivedResultSchema = CommandResultSchema.extend({
  status: zod.enum([...RESULT_STATUSES, "error"]),
});
/** A result body as received. */
export type ReceivedResult = z.infer<typeof ReceivedResultSchema>;

/**
 * The result to store: status `error` becomes `failed`, with `error_code: "agent_error"`
 * unless the agent gave one. Any other result is stored as it came.
 */
export function resultToStore(received: ReceivedResult): CommandResult {
  if (received.status !== "error") return { ...received, status: received.status };
  return {
    ...received,
    status: "failed",
    error_code: received.error_code ?? AGENT_ERROR_CODE,
  };
}
