/**
 * A light protocol client: thousands of simulated agents in one process, for the fleet bench
 * and for multi-instance tests. Each agent has its own key (created through the admin API),
 * registers (honouring 503/429 and `Retry-After`, with jitter), sends heartbeats, posts metric
 * samples, and holds one WebSocket (welcome, answers pings, receives pushed commands, acks
 * them and posts their results over HTTP, reconnects with jittered backoff).
 *
 * Unlike the real agent it verifies no signature, keeps nothing on disk and runs no
 * workload: it costs the load generator little, so the control plane is what is measured.
 * Every request's latency, every error by status and every command's time from creation to
 * receipt go into {@linkcode FleetStats}.
 *
 * Samples and the registration body come from `simulated_fleet.ts` (the dashboard's simulated
 * workers), so the control plane stores them as it stores theirs.
 *
 * @example
 * ```ts
 * await using fleet = await startLightFleet({
 *   baseUrls: [cp.baseUrl], admin: cp.admin, count: 5,
 *   heartbeatIntervalMs: 500, metricsIntervalMs: 500,
 * });
 * await waitFor(() => fleet.agents.every((a) => a.connected));
 * ```
 *
 * @module
 */
import { Paths, snapshotOf } from "../../src/protocol/mod.ts";
import { Backoff } from "../../src/shared/backoff.ts";
import { abortableDelay } from "../../src/shared/delay.ts";
import { simulatedSample } from "./simulated_fleet.ts";

/** What a request is, in {@linkcode FleetStats}. */
export type RequestKind = "key" | "register" | "heartbeat" | "metrics" | "result" | "ws";

/** A command as an agent received it. */
export interface ReceivedCommand {
  readonly id: string;
  readonly commandType: string;
  /** How it arrived first. */
  readonly via: "ws" | "heartbeat";
  /** Unix ms of receipt. */
  readonly receivedAt: number;
  /** Receipt minus the command's `created_at` (same machine clock), ms. */
  readonly latencyMs: number | undefined;
  /** How many times it arrived (a redelivery counts). */
  copies: number;
  /** The raw command. */
  readonly command: Record<string, unknown>;
}

/** The result a light agent posts for a command (protocol 3.4); `null` posts none. */
export type LightResult = {
  status: "completed" | "failed" | "timeout";
  output?: string;
  data?: Record<string, unknown>;
} | null;

/** One simulated agent. */
export interface LightAgent {
  readonly index: number;
  readonly key: string;
  readonly keyId: string;
  readonly instanceId: string;
  /** The control plane it talks to. */
  readonly baseUrl: string;
  /** Set once registered. */
  readonly workerId: string | undefined;
  /** True while its WebSocket has been welcomed and is open. */
  readonly connected: boolean;
  /** WebSocket sessions welcomed so far. */
  readonly sessions: number;
  /** Close codes of its WebSockets so far, oldest first. */
  readonly closeCodes: readonly number[];
  /** Commands received, by id. */
  readonly commands: ReadonlyMap<string, ReceivedCommand>;
  /** Samples posted and accepted so far (the last seq sent). */
  readonly lastSeq: number;
  /** Set when the server refused the key (401/403): the agent stops all its loops. */
  readonly refused: number | undefined;
  /** Points the agent at another control plane (its socket reconnects there). */
  moveTo(baseUrl: string): void;
  /** Closes its WebSocket without stopping: it reconnects after a jittered wait. */
  dropSocket(): void;
  /** Stops its loops and closes its socket. */
  stop(): void;
}

/** Options of {@linkcode startLightFleet}. */
export interface LightFleetOptions {
  /** Control planes; agent `i` talks to `baseUrls[i % n]`. */
  baseUrls: readonly string[];
  /** An admin call to the control plane that creates keys (`ControlPlaneProcess.admin`). */
  admin: (path: string, init?: RequestInit) => Promise<Response>;
  /** Agents started now (more with {@linkcode LightFleet.add}). @default {0} */
  count?: number;
  /** Heartbeat interval. @default {30000} */
  heartbeatIntervalMs?: number;
  /** Metrics interval (one sample per post). 0 = no metrics. @default {10000} */
  metricsIntervalMs?: number;
  /** Hold a WebSocket each. @default {true} */
  websocket?: boolean;
  /**
   * Where the WebSocket goes: the registration answer's `websocket_url` (behind a balancer,
   * the balancer), or the agent's own base URL (to pin a session to one instance).
   * @default {"answer"}
   */
  socketUrlFrom?: "answer" | "baseUrl";
  /** Key names and hostnames start with this. @default {"light"} */
  prefix?: string;
  /** Keys created and agents registered in parallel. @default {16} */
  concurrency?: number;
  /**
   * HTTP clients (connection pools) the agents share round robin; 0 = the global fetch's
   * one pool. Behind a balancer, which balances connections, not requests, several pools
   * spread the requests as a real fleet's own connections would. @default {0}
   */
  httpClients?: number;
  /** Per-request timeout. @default {30000} */
  requestTimeoutMs?: number;
  /**
   * The result of a received command (called once per command id). @default a `completed`
   * result with `data.received_at`
   */
  onCommand?: (agent: LightAgent, command: ReceivedCommand) => LightResult | Promise<LightResult>;
  /** Called on every WebSocket close with its code (0 for an abnormal close). */
  onClose?: (agent: LightAgent, code: number) => void;
  /** Longest reconnect wait of the WebSocket and of failing requests. @default {30000} */
  reconnectCapMs?: number;
  /** Uniform random source. @default {Math.random} */
  random?: () => number;
}

/** A running fleet of light agents. */
export interface LightFleet {
  readonly agents: readonly LightAgent[];
  readonly stats: FleetStats;
  /** Starts `count` more agents (keys, registration, first heartbeat) and returns them. */
  add(count: number): Promise<LightAgent[]>;
  /** Stops every agent and waits for in-flight requests. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Percentiles of a latency list, ms. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** The value at quantile `q` (0..1) of `values` (nearest rank); NaN for an empty list. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** {@linkcode LatencySummary} of `values`. */
export function summarize(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted.length === 0
      ? NaN
      : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  return {
    count: sorted.length,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: sorted.at(-1) ?? NaN,
  };
}

/** Most latencies kept per kind between {@linkcode FleetStats.take} calls. */
const MAX_KEPT = 2_000_000;

/** Latencies, successes and errors of a fleet; {@linkcode FleetStats.take} starts a new window. */
export class FleetStats {
  #latency = new Map<string, number[]>();
  #ok = new Map<string, number>();
  #errors = new Map<string, number>();
  #commandLatency: number[] = [];
  #events = new Map<string, number>();

  /** Records a request of `kind` that took `ms` and ended with `status` (0 = network). */
  request(kind: RequestKind, ms: number, status: number | "timeout" | "network"): void {
    if (typeof status === "number" && status >= 200 && status < 300) {
      const list = this.#latency.get(kind) ?? [];
      if (list.length < MAX_KEPT) list.push(ms);
      this.#latency.set(kind, list);
      this.#ok.set(kind, (this.#ok.get(kind) ?? 0) + 1);
    } else {
      const name = `${kind} ${status}`;
      this.#errors.set(name, (this.#errors.get(name) ?? 0) + 1);
    }
  }

  /** Records a command's time from creation to receipt. */
  command(ms: number): void {
    if (this.#commandLatency.length < MAX_KEPT) this.#commandLatency.push(ms);
  }

  /** Counts a named event (`ws close 4008`, `command duplicate`, …). */
  event(name: string): void {
    this.#events.set(name, (this.#events.get(name) ?? 0) + 1);
  }

  /** Errors so far by `"<kind> <status>"`. */
  errors(): Record<string, number> {
    return Object.fromEntries(this.#errors);
  }

  /** Total errors so far. */
  errorCount(): number {
    let n = 0;
    for (const v of this.#errors.values()) n += v;
    return n;
  }

  /** Events so far. */
  events(): Record<string, number> {
    return Object.fromEntries(this.#events);
  }

  /** Successful requests of `kind` so far. */
  ok(kind: RequestKind): number {
    return this.#ok.get(kind) ?? 0;
  }

  /** Latency summary of the successful requests of `kind` so far. */
  latency(kind: RequestKind): LatencySummary {
    return summarize(this.#latency.get(kind) ?? []);
  }

  /** Summary of command creation-to-receipt times so far. */
  commandLatency(): LatencySummary {
    return summarize(this.#commandLatency);
  }

  /** Everything so far, then starts a new window (all counters back to zero). */
  take(): FleetWindow {
    const window: FleetWindow = {
      latency: Object.fromEntries(
        [...this.#latency].map(([kind, list]) => [kind, summarize(list)]),
      ),
      ok: Object.fromEntries(this.#ok),
      errors: this.errors(),
      errorCount: this.errorCount(),
      events: this.events(),
      command: summarize(this.#commandLatency),
    };
    this.#latency = new Map();
    this.#ok = new Map();
    this.#errors = new Map();
    this.#commandLatency = [];
    this.#events = new Map();
    return window;
  }
}

/** One window of {@linkcode FleetStats.take}. */
export interface FleetWindow {
  latency: Record<string, LatencySummary>;
  ok: Record<string, number>;
  errors: Record<string, number>;
  errorCount: number;
  events: Record<string, number>;
  command: LatencySummary;
}

/** Unix ms of a command's `created_at` (ISO string or ms), or undefined. */
function createdAtMs(command: Record<string, unknown>): number | undefined {
  const raw = command.created_at;
  if (typeof raw === "number" && Number.isFinite(raw)) return raw;
  if (typeof raw === "string") {
    const ms = Date.parse(raw);
    return Number.isFinite(ms) ? ms : undefined;
  }
  return undefined;
}

/** Seconds of a `Retry-After` header as ms, or undefined. */
function retryAfterMs(response: Response): number | undefined {
  const raw = response.headers.get("Retry-After");
  if (raw === null) return undefined;
  const s = Number(raw);
  return Number.isFinite(s) && s >= 0 ? Math.min(s, 3600) * 1000 : undefined;
}

/** Starts a fleet of light agents. */
export async function startLightFleet(options: LightFleetOptions): Promise<LightFleet> {
  if (options.baseUrls.length === 0) throw new RangeError("startLightFleet needs a base URL");
  const stats = new FleetStats();
  const rand = options.random ?? Math.random;
  const heartbeatMs = options.heartbeatIntervalMs ?? 30_000;
  const metricsMs = options.metricsIntervalMs ?? 10_000;
  const useWs = options.websocket ?? true;
  const prefix = options.prefix ?? "light";
  const concurrency = Math.max(1, options.concurrency ?? 16);
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  const capMs = options.reconnectCapMs ?? 30_000;
  const agents: LightAgent[] = [];
  const clients = Array.from(
    { length: Math.max(0, Math.floor(options.httpClients ?? 0)) },
    () => Deno.createHttpClient({}),
  );
  const inflight = new Set<Promise<unknown>>();
  let stopped = false;
  const fleetAbort = new AbortController();

  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    p.finally(() => inflight.delete(p)).catch(() => {});
    return p;
  };

  /** Waits `ms` unless the fleet or the agent stops first. */
  const sleep = abortableDelay;

  /**
   * One HTTP call, timed and recorded. 503/429 are retried after `Retry-After` plus up to as
   * much again of jitter, network errors after a jittered backoff; anything else is returned.
   */
  async function call(
    kind: RequestKind,
    url: string,
    init: RequestInit & { key?: string; client?: Deno.HttpClient | undefined },
    signal: AbortSignal,
    retries = 20,
  ): Promise<{ status: number; body: Record<string, unknown> } | undefined> {
    const backoff = new Backoff({ capMs, random: rand });
    for (let attempt = 0; !signal.aborted; attempt++) {
      const headers = new Headers(init.headers);
      if (init.key) headers.set("X-API-Key", init.key);
      if (init.body !== undefined) headers.set("Content-Type", "application/json");
      const started = performance.now();
      let response: Response;
      try {
        const { key: _key, client, ...rest } = init;
        response = await fetch(url, {
          ...rest,
          headers,
          signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
          ...(client ? { client } : {}),
        } as RequestInit);
      } catch (error) {
        if (signal.aborted) return undefined;
        const name = (error as Error).name;
        stats.request(
          kind,
          performance.now() - started,
          name === "TimeoutError" ? "timeout" : "network",
        );
        if (attempt >= retries) return undefined;
        await sleep(backoff.next(), signal);
        continue;
      }
      let body: Record<string, unknown> = {};
      try {
        const text = await response.text();
        const parsed = text ? JSON.parse(text) : {};
        if (parsed && typeof parsed === "object") body = parsed as Record<string, unknown>;
      } catch { /* not JSON: an empty body */ }
      stats.request(kind, performance.now() - started, response.status);
      if ((response.status === 503 || response.status === 429) && attempt < retries) {
        const base = retryAfterMs(response) ?? backoff.next();
        await sleep(base + rand() * Math.max(base, 250), signal);
        continue;
      }
      return { status: response.status, body };
    }
    return undefined;
  }

  async function createKey(index: number): Promise<{ key: string; id: string }> {
    for (let attempt = 0;; attempt++) {
      const started = performance.now();
      let response: Response;
      try {
        response = await options.admin("/api/admin/keys", {
          method: "POST",
          body: JSON.stringify({ name: `${prefix}-key-${index}` }),
        });
      } catch (error) {
        // A reset or refused connection under load: retried like a 503, a few times.
        stats.request("key", performance.now() - started, "network");
        if (attempt >= 5) throw error;
        await sleep(500 + rand() * 1000, fleetAbort.signal);
        continue;
      }
      const body = await response.json().catch(() => ({}));
      stats.request("key", performance.now() - started, response.status);
      if (response.status === 201 && typeof body.key === "string") {
        return { key: body.key, id: String(body.id) };
      }
      if ((response.status === 503 || response.status === 429) && attempt < 20) {
        const wait = retryAfterMs(response) ?? 1000;
        await sleep(wait + rand() * wait, fleetAbort.signal);
        continue;
      }
      throw new Error(`creating key ${index} failed: ${response.status} ${JSON.stringify(body)}`);
    }
  }

  function makeAgent(index: number, key: string, keyId: string): LightAgent & {
    start(): Promise<void>;
  } {
    const abort = new AbortController();
    const signal = AbortSignal.any([abort.signal, fleetAbort.signal]);
    const instanceId = `${prefix}-instance-${index}-${crypto.randomUUID().slice(0, 8)}`;
    const stream = `${prefix}-stream-${index}-${crypto.randomUUID().slice(0, 8)}`;
    let baseUrl = options.baseUrls[index % options.baseUrls.length]!;
    let workerId: string | undefined;
    let wsUrl: string | undefined;
    let socket: WebSocket | undefined;
    let connected = false;
    let sessions = 0;
    let seq = 0;
    let refused: number | undefined;
    const closeCodes: number[] = [];
    const commands = new Map<string, ReceivedCommand>();
    const pendingSamples: ReturnType<typeof simulatedSample>[] = [];
    const wsBackoff = new Backoff({ capMs, random: rand });
    const client = clients.length > 0 ? clients[index % clients.length] : undefined;

    const refuse = (status: number) => {
      refused = status;
      stats.event(`refused ${status}`);
      agent.stop();
    };

    async function register(): Promise<boolean> {
      const answer = await call(
        "register",
        `${baseUrl}${Paths.register}`,
        {
          method: "POST",
          key,
          body: JSON.stringify({
            instance_id: instanceId,
            hostname: `${prefix}-host-${String(index).padStart(5, "0")}`,
            platform: "linux",
            version: "0.1.0",
            capabilities: ["metrics"],
            max_concurrency: 1,
            metadata: { arch: "x86_64", os_release: "Debian GNU/Linux 12", cpu_count: 4 },
          }),
        },
        signal,
        Infinity,
      );
      if (!answer) return false;
      if (answer.status === 401 || answer.status === 403) {
        refuse(answer.status);
        return false;
      }
      if (answer.status !== 200 || typeof answer.body.worker_id !== "string") return false;
      workerId = answer.body.worker_id;
      wsUrl = typeof answer.body.websocket_url === "string" && options.socketUrlFrom !== "baseUrl"
        ? answer.body.websocket_url
        : `${baseUrl.replace(/^http/, "ws")}${Paths.websocket}`;
      return true;
    }

    /** Handles a command once per id; later copies are counted. */
    function receive(raw: unknown, via: "ws" | "heartbeat"): void {
      if (!raw || typeof raw !== "object") return;
      const command = raw as Record<string, unknown>;
      const id = command.id;
      if (typeof id !== "string" || id.length === 0 || id.length > 128) return;
      const seen = commands.get(id);
      if (seen) {
        seen.copies++;
        stats.event(`command copy ${via}`);
        if (via === "ws") sendFrame({ type: "ack", command_id: id });
        return;
      }
      const receivedAt = Date.now();
      const created = createdAtMs(command);
      const latencyMs = created === undefined ? undefined : receivedAt - created;
      const received: ReceivedCommand = {
        id,
        commandType: String(command.command_type),
        via,
        receivedAt,
        latencyMs,
        copies: 1,
        command,
      };
      commands.set(id, received);
      if (latencyMs !== undefined) stats.command(latencyMs);
      stats.event(`command ${via}`);
      if (via === "ws") sendFrame({ type: "ack", command_id: id });
      track(respond(received));
    }

    async function respond(received: ReceivedCommand): Promise<void> {
      let result: LightResult;
      try {
        result = options.onCommand
          ? await options.onCommand(agent, received)
          : { status: "completed", data: { received_at: received.receivedAt } };
      } catch (error) {
        result = { status: "failed", output: String((error as Error).message).slice(0, 200) };
      }
      if (result === null || signal.aborted) return;
      const now = Date.now();
      const answer = await call("result", `${baseUrl}${Paths.result(received.id)}`, {
        method: "POST",
        key,
        client,
        body: JSON.stringify({
          ...result,
          started_at: received.receivedAt,
          finished_at: now,
          timestamp: Math.floor(now / 1000),
        }),
      }, signal);
      if (answer && (answer.status === 401 || answer.status === 403)) {
        stats.event(`result refused ${answer.status}`);
      }
    }

    function sendFrame(frame: Record<string, unknown>): void {
      try {
        if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
      } catch { /* closing */ }
    }

    async function heartbeatLoop(): Promise<void> {
      // Spread the fleet's heartbeats over the interval.
      await sleep(rand() * heartbeatMs, signal);
      while (!signal.aborted) {
        const started = Date.now();
        await heartbeat();
        await sleep(Math.max(0, heartbeatMs - (Date.now() - started)), signal);
      }
    }

    async function heartbeat(): Promise<void> {
      if (!workerId) return;
      const latest = simulatedSample(index, Date.now(), seq);
      const answer = await call("heartbeat", `${baseUrl}${Paths.heartbeat(workerId)}`, {
        method: "POST",
        key,
        client,
        body: JSON.stringify({ status: "online", current_load: 0, metrics: snapshotOf(latest) }),
      }, signal);
      if (!answer) return;
      if (answer.status === 401 || answer.status === 403) return refuse(answer.status);
      if (answer.status === 404) {
        stats.event("worker deleted");
        await register();
        return;
      }
      const pending = answer.body.pending_commands;
      if (Array.isArray(pending)) {
        for (const c of pending.slice(0, 100)) {
          receive(c, "heartbeat");
        }
      }
    }

    async function metricsLoop(): Promise<void> {
      await sleep(rand() * metricsMs, signal);
      while (!signal.aborted) {
        const started = Date.now();
        if (workerId) {
          pendingSamples.push(simulatedSample(index, Date.now(), seq + pendingSamples.length + 1, {
            stream,
          }));
          // Bounded: the oldest go first, counted.
          while (pendingSamples.length > 100) {
            pendingSamples.shift();
            stats.event("sample dropped");
          }
          const answer = await call(
            "metrics",
            `${baseUrl}${Paths.metrics(workerId)}`,
            {
              method: "POST",
              key,
              body: JSON.stringify({ samples: pendingSamples }),
            },
            signal,
            3,
          );
          if (answer?.status === 200) {
            seq = pendingSamples.at(-1)!.seq;
            pendingSamples.length = 0;
          } else if (answer && (answer.status === 401 || answer.status === 403)) {
            return refuse(answer.status);
          }
        }
        await sleep(Math.max(0, metricsMs - (Date.now() - started)), signal);
      }
    }

    async function socketLoop(): Promise<void> {
      while (!signal.aborted) {
        const closed = Promise.withResolvers<number>();
        const started = performance.now();
        let welcomed = false;
        try {
          socket = new WebSocket(
            wsUrl!,
            {
              headers: {
                "Authorization": `Bearer ${key}`,
                "X-Worker-Id": workerId!,
                "X-Instance-Id": instanceId,
              },
            } as unknown as string[],
          );
        } catch {
          stats.request("ws", performance.now() - started, "network");
          await sleep(wsBackoff.next(), signal);
          continue;
        }
        const ws = socket;
        ws.onmessage = (event) => {
          if (typeof event.data !== "string" || event.data.length > 300_000) return;
          let frame: Record<string, unknown>;
          try {
            frame = JSON.parse(event.data);
          } catch {
            stats.event("ws bad frame");
            return;
          }
          if (!frame || typeof frame !== "object") return;
          switch (frame.type) {
            case "welcome":
              welcomed = true;
              connected = true;
              sessions++;
              stats.request("ws", performance.now() - started, 200);
              wsBackoff.reset();
              break;
            case "ping":
              sendFrame({ type: "pong", ts: frame.ts });
              break;
            case "command":
              receive(frame.command, "ws");
              break;
            case "disconnect":
              stats.event("ws disconnect frame");
              ws.close(1000);
              break;
          }
        };
        ws.onclose = (event) => closed.resolve(event.code);
        ws.onerror = () => {};
        const onAbort = () => ws.close(1000);
        signal.addEventListener("abort", onAbort, { once: true });
        const code = await closed.promise;
        signal.removeEventListener("abort", onAbort);
        connected = false;
        socket = undefined;
        closeCodes.push(code);
        if (closeCodes.length > 1000) closeCodes.shift();
        if (!welcomed) stats.request("ws", performance.now() - started, code || "network");
        stats.event(`ws close ${code}`);
        options.onClose?.(agent, code);
        if (signal.aborted) break;
        if (code === 4001 || code === 4003) {
          refuse(code);
          break;
        }
        if (code === 4008) {
          // Replaced: another session holds the worker now; come back slowly, not fighting.
          await sleep(capMs / 2 + rand() * capMs / 2, signal);
          continue;
        }
        await sleep(wsBackoff.next(), signal);
      }
    }

    const agent = {
      index,
      key,
      keyId,
      instanceId,
      get baseUrl() {
        return baseUrl;
      },
      get workerId() {
        return workerId;
      },
      get connected() {
        return connected;
      },
      get sessions() {
        return sessions;
      },
      get closeCodes() {
        return closeCodes;
      },
      get commands() {
        return commands;
      },
      get lastSeq() {
        return seq;
      },
      get refused() {
        return refused;
      },
      moveTo(url: string) {
        baseUrl = url;
        wsUrl = `${url.replace(/^http/, "ws")}${Paths.websocket}`;
        try {
          socket?.close(1000);
        } catch { /* closed */ }
      },
      dropSocket() {
        try {
          socket?.close(1000);
        } catch { /* closed */ }
      },
      stop() {
        abort.abort();
      },
      async start() {
        if (!await register()) return;
        await heartbeat();
        track(heartbeatLoop());
        if (metricsMs > 0) track(metricsLoop());
        if (useWs) track(socketLoop());
      },
    };
    return agent;
  }

  async function add(count: number): Promise<LightAgent[]> {
    const first = agents.length;
    const made: LightAgent[] = [];
    let next = first;
    const worker = async () => {
      while (!stopped && next < first + count) {
        const index = next++;
        const { key, id } = await createKey(index);
        const agent = makeAgent(index, key, id);
        agents.push(agent);
        made.push(agent);
        await track(agent.start());
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    agents.sort((a, b) => a.index - b.index);
    return made.sort((a, b) => a.index - b.index);
  }

  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    fleetAbort.abort();
    while (inflight.size > 0) await Promise.allSettled([...inflight]);
    for (const client of clients) client.close();
  }

  await add(options.count ?? 0);
  return { agents, stats, add, stop, [Symbol.asyncDispose]: stop };
}
