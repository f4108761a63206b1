/**
 * What every loop does when the control plane refuses this agent (protocol 8): the API key
 * is bad or revoked (401/403), or another machine holds it (409 `key_in_use`, v1.1). Both
 * are shown in `status`, logged once per streak, and retried slowly; the agent never fights.
 */
import type { KeyHolder } from "../client/api_outcome.ts";
import type { AgentContext } from "./agent_context.ts";

/** Options of {@linkcode markAuthRefused}. */
export interface AuthRefusedOptions {
  /** The call that was refused, shown in `last_error`. */
  step: "register" | "heartbeat" | "websocket";
  /** Why, as the client classified the answer. */
  reason: string;
  /** When the loop tries again, from now. */
  retryInMs: number;
}

/**
 * Puts the state in `auth_failed` with the reason and the next retry time, so `status`
 * shows why the agent is quiet. The error line is logged once per streak of refusals (when
 * the state enters `auth_failed`), whichever loop saw the refusal, never once per try.
 */
export function markAuthRefused(context: AgentContext, options: AuthRefusedOptions): void {
  const { state, logger } = context;
  if (state.connection !== "auth_failed") {
    logger.error("the control plane refused the API key; check api_key (revoked or wrong key?)", {
      reason: options.reason,
      retry_in_s: Math.round(options.retryInMs / 1000),
    });
  }
  state.setConnection(
    "auth_failed",
    `${options.step}: ${options.reason}`,
    context.now() + options.retryInMs,
  );
  context.statusChanged();
}

/**
 * Puts the state in `key_in_use` (v1.1: another machine holds this key): one clear error
 * line per streak naming the other host, `status` shows the state and the next try, and the
 * caller waits on the slow schedule. The agent never takes the state from the other host;
 * once that one is offline, the next try registers.
 */
export function markKeyInUse(
  context: AgentContext,
  options: AuthRefusedOptions & { holder?: KeyHolder },
): void {
  const { state, logger } = context;
  const host = options.holder?.hostname;
  const who = host === undefined ? "another machine" : `host "${host}"`;
  const since = options.holder?.lastHeartbeatAt;
  const seen = since === undefined
    ? ""
    : ` (last heartbeat ${Math.max(0, Math.round((context.now() - since) / 1000))} s ago)`;
  if (state.connection !== "key_in_use") {
    logger.error(
      `this API key is in use by ${who}${seen}; not taking it over. Stop the agent there, or create a separate key for this machine`,
      {
        other_host: host ?? null,
        retry_in_s: Math.round(options.retryInMs / 1000),
      },
    );
  }
  state.setConnection(
    "key_in_use",
    `${options.step}: key in use by ${who}${seen}`,
    context.now() + options.retryInMs,
  );
  context.statusChanged();
}
