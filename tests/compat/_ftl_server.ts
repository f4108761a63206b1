/**
 * A test double of FineTuneLab's current worker server, for running our agent against it.
 * It keeps only the three FineTuneLab endpoints (protocol 3.1, 3.2, 3.4) with their field
 * names, and none of our extensions: no `websocket_url`, no metrics endpoint (404), no
 * `server_time`, no `signature_alg`. Its commands carry `id`, `command_type`, `params`,
 * `timeout_seconds`, a `created_at` timestamp string and a 64-hex `signature` computed its
 * own way, but no `worker_id`, `issued_at` or `expires_at`: our agent cannot verify them.
 */

/** A command as the double serves it. */
export interface FtlCommand {
  id: string;
  command_type: string;
  params: Record<string, unknown>;
  timeout_seconds: number;
  created_at: string;
  signature: string;
}

/** Options of {@linkcode startFtlServer}. */
export interface FtlServerOptions {
  /** The worker key its signatures are made with. */
  apiKey: string;
  /** Handed out at registration. @default {5} */
  heartbeatIntervalSeconds?: number;
  /**
   * How many heartbeat answers carry each queued command: 1 is FineTuneLab's at-most-once;
   * more resends it in that many consecutive answers. @default {1}
   */
  deliveries?: number;
}

/** A running double. */
export interface FtlServer extends AsyncDisposable {
  readonly baseUrl: string;
  /** The worker id it hands out (a UUID, as FineTuneLab's server uses). */
  readonly workerId: string;
  /** Queues a command for the next heartbeat answers; returns it as it will be served. */
  queue(commandType: string, params?: Record<string, unknown>): Promise<FtlCommand>;
  /** Registration bodies received. */
  readonly registrations: Record<string, unknown>[];
  /** Unix ms of each heartbeat received. */
  readonly heartbeats: number[];
  /** Result bodies received, with the command id of the URL. */
  readonly results: { commandId: string; body: Record<string, unknown> }[];
  /** Requests to paths it does not have (metrics, WebSocket), as `METHOD path`. */
  readonly unknown: string[];
  close(): Promise<void>;
}

/** Starts the double on a free 127.0.0.1 port. */
export function startFtlServer(options: FtlServerOptions): FtlServer {
  const interval = options.heartbeatIntervalSeconds ?? 5;
  const deliveries = options.deliveries ?? 1;
  const workerId = crypto.randomUUID();
  const queued: { command: FtlCommand; left: number }[] = [];
  const registrations: Record<string, unknown>[] = [];
  const heartbeats: number[] = [];
  const results: { commandId: string; body: Record<string, unknown> }[] = [];
  const unknown: string[] = [];

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    const body = req.method === "POST"
      ? await req.json().catch(() => ({})) as Record<string, unknown>
      : (await req.body?.cancel(), {});
    const key = req.headers.get("x-api-key") ?? (path.endsWith("/register") ? body.api_key : "");
    if (key !== options.apiKey) {
      return Response.json({ error: "Invalid API key" }, { status: 401 });
    }
    if (req.method === "POST" && path === "/api/workers/register") {
      registrations.push(body);
      return Response.json({
        worker_id: workerId,
        heartbeat_interval_seconds: interval,
        message: "Worker registered successfully",
      });
    }
    if (req.method === "POST" && path === `/api/workers/${workerId}/heartbeat`) {
      heartbeats.push(Date.now());
      const due = queued.filter((q) => q.left > 0).slice(0, 10);
      for (const q of due) q.left--;
      return Response.json({
        ok: true,
        pending_commands: due.map((q) => q.command),
        message: "Heartbeat received",
      });
    }
    const result = /^\/api\/workers\/commands\/([^/]+)\/result$/.exec(path);
    if (req.method === "POST" && result) {
      results.push({ commandId: decodeURIComponent(result[1]!), body });
      return Response.json({ ok: true });
    }
    unknown.push(`${req.method} ${path}`);
    return Response.json({ error: "Not found" }, { status: 404 });
  });

  async function queue(
    commandType: string,
    params: Record<string, unknown> = {},
  ): Promise<FtlCommand> {
    const id = crypto.randomUUID();
    // Its own scheme (HMAC-SHA256 of id and type under the raw key), not protocol section 6.
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(options.apiKey),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(id + commandType));
    const command: FtlCommand = {
      id,
      command_type: commandType,
      params,
      timeout_seconds: 300,
      created_at: new Date().toISOString(),
      signature: [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join(""),
    };
    queued.push({ command, left: deliveries });
    return command;
  }

  return {
    baseUrl: `http://127.0.0.1:${server.addr.port}`,
    workerId,
    queue,
    registrations,
    heartbeats,
    results,
    unknown,
    close: () => server.shutdown(),
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}
