/** What every loop does when the control plane refuses the API key (protocol 8). */
import type { AgentContext } from "./agent_context.ts";

/** Options of {@linkcode markAuthRefused}. */
export interface AuthRefusedOptions {
  /** The call that was refused, shown in `last_error`. */
  step: "register" | "heartbeat";
  /** Why, as the client classified the answer. */
  reason: string;
  /** When the loop tries again, from now. */
  retryInMs: number;
}

/**
 * Puts the session in `auth_failed` with the reason and the next retry time, so `status`
 * shows why the agent is quiet. The error line is logged once per streak of refusals (when
 * the state enters `auth_failed`), whichever loop saw the refusal, never once per try.
 */
export function markAuthRefused(context: AgentContext, options: AuthRefusedOptions): void {
  const { session, logger } = context;
  if (session.connection !== "auth_failed") {
    logger.error("the control plane refused the API key; check api_key (revoked or wrong key?)", {
      reason: options.reason,
      retry_in_s: Math.round(options.retryInMs / 1000),
    });
  }
  session.setConnection(
    "auth_failed",
    `${options.step}: ${options.reason}`,
    context.now() + options.retryInMs,
  );
  context.statusChanged();
}
