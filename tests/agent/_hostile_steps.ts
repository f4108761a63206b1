/** Steps shared by the hostile-server end-to-end tests. */
import type { AgentProcess } from "../_helpers/agent_process.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { signedCommand } from "./_fixtures.ts";
import type { HostileServer } from "./_hostile_server.ts";

/** The key every hostile-server agent uses. */
export const HOSTILE_KEY = "wak_" + "X".repeat(32);
/** Another key: commands signed with it are forgeries to the agent. */
export const FORGER_KEY = "wak_" + "Y".repeat(32);

/** A ping for `server`'s worker, signed with `key`, with `overrides` applied before signing. */
export function pingFor(
  server: HostileServer,
  options: { key?: string; overrides?: Record<string, unknown> } = {},
) {
  return signedCommand(options.key ?? HOSTILE_KEY, {
    overrides: { worker_id: server.workerId, ...options.overrides },
  });
}

/**
 * Sends a valid ping (by heartbeat, or over the open WebSocket) and waits for its
 * `completed` result at the server.
 */
export async function pingCompletes(
  server: HostileServer,
  agent: AgentProcess,
  via: "heartbeat" | "websocket",
  timeoutMs = 20_000,
): Promise<void> {
  const ping = await pingFor(server);
  if (via === "websocket") {
    await waitFor(() => server.openSockets > 0, {
      timeoutMs,
      message: `an open WebSocket:\n${agent.output().slice(-3000)}`,
    });
    server.sendFrame(JSON.stringify({ type: "command", command: ping }));
  } else server.queue(ping);
  await waitFor(
    () => server.results.some((r) => r.command_id === ping.id && r.status === "completed"),
    { timeoutMs, message: `the ping's result by ${via}:\n${agent.output().slice(-3000)}` },
  );
}

/** Tracks whether the agent process has exited; `code` stays undefined while it runs. */
export function exitWatch(agent: AgentProcess): { code: number | undefined } {
  const watch: { code: number | undefined } = { code: undefined };
  agent.exited.then((code) => watch.code = code);
  return watch;
}

/** Bytes the files under `dir` take on disk (allocated blocks, as `du` counts them). */
export async function diskUsage(dir: string): Promise<number> {
  let total = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    const info = await Deno.lstat(path);
    total += info.blocks !== null ? info.blocks * 512 : info.size;
    if (entry.isDirectory) total += await diskUsage(path);
  }
  return total;
}

/** Runs `steps` at the same time and fails with every failure, named. */
export async function allScenarios(
  steps: Record<string, () => Promise<void>>,
): Promise<void> {
  const names = Object.keys(steps);
  const outcomes = await Promise.allSettled(names.map((name) => steps[name]!()));
  const failed = outcomes.flatMap((o, i) =>
    o.status === "rejected" ? [`${names[i]}: ${(o.reason as Error)?.stack ?? o.reason}`] : []
  );
  if (failed.length > 0) {
    throw new Error(`${failed.length} scenario(s) failed:\n\n${failed.join("\n\n")}`);
  }
}
