/** Runs the WebSocket command channel for the current registration. */
import { CommandChannel } from "../client/command_channel.ts";
import { Backoff } from "../shared/backoff.ts";
import type { AgentContext } from "./agent_context.ts";
import { markKeyInUse } from "./auth_refused.ts";

/**
 * Keeps one {@linkcode CommandChannel} per registration: when the worker id changes
 * (registered again after a 404) the old channel is closed and a new one opened. Commands go
 * to the intake; accepted, replayed and refused ones are acked, deferred ones (draining) are
 * not, so the server keeps them. Without a `websocket_url` the state is `unsupported` and
 * commands arrive by heartbeat polling only.
 */
export async function runCommandChannel(
  context: AgentContext,
  options: { client?: Deno.HttpClient },
  signal: AbortSignal,
): Promise<void> {
  const { state, logger } = context;
  while (!signal.aborted) {
    const workerId = state.workerId;
    const url = state.websocketUrl;
    if (workerId === undefined || state.refused) {
      await state.changed.wait(60_000, signal);
      continue;
    }
    if (url === undefined) {
      state.setWebSocket("unsupported");
      context.statusChanged();
      await state.changed.wait(60_000, signal);
      continue;
    }
    let opened = false;
    const channelStop = new AbortController();
    const stop = AbortSignal.any([signal, channelStop.signal]);
    const channel = new CommandChannel({
      url,
      apiKey: context.config().api_key,
      workerId,
      instanceId: context.instanceId,
      logger,
      now: context.now,
      reachability: state.reachability,
      backoff: new Backoff({
        random: context.random,
        now: context.now,
        reachability: state.reachability,
      }),
      ...(options.client ? { client: options.client } : {}),
      onCommand: async (raw) => {
        const decision = await context.intake.receive(raw, "websocket");
        return decision === "accepted" || decision === "replayed" || decision === "refused";
      },
      onState: (websocket) => {
        if (websocket === "open") {
          if (opened) state.socketReopened.notify();
          opened = true;
        }
        state.setWebSocket(websocket);
        context.statusChanged();
      },
      onAuthFailure: (reason) => logger.warn("WebSocket refused the key", { reason }),
      onKeyInUse: (reason, retryInMs) => {
        // Another machine took the key over (v1.1). Registering again decides: 409 while the
        // other one is online (slow retry), the worker back once it is gone.
        markKeyInUse(context, { step: "websocket", reason, retryInMs });
        if (state.workerId === workerId) state.workerId = undefined;
        state.changed.notify();
      },
    });
    const watch = (async () => {
      while (!stop.aborted) {
        await state.changed.wait(60_000, stop);
        if (state.workerId !== workerId || state.websocketUrl !== url) {
          channelStop.abort();
        }
      }
    })();
    await channel.run(stop);
    channelStop.abort();
    await watch;
  }
}
