/**
 * A tiny protocol server written for the refusal tests. The real control plane only ever
 * signs correctly; this one hands out whatever commands a test queues (forged, tampered,
 * expired, for another worker, replays) in heartbeat answers, answers the WebSocket upgrade
 * with 404 (so everything goes by polling), and records the results it receives.
 */
import type { CommandResult } from "../../src/protocol/mod.ts";

/** A running hostile server. */
export interface HostileServer {
  readonly baseUrl: string;
  readonly workerId: string;
  /** Commands handed out in the next heartbeat answer. */
  queue(...commands: Record<string, unknown>[]): void;
  /** Results received, in order. */
  readonly results: CommandResult[];
  /** While true, result posts are answered 503 with `Retry-After: 1` (and not recorded). */
  failResults: boolean;
  /** Result posts answered 503 so far. */
  readonly refusedResults: number;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts the server on a free 127.0.0.1 port. */
export function startHostileServer(workerId = "wkr_hostile00000000000000000"): HostileServer {
  const pending: Record<string, unknown>[] = [];
  const results: CommandResult[] = [];
  const control = { failResults: false, refusedResults: 0 };
  let port = 0;
  const server: Deno.HttpServer<Deno.NetAddr> = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
  }, async (req: Request): Promise<Response> => {
    const path = new URL(req.url).pathname;
    const server_time = Date.now();
    if (req.method === "POST" && path === "/api/workers/register") {
      await req.body?.cancel();
      return Response.json({
        worker_id: workerId,
        websocket_url: `ws://127.0.0.1:${port}/api/v1/workers/ws`,
        heartbeat_interval_seconds: 5,
        metrics_interval_seconds: 60,
        signature_alg: "hmac-sha256",
        server_time,
      });
    }
    if (req.method === "POST" && path.endsWith("/heartbeat")) {
      await req.body?.cancel();
      return Response.json({
        ok: true,
        pending_commands: pending.splice(0, 10),
        heartbeat_interval_seconds: 5,
        server_time,
      });
    }
    if (req.method === "POST" && path.endsWith("/metrics")) {
      const body = await req.json() as { samples: unknown[] };
      return Response.json({ ok: true, accepted: body.samples.length, duplicates: 0, server_time });
    }
    if (req.method === "POST" && path.endsWith("/result")) {
      if (control.failResults) {
        control.refusedResults++;
        await req.body?.cancel();
        return Response.json({ error: "busy", code: "internal" }, {
          status: 503,
          headers: { "Retry-After": "1" },
        });
      }
      results.push(await req.json() as CommandResult);
      return Response.json({ ok: true, server_time });
    }
    await req.body?.cancel();
    return Response.json({ error: "no such endpoint", code: "not_found" }, { status: 404 });
  });
  port = server.addr.port;
  return {
    baseUrl: `http://127.0.0.1:${server.addr.port}`,
    workerId,
    queue: (...commands) => pending.push(...commands),
    results,
    get failResults() {
      return control.failResults;
    },
    set failResults(value: boolean) {
      control.failResults = value;
    },
    get refusedResults() {
      return control.refusedResults;
    },
    close: () => server.shutdown(),
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}
