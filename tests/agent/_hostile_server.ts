/**
 * A tiny protocol server written for the agent's hostile-server tests. The real control plane
 * only ever answers correctly; this one does what a test tells it:
 * - hands out whatever commands a test queues (forged, tampered, expired, for another worker,
 *   replays, commands without a canonical form) in heartbeat answers;
 * - answers the next heartbeats with whatever a test wants (not JSON, 5 MiB, 100 000 levels
 *   deep, slower than the agent's timeout), or everything with 503 while `down`;
 * - with `websocket: true`, accepts the agent's WebSocket (else the upgrade answers 404, so
 *   everything goes by polling), answers its pings, records its acks, and sends whatever
 *   frames a test gives it;
 * - with `oneMachinePerKey: true`, follows protocol 3.1 v1.1: a register with another
 *   `instance_id` while the holder is online answers 409 `key_in_use` naming the holder;
 * - records register and heartbeat bodies and the results it receives (or refuses them with
 *   503 while `failResults`).
 */
import type { CommandResult } from "../../src/protocol/mod.ts";

/** Options of {@linkcode startHostileServer}. */
export interface HostileServerOptions {
  /** The worker id every registration gets. @default {"wkr_hostile00000000000000000"} */
  workerId?: string;
  /** Accept WebSocket upgrades (else 404). @default {false} */
  websocket?: boolean;
  /** Refuse a second instance while the first is online (protocol 3.1, v1.1). @default {false} */
  oneMachinePerKey?: boolean;
}

/** What the server recorded of one register call. */
export interface RegisterCall {
  hostname: string;
  instance_id?: string;
  /** 200 or 409. */
  status: number;
}

/** A running hostile server. */
export interface HostileServer {
  readonly baseUrl: string;
  readonly workerId: string;
  /** Commands handed out in the next heartbeat answer (at most 10 per answer). */
  queue(...commands: Record<string, unknown>[]): void;
  /** The next heartbeats get these answers, one each, instead of the normal one. */
  answerNextHeartbeat(...answers: Array<() => Response | Promise<Response>>): void;
  /** Sends a raw text frame on every open WebSocket; returns how many got it. */
  sendFrame(text: string): number;
  /** Open WebSockets now. */
  readonly openSockets: number;
  /** WebSocket upgrades accepted so far. */
  readonly upgrades: number;
  /** Command ids the agent acked over the WebSocket. */
  readonly acks: string[];
  /** Results received, in order. */
  readonly results: CommandResult[];
  /** Register calls, in order. */
  readonly registers: RegisterCall[];
  /** Heartbeat bodies, in order. */
  readonly heartbeats: Record<string, unknown>[];
  /** While true, result posts are answered 503 with `Retry-After: 1` (and not recorded). */
  failResults: boolean;
  /** Result posts answered 503 so far. */
  readonly refusedResults: number;
  /** While true, every call is answered 503 with `Retry-After: 1` (an outage). */
  down: boolean;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const HEARTBEAT_SECONDS = 5;

/** Starts the server on a free 127.0.0.1 port. */
export function startHostileServer(
  workerIdOrOptions: string | HostileServerOptions = {},
): HostileServer {
  const options: HostileServerOptions = typeof workerIdOrOptions === "string"
    ? { workerId: workerIdOrOptions }
    : workerIdOrOptions;
  const workerId = options.workerId ?? "wkr_hostile00000000000000000";
  const pending: Record<string, unknown>[] = [];
  const heartbeatAnswers: Array<() => Response | Promise<Response>> = [];
  const results: CommandResult[] = [];
  const registers: RegisterCall[] = [];
  const heartbeats: Record<string, unknown>[] = [];
  const acks: string[] = [];
  const sockets = new Set<WebSocket>();
  const control = { failResults: false, refusedResults: 0, down: false, upgrades: 0 };
  // One machine per key: the instance holding the worker, and when it was last heard of.
  const holder = {
    instance: undefined as string | undefined,
    hostname: "",
    lastHeartbeat: 0,
    offline: false,
  };
  let port = 0;
  const unavailable = () =>
    Response.json({ error: "busy", code: "internal" }, {
      status: 503,
      headers: { "Retry-After": "1" },
    });
  const server: Deno.HttpServer<Deno.NetAddr> = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
  }, async (req: Request): Promise<Response> => {
    const path = new URL(req.url).pathname;
    const server_time = Date.now();
    if (control.down) {
      await req.body?.cancel();
      return unavailable();
    }
    if (path === "/api/v1/workers/ws") {
      if (!options.websocket) {
        await req.body?.cancel();
        return Response.json({ error: "no such endpoint", code: "not_found" }, { status: 404 });
      }
      const { socket, response } = Deno.upgradeWebSocket(req);
      control.upgrades++;
      socket.onopen = () => {
        sockets.add(socket);
        socket.send(JSON.stringify({
          type: "welcome",
          worker_id: workerId,
          heartbeat_interval_seconds: HEARTBEAT_SECONDS,
          server_time: Date.now(),
        }));
      };
      socket.onmessage = (event) => {
        try {
          const frame = JSON.parse(String(event.data));
          if (frame.type === "ping") socket.send(JSON.stringify({ type: "pong", ts: frame.ts }));
          if (frame.type === "ack") acks.push(String(frame.command_id));
        } catch { /* the agent only sends JSON */ }
      };
      socket.onclose = () => sockets.delete(socket);
      socket.onerror = () => sockets.delete(socket);
      return response;
    }
    if (req.method === "POST" && path === "/api/workers/register") {
      const body = await req.json() as { hostname: string; instance_id?: string };
      const now = Date.now();
      const holderOnline = holder.instance !== undefined && !holder.offline &&
        now - holder.lastHeartbeat <= 3 * HEARTBEAT_SECONDS * 1000;
      if (
        options.oneMachinePerKey && body.instance_id !== undefined && holderOnline &&
        body.instance_id !== holder.instance
      ) {
        registers.push({ ...pick(body), status: 409 });
        return Response.json({
          error: "this key is in use by another machine",
          code: "key_in_use",
          hostname: holder.hostname,
          last_heartbeat: holder.lastHeartbeat,
          server_time,
        }, { status: 409 });
      }
      registers.push({ ...pick(body), status: 200 });
      if (body.instance_id !== undefined) {
        holder.instance = body.instance_id;
        holder.hostname = body.hostname;
        holder.lastHeartbeat = now;
        holder.offline = false;
      }
      return Response.json({
        worker_id: workerId,
        websocket_url: `ws://127.0.0.1:${port}/api/v1/workers/ws`,
        heartbeat_interval_seconds: HEARTBEAT_SECONDS,
        metrics_interval_seconds: 60,
        signature_alg: "hmac-sha256",
        server_time,
      });
    }
    if (req.method === "POST" && path.endsWith("/heartbeat")) {
      const body = await req.json() as Record<string, unknown>;
      heartbeats.push(body);
      holder.lastHeartbeat = Date.now();
      holder.offline = body.status === "offline";
      const answer = heartbeatAnswers.shift();
      if (answer) return await answer();
      return Response.json({
        ok: true,
        pending_commands: pending.splice(0, 10),
        heartbeat_interval_seconds: HEARTBEAT_SECONDS,
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
        return unavailable();
      }
      results.push(await req.json() as CommandResult);
      return Response.json({ ok: true, server_time });
    }
    await req.body?.cancel();
    return Response.json({ error: "no such endpoint", code: "not_found" }, { status: 404 });
  });
  port = server.addr.port;
  const close = async () => {
    for (const socket of sockets) {
      try {
        socket.close(1000, "test over");
      } catch { /* closing */ }
    }
    await server.shutdown();
  };
  return {
    baseUrl: `http://127.0.0.1:${server.addr.port}`,
    workerId,
    queue: (...commands) => pending.push(...commands),
    answerNextHeartbeat: (...answers) => heartbeatAnswers.push(...answers),
    sendFrame(text) {
      let sent = 0;
      for (const socket of sockets) {
        if (socket.readyState !== WebSocket.OPEN) continue;
        socket.send(text);
        sent++;
      }
      return sent;
    },
    get openSockets() {
      return [...sockets].filter((s) => s.readyState === WebSocket.OPEN).length;
    },
    get upgrades() {
      return control.upgrades;
    },
    acks,
    results,
    registers,
    heartbeats,
    get failResults() {
      return control.failResults;
    },
    set failResults(value: boolean) {
      control.failResults = value;
    },
    get refusedResults() {
      return control.refusedResults;
    },
    get down() {
      return control.down;
    },
    set down(value: boolean) {
      control.down = value;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function pick(body: { hostname: string; instance_id?: string }) {
  return body.instance_id === undefined
    ? { hostname: body.hostname }
    : { hostname: body.hostname, instance_id: body.instance_id };
}
