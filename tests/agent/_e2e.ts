/** Shared steps of the agent's end-to-end tests: real control plane, real agent process. */
import {
  type AgentProcess,
  startAgent,
  type StartAgentOptions,
} from "../_helpers/agent_process.ts";
import {
  type ControlPlaneProcess,
  startControlPlane,
  type StartControlPlaneOptions,
} from "../_helpers/control_plane_process.ts";
import type { TcpProxy } from "../_helpers/tcp_proxy.ts";
import { waitFor } from "../_helpers/wait_for.ts";

/** Control plane flags for test-speed intervals: heartbeat 5 s (the protocol minimum), metrics 1 s. */
export const FAST_CP_ARGS = [
  "--heartbeat-interval",
  "5",
  "--metrics-interval",
  "1",
  "--log-level",
  "debug",
];

/** A command as the admin API lists it. */
export interface CommandRow {
  command_id: string;
  command_type: string;
  status: string;
  delivery_count: number;
  result: Record<string, unknown> | null;
}

/** A sample as the admin API lists it. */
export interface SampleRow {
  stream: string;
  seq: number;
  ts: number;
}

/** Admin-side helpers around one control plane. */
export class Admin {
  constructor(readonly cp: ControlPlaneProcess) {}

  async json<T>(path: string, init?: RequestInit): Promise<T> {
    const res = await this.cp.admin(path, init);
    const text = await res.text();
    if (!res.ok) throw new Error(`${init?.method ?? "GET"} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }

  /** Queues a command and returns its id. */
  async command(
    workerId: string,
    commandType: string,
    params: Record<string, unknown> = {},
    timeoutSeconds = 30,
  ): Promise<string> {
    const body = await this.json<{ command_id: string }>("/api/workers/commands", {
      method: "POST",
      body: JSON.stringify({
        worker_id: workerId,
        command_type: commandType,
        params,
        timeout_seconds: timeoutSeconds,
      }),
    });
    return body.command_id;
  }

  async commands(workerId: string): Promise<CommandRow[]> {
    return (await this.json<{ commands: CommandRow[] }>(
      `/api/workers/commands?worker_id=${workerId}&limit=500`,
    )).commands;
  }

  /** Waits until `commandId` is terminal and returns it. */
  async finished(workerId: string, commandId: string, timeoutMs = 20_000): Promise<CommandRow> {
    return await waitFor(async () => {
      const row = (await this.commands(workerId)).find((c) => c.command_id === commandId);
      return row && ["completed", "failed", "timeout"].includes(row.status) ? row : undefined;
    }, { timeoutMs, intervalMs: 100, message: `command ${commandId} to finish` });
  }

  async samples(workerId: string): Promise<SampleRow[]> {
    return (await this.json<{ samples: SampleRow[] }>(
      `/api/workers/${workerId}/metrics?limit=1000`,
    )).samples;
  }

  async worker(workerId: string): Promise<{ status: string; is_online: boolean }> {
    return (await this.json<{ worker: { status: string; is_online: boolean } }>(
      `/api/workers/${workerId}`,
    )).worker;
  }
}

/** Waits until the agent is registered and connected and returns its worker id. */
export async function connectedWorkerId(
  agent: AgentProcess,
  options: { websocket?: "open" | "any"; timeoutMs?: number } = {},
): Promise<string> {
  const status = await waitFor(async () => {
    const s = await agent.status();
    if (!s || s.state !== "connected" || s.worker_id === null) return undefined;
    if (options.websocket === "open" && s.websocket !== "open") return undefined;
    return s;
  }, {
    timeoutMs: options.timeoutMs ?? 30_000,
    intervalMs: 50,
    message: `agent to connect; output:\n${agent.output().slice(-3000)}`,
  });
  return status.worker_id!;
}

/**
 * Starts a control plane and an agent for it; dispose stops both. With `via`, the agent
 * reaches the control plane (HTTP and WebSocket alike) through that loopback proxy.
 */
export async function startSystem(
  options: {
    cp?: StartControlPlaneOptions;
    agent?: Omit<StartAgentOptions, "baseUrl" | "apiKey">;
    via?: TcpProxy;
  } = {},
) {
  const { via } = options;
  const proxyUrl = via && `http://127.0.0.1:${via.port}`;
  const cp = await startControlPlane({
    ...options.cp,
    args: [
      ...FAST_CP_ARGS,
      ...(proxyUrl ? ["--public-url", proxyUrl] : []),
      ...(options.cp?.args ?? []),
    ],
  });
  if (via) via.targetPort = cp.port;
  try {
    const apiKey = await cp.createKey("e2e");
    const agent = await startAgent({ baseUrl: proxyUrl ?? cp.baseUrl, apiKey, ...options.agent });
    return {
      cp,
      agent,
      apiKey,
      admin: new Admin(cp),
      async [Symbol.asyncDispose]() {
        await agent[Symbol.asyncDispose]();
        await cp.stop();
      },
    };
  } catch (error) {
    await cp.stop();
    throw error;
  }
}

/** Whether `seqs` (sorted or not) are exactly first..last without a gap or duplicate. */
export function gapFree(seqs: number[]): boolean {
  const sorted = [...seqs].sort((a, b) => a - b);
  return sorted.every((seq, i) => i === 0 || seq === sorted[i - 1]! + 1);
}
