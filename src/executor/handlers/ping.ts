/** `ping` (protocol 4): answers at once with the agent's time. */
import type { CommandHandler } from "../command_handler.ts";
import type { HandlerDeps } from "./handler_deps.ts";

/** The `ping` handler: `data` is `{ received_at, agent_time }`. */
export function pingHandler(deps: Pick<HandlerDeps, "now">): CommandHandler<"ping"> {
  const now = deps.now ?? Date.now;
  return () => {
    const receivedAt = now();
    return Promise.resolve({
      status: "completed",
      output: "pong",
      data: { received_at: receivedAt, agent_time: now() },
    });
  };
}
