/**
 * The control plane's HTTP app: worker endpoints (protocol 3), the WebSocket upgrade, the
 * admin API (interfaces.md section 3) and the dashboard, as one `Request → Response`
 * function. Errors become responses in exactly one place ({@linkcode errorResponse}).
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { Logger } from "../log/logger.ts";
import { VERSION } from "../version.ts";
import {
  checkParamsBounds,
  CloseCode,
  COMMAND_TIMEOUT_BOUNDS,
  CommandParamsSchemas,
  HeartbeatRequestSchema,
  IncomingMetricsRequestSchema,
  IncomingResultSchema,
  INSTANCE_ID_HEADER,
  isApiKey,
  isCommandType,
  MAX_PENDING_PER_HEARTBEAT,
  MISSED_HEARTBEATS_OFFLINE,
  Paths,
  RegisterRequestSchema,
  validate,
  WORKER_STATUSES,
  z,
} from "./_deps.ts";
import { z as zod } from "zod";
import { secretsEqual } from "./_secrets.ts";
import {
  type CommandCatalogResponse,
  type CommandListResponse,
  MAX_FLEET_QUERY_LENGTH,
  MAX_SERIES_POINTS,
  SERIES_RANGES,
  type SessionResponse,
  type SignedOutResponse,
  type WorkerDetailResponse,
  type WorkerListResponse,
} from "./admin_api.ts";
import {
  type AdminSession,
  type AdminSessions,
  isSecureRequest,
  passesCsrfCheck,
  readCookie,
  sessionCookie,
} from "./admin_session.ts";
import { serveDashboard } from "./dashboard/dashboard.ts";
import type { CommandDelivery } from "./command_delivery.ts";
import { commandCatalog } from "./command_catalog.ts";
import type { ClusterBus } from "./cluster/cluster_bus.ts";
import { parseFleetSort } from "./fleet_query.ts";
import { EVENT_STREAM_HEADERS, type LiveEvents } from "./live_events.ts";
import type { MetricSeries } from "./metric_downsample.ts";
import { HeartbeatHistory } from "./heartbeat_history.ts";
import { HttpError } from "./http_error.ts";
import { assertMayClaim } from "./instance_claim.ts";
import { type AdmissionGates, admissionMiddleware } from "./admission_gate.ts";
import type { MetricStore } from "./metric_store.ts";
import {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  UnavailableError,
} from "./storage/errors.ts";
import {
  COMMAND_STATUSES,
  KEY_SCOPES,
  type KeyRecord,
  TERMINAL_STATUSES,
  viewOf,
  type WorkerView,
} from "./storage/records.ts";
import type {
  CommandRepository,
  FleetRepository,
  KeyRepository,
  WorkerRepository,
} from "./storage/repositories.ts";
import type { RateLimiter } from "./rate_limiter.ts";
import { parseBody, readBodyText, readJsonBody } from "./read_body.ts";
import { resultToStore } from "./result_body.ts";
import type { StorageQuota } from "./storage_quota.ts";
import type { WorkerSessions } from "./worker_sessions.ts";

/** Everything the app's handlers use; built by `createControlPlane`. */
export interface AppContext {
  keys: KeyRepository;
  workers: WorkerRepository;
  commands: CommandRepository;
  metrics: MetricStore;
  delivery: CommandDelivery;
  sessions: WorkerSessions;
  limiter: RateLimiter;
  logger: Logger;
  now: () => number;
  adminToken: string;
  /** Base of `websocket_url`, e.g. `http://127.0.0.1:8080`. */
  publicUrl: string;
  heartbeatIntervalSeconds: number;
  metricsIntervalSeconds: number;
  maxBodyBytes: number;
  /** A request body must have arrived this long after the handler starts reading it. */
  bodyTimeoutMs: number;
  /** Per-worker bound on stored samples. */
  quota: StorageQuota;
  /** Live updates for the dashboard (`GET /api/admin/events`). */
  events: LiveEvents;
  /** The worker list with search, sort and pages. */
  fleet: FleetRepository;
  /** Bucketed history for charts. */
  series: MetricSeries;
  /** The doorbell to the other instances (a no-op bus when there is one instance). */
  bus: ClusterBus;
  /** Resolves when the database answers (for `/readyz`). */
  ping: () => Promise<void>;
  /** Dashboard session cookies. */
  adminSessions: AdminSessions;
  /** How long a command waits to be delivered (ms). */
  commandDeliveryWindowMs: number;
  /** Caps of registers and WebSocket upgrades at once (issue 15); none when absent. */
  admission?: AdmissionGates;
}

/** Connection facts the server passes along with a request. */
export interface RequestInfo {
  /** The peer's address, used to rate-limit requests without a usable key. */
  remoteAddr?: string;
}

type Env = {
  Bindings: RequestInfo;
  Variables: { workerId?: string; adminSession?: AdminSession };
};

const ListLimit = zod.coerce.number().int().min(1).max(1000);

const SessionRequestSchema = zod.object({ token: zod.string().min(1).max(1000) });

const CreateKeySchema = zod.object({
  name: zod.string().min(1).max(100),
  scopes: zod.array(zod.enum(KEY_SCOPES)).min(1).optional(),
});

const CreateCommandSchema = zod.object({
  worker_id: zod.string().min(1).max(64),
  command_type: zod.string().regex(/^[a-z][a-z0-9_]*$/, "expected snake_case").max(64),
  params: zod.record(zod.string(), zod.unknown()).optional(),
  timeout_seconds: zod.number().int().min(COMMAND_TIMEOUT_BOUNDS.min).max(
    COMMAND_TIMEOUT_BOUNDS.max,
  ).optional(),
});

/** Default `timeout_seconds` of a command created without one. */
export const DEFAULT_COMMAND_TIMEOUT_SECONDS = 300;

/**
 * Largest register body. FTL sends the key in it, so it is read before the key is known:
 * it must cost an unauthenticated client little.
 */
export const MAX_REGISTER_BODY_BYTES = 64 * 1024;
/** The register body must have arrived this long after reading starts. */
export const REGISTER_BODY_TIMEOUT_MS = 10_000;

/** `Retry-After` (s) of a 429 for a full storage quota: retention frees space every minute. */
const QUOTA_RETRY_AFTER_SECONDS = 60;

/** Builds the app. The returned function never throws: every error becomes a response. */
export function createApp(
  ctx: AppContext,
): (request: Request, info?: RequestInfo) => Promise<Response> {
  const app = new Hono<Env>();
  const { keys, workers, commands, metrics, delivery, sessions, now } = ctx;
  const history = new HeartbeatHistory({ ...ctx, metrics });

  function json(c: Context<Env>, body: Record<string, unknown>, status = 200): Response {
    return c.json({ ...body, server_time: now() }, status as 200);
  }

  function claimOptions() {
    return { now: now(), heartbeatIntervalSeconds: ctx.heartbeatIntervalSeconds };
  }

  function limit(bucket: string): void {
    const wait = ctx.limiter.take(bucket);
    if (wait > 0) {
      throw new HttpError(429, "rate_limited", `Too many requests; retry in ${wait} s`, {
        headers: { "Retry-After": String(wait) },
      });
    }
  }

  /** The API key of a worker request (header, or `api_key` in a register body). */
  function presentedKey(request: Request, bodyKey?: unknown): string | undefined {
    const header = request.headers.get("x-api-key")?.trim();
    if (header) return header;
    const auth = request.headers.get("authorization");
    const bearer = auth && /^Bearer\s+(.+)$/i.exec(auth.trim())?.[1];
    if (bearer) return bearer.trim();
    return typeof bodyKey === "string" && bodyKey.length > 0 ? bodyKey : undefined;
  }

  /** Results being stored without spending the key's budget (see the result route). */
  const freeResults = new Set<string>();

  /** The key of a worker request, or 401; does not spend the key's rate budget. */
  async function authenticate(c: Context<Env>, bodyKey?: unknown): Promise<KeyRecord> {
    const raw = presentedKey(c.req.raw, bodyKey);
    // Failed attempts are limited per client address, accepted keys per key: a client that
    // knows only a victim's key prefix cannot use up the victim's bucket.
    const byAddress = `ip:${c.env?.remoteAddr ?? "?"}`;
    if (!raw) {
      limit(byAddress);
      throw new HttpError(401, "missing_api_key", "No API key: send X-API-Key");
    }
    const key = isApiKey(raw) ? await keys.authenticate(raw) : undefined;
    if (!key) {
      limit(byAddress);
      throw new HttpError(401, "invalid_api_key", "The API key is unknown or revoked");
    }
    return key;
  }

  function requireWorkerScope(key: KeyRecord): void {
    if (!key.scopes.includes("worker") && !key.scopes.includes("all")) {
      throw new HttpError(403, "forbidden", "The API key lacks the worker scope");
    }
  }

  async function authWorker(c: Context<Env>, bodyKey?: unknown): Promise<KeyRecord> {
    const key = await authenticate(c, bodyKey);
    limit(`key:${key.id}`);
    requireWorkerScope(key);
    return key;
  }

  /** Reads and validates a JSON body under the size limit and the body deadline. */
  function bodyOf<S extends z.ZodType>(c: Context<Env>, schema: S): Promise<z.output<S>> {
    return readJsonBody(c.req.raw, schema, {
      limit: ctx.maxBodyBytes,
      deadlineMs: ctx.bodyTimeoutMs,
    });
  }

  /** Authenticates a worker request for `workerId`: 404 if gone, 403 if another's. */
  async function authWorkerFor(
    c: Context<Env>,
    workerId: string,
  ): Promise<{ worker: WorkerView; key: KeyRecord }> {
    const key = await authWorker(c);
    const worker = await workers.get(workerId);
    if (!worker) throw new HttpError(404, "not_found", `No worker ${workerId}; register again`);
    if (worker.key_id !== key.id) {
      throw new HttpError(403, "worker_mismatch", "The API key belongs to another worker");
    }
    c.set("workerId", workerId);
    return { worker, key };
  }

  /**
   * Admin calls: the admin token as `Authorization: Bearer`, or the dashboard's session
   * cookie (which must come with the CSRF header on anything but GET). Returns the session
   * when the cookie was used.
   */
  async function authAdmin(c: Context<Env>): Promise<AdminSession | undefined> {
    const auth = c.req.header("authorization") ?? "";
    const token = /^Bearer\s+(.+)$/i.exec(auth.trim())?.[1]?.trim();
    if (!token) {
      const cookie = readCookie(c.req.header("cookie") ?? null);
      if (cookie !== undefined) {
        const session = await ctx.adminSessions.verify(cookie);
        if (!session) {
          limit(`ip:${c.env?.remoteAddr ?? "?"}`);
          throw new HttpError(401, "invalid_api_key", "The session has ended; sign in again");
        }
        if (!passesCsrfCheck(c.req.raw)) {
          throw new HttpError(403, "forbidden", "A dashboard request must send X-FTL-Dashboard: 1");
        }
        return session;
      }
      limit(`ip:${c.env?.remoteAddr ?? "?"}`);
      throw new HttpError(401, "missing_api_key", "Admin calls need Authorization: Bearer");
    }
    if (!(await secretsEqual(token, ctx.adminToken))) {
      limit(`ip:${c.env?.remoteAddr ?? "?"}`);
      throw new HttpError(401, "invalid_api_key", "The admin token is wrong");
    }
    return undefined;
  }

  function sessionInfo(via: "session" | "bearer", expiresAt: number | null): SessionResponse {
    return {
      ok: true,
      via,
      expires_at: expiresAt,
      version: VERSION,
      heartbeat_interval_seconds: ctx.heartbeatIntervalSeconds,
      metrics_interval_seconds: ctx.metricsIntervalSeconds,
      missed_heartbeats_offline: MISSED_HEARTBEATS_OFFLINE,
      command_delivery_window_ms: ctx.commandDeliveryWindowMs,
      server_time: now(),
    };
  }

  function query<S extends z.ZodType>(c: Context<Env>, name: string, schema: S): z.infer<S> {
    const value = c.req.query(name);
    const result = validate(schema, value);
    if (!result.ok) {
      throw new HttpError(
        400,
        "invalid_request",
        `${name}: ${result.error.replace(/^\(body\): /, "")}`,
        {
          field: name,
        },
      );
    }
    return result.value;
  }

  // ---- load balancer probes: unauthenticated, not rate-limited, not logged ----
  app.get("/healthz", (c) => c.json({ ok: true }));
  app.get("/readyz", async (c) => {
    let database = true;
    try {
      await withTimeout(ctx.ping(), READY_TIMEOUT_MS);
    } catch {
      database = false;
    }
    const bus = ctx.bus.ready();
    const ok = database && bus;
    if (!ok) c.header("Retry-After", "5");
    return c.json({ ok, database, bus }, ok ? 200 : 503);
  });

  // ---- request log and the one error handler ----
  app.use(async (c, next) => {
    if (c.req.path === "/healthz" || c.req.path === "/readyz") return await next();
    const started = performance.now();
    await next();
    const status = c.res.status;
    const fields: Record<string, unknown> = {
      method: c.req.method,
      path: c.req.path,
      status,
      duration_ms: Math.round((performance.now() - started) * 10) / 10,
    };
    const workerId = c.get("workerId");
    if (workerId) fields.worker_id = workerId;
    // A 503 is deliberate (starting up, the admission gates): not an error of the server.
    if (status >= 500 && status !== 503) ctx.logger.error("request", fields);
    else ctx.logger.info("request", fields);
  });
  app.onError((error, c) => errorResponse(error, { now, logger: ctx.logger, path: c.req.path }));
  app.notFound(async (c) => {
    if (c.req.method === "GET" || c.req.method === "HEAD") {
      const page = await serveDashboard(c.req.raw);
      if (page) return page;
    }
    return errorResponse(
      new HttpError(404, "not_found", `No route ${c.req.method} ${c.req.path}`),
      { now, logger: ctx.logger, path: c.req.path },
    );
  });

  // ---- worker endpoints (protocol 3) ----
  app.use(Paths.register, admissionMiddleware(ctx.admission?.register, "registers"));
  app.use(Paths.websocket, admissionMiddleware(ctx.admission?.upgrade, "WebSocket upgrades"));
  app.post(Paths.register, async (c) => {
    // A key in a header is checked before the body is read. FTL sends it in the body, which
    // is then read first, but only up to 64 KiB and under the body deadline.
    let key = presentedKey(c.req.raw) === undefined ? undefined : await authWorker(c);
    const text = await readBodyText(c.req.raw, {
      limit: Math.min(MAX_REGISTER_BODY_BYTES, ctx.maxBodyBytes),
      deadlineMs: Math.min(REGISTER_BODY_TIMEOUT_MS, ctx.bodyTimeoutMs),
    });
    if (!key) {
      let raw: unknown = {};
      try {
        raw = text.trim() === "" ? {} : JSON.parse(text);
      } catch { /* reported by validation below, once the key is known */ }
      const bodyKey = raw && typeof raw === "object"
        ? (raw as { api_key?: unknown }).api_key
        : undefined;
      key = await authWorker(c, bodyKey);
    }
    const parsed = parseBody(RegisterRequestSchema, text);
    const holder = await workers.holderOf(key.id);
    assertMayClaim(holder, parsed.instance_id, claimOptions());
    const worker = await workers.register(key.id, parsed);
    c.set("workerId", worker.worker_id);
    if (holder?.instance_id && parsed.instance_id && holder.instance_id !== parsed.instance_id) {
      // The old holder went offline and this instance took the key over.
      sessions.kick(worker.worker_id, CloseCode.replaced, "another instance took over the key");
    }
    const wsBase = ctx.publicUrl.replace(/^http/, "ws").replace(/\/+$/, "");
    return json(c, {
      worker_id: worker.worker_id,
      websocket_url: `${wsBase}${Paths.websocket}`,
      heartbeat_interval_seconds: ctx.heartbeatIntervalSeconds,
      metrics_interval_seconds: ctx.metricsIntervalSeconds,
      max_concurrency: worker.max_concurrency,
      signature_alg: delivery.mode.alg,
    });
  });

  app.post("/api/workers/:workerId/heartbeat", async (c) => {
    const workerId = c.req.param("workerId");
    const { worker, key } = await authWorkerFor(c, workerId);
    const body = await history.record(worker, await bodyOf(c, HeartbeatRequestSchema));
    const updated = await workers.heartbeat(workerId, body, worker);
    const status = body.status ?? "online";
    const pending = status === "online" || status === "error"
      ? await delivery.take(workerId, MAX_PENDING_PER_HEARTBEAT, {
        via: "heartbeat",
        ...(updated ? { known: { worker: updated, key } } : {}),
      })
      : [];
    if (status === "offline") sessions.kick(workerId, 1000, "worker went offline");
    return json(c, {
      ok: true,
      pending_commands: pending,
      heartbeat_interval_seconds: ctx.heartbeatIntervalSeconds,
    });
  });

  app.post("/api/workers/:workerId/metrics", async (c) => {
    const workerId = c.req.param("workerId");
    await authWorkerFor(c, workerId);
    const full = await ctx.quota.exceeded(workerId);
    if (full) {
      const mib = Math.round(full.limitBytes / 1024 / 1024);
      throw new HttpError(
        429,
        "rate_limited",
        `This worker's storage quota (${mib} MiB of samples) is full; ` +
          "samples are accepted again as old ones pass the retention period",
        { headers: { "Retry-After": String(QUOTA_RETRY_AFTER_SECONDS) } },
      );
    }
    const body = await bodyOf(c, IncomingMetricsRequestSchema);
    const counts = await metrics.insert(workerId, body.samples);
    await workers.noteMetricsPost(workerId);
    return json(c, { ok: true, ...counts });
  });

  app.post("/api/workers/commands/:commandId/result", async (c) => {
    const commandId = c.req.param("commandId");
    const key = await authenticate(c);
    const command = await commands.get(commandId);
    const worker = await workers.byKey(key.id);
    const owned = command !== undefined && worker?.worker_id === command.worker_id;
    // The first result of a command the server delivered to this worker does not spend the
    // key's budget: the commands sent already bound those posts. Anything else does.
    const free = owned && command.delivery_count > 0 &&
      !TERMINAL_STATUSES.includes(command.status) && !freeResults.has(commandId);
    if (!free) limit(`key:${key.id}`);
    requireWorkerScope(key);
    if (!command) throw new HttpError(404, "not_found", `No command ${commandId}`);
    if (!owned) {
      throw new HttpError(403, "worker_mismatch", "The command belongs to another worker");
    }
    c.set("workerId", command.worker_id);
    if (free) freeResults.add(commandId);
    try {
      const body = await bodyOf(c, IncomingResultSchema);
      if (body.command_id !== undefined && body.command_id !== commandId) {
        throw new HttpError(400, "invalid_request", "command_id: does not match the URL", {
          field: "command_id",
        });
      }
      if ((await commands.complete(commandId, resultToStore(body))) === "already") {
        return json(c, { ok: true, message: "Command already completed" });
      }
      return json(c, { ok: true });
    } finally {
      if (free) freeResults.delete(commandId);
    }
  });

  app.get(Paths.websocket, async (c) => {
    // Copy what we need from the request before upgrading.
    const workerId = c.req.header("x-worker-id")?.trim() ?? "";
    const key = await authWorker(c);
    if (!workerId) {
      throw new HttpError(400, "invalid_request", "X-Worker-Id: required", {
        field: "X-Worker-Id",
      });
    }
    const instanceId = c.req.header(INSTANCE_ID_HEADER)?.trim() || undefined;
    const worker = await workers.get(workerId);
    if (!worker) throw new HttpError(404, "not_found", `No worker ${workerId}; register again`);
    if (worker.key_id !== key.id) {
      throw new HttpError(403, "worker_mismatch", "The API key belongs to another worker");
    }
    c.set("workerId", workerId);
    assertMayClaim(await workers.holderOf(key.id), instanceId, claimOptions());
    if ((c.req.header("upgrade") ?? "").toLowerCase() !== "websocket") {
      throw new HttpError(400, "invalid_request", "Upgrade: expected websocket", {
        field: "Upgrade",
      });
    }
    try {
      return sessions.accept(c.req.raw, { workerId, keyId: key.id });
    } catch (error) {
      // Deno refuses a malformed handshake (no Connection: Upgrade, no Sec-WebSocket-Key…).
      if (!(error instanceof TypeError)) throw error;
      throw new HttpError(400, "invalid_request", `(handshake): ${error.message}`, {
        field: "(handshake)",
      });
    }
  });

  // ---- admin API (interfaces.md section 3) ----
  // Signing in to the dashboard: the admin token (in the body) for a session cookie. Before
  // the admin middleware, since the cookie does not exist yet.
  app.post("/api/admin/session", async (c) => {
    const body = await bodyOf(c, SessionRequestSchema);
    if (!(await secretsEqual(body.token.trim(), ctx.adminToken))) {
      limit(`ip:${c.env?.remoteAddr ?? "?"}`);
      throw new HttpError(401, "invalid_api_key", "The admin token is wrong");
    }
    const { value, expiresAt } = await ctx.adminSessions.issue();
    const cookie = sessionCookie(value, {
      secure: isSecureRequest(c.req.raw, ctx.publicUrl),
      maxAgeSeconds: (expiresAt - now()) / 1000,
    });
    c.header("Set-Cookie", cookie);
    c.header("Cache-Control", "no-store");
    return c.json(sessionInfo("session", expiresAt));
  });

  // Who is signed in: 200 either way (`ok: false` without a session), so a page that opens
  // without a session does not log a failed request.
  app.get("/api/admin/session", async (c) => {
    let session: AdminSession | undefined;
    try {
      session = await authAdmin(c);
    } catch (error) {
      if (!(error instanceof HttpError) || error.status !== 401) throw error;
      c.header("Cache-Control", "no-store");
      return c.json({ ok: false, server_time: now() } satisfies SignedOutResponse);
    }
    c.header("Cache-Control", "no-store");
    return c.json(sessionInfo(session ? "session" : "bearer", session?.expiresAt ?? null));
  });

  app.use("/api/admin/*", async (c, next) => {
    const session = await authAdmin(c);
    if (session) c.set("adminSession", session);
    await next();
  });

  app.delete("/api/admin/session", (c) => {
    const session = c.get("adminSession");
    if (session) ctx.adminSessions.revoke(session);
    c.header(
      "Set-Cookie",
      sessionCookie("", { secure: isSecureRequest(c.req.raw, ctx.publicUrl), maxAgeSeconds: 0 }),
    );
    return json(c, { ok: true });
  });

  app.get("/api/admin/events", (c) => {
    const stream = ctx.events.subscribe(c.req.raw.signal);
    if (!stream) {
      throw new HttpError(503, "internal", "Too many dashboards are listening; retry shortly", {
        headers: { "Retry-After": "10" },
      });
    }
    return new Response(stream, { headers: EVENT_STREAM_HEADERS });
  });

  app.get("/api/admin/command-types", (c) =>
    c.json(
      { command_types: commandCatalog(), server_time: now() } satisfies CommandCatalogResponse,
    ));

  app.post("/api/admin/keys", async (c) => {
    const body = await bodyOf(c, CreateKeySchema);
    const { record, key } = await keys.create(body.name, body.scopes ?? ["worker"]);
    const view = viewOf(record);
    return json(c, { ...view, key }, 201);
  });

  app.get("/api/admin/keys", async (c) => json(c, { keys: await keys.list() }));

  app.post("/api/admin/keys/:keyId/revoke", async (c) => {
    const keyId = c.req.param("keyId");
    await keys.revoke(keyId);
    sessions.kickKey(keyId);
    ctx.bus.publish({ kind: "key_revoked", key_id: keyId });
    return json(c, { ok: true });
  });

  app.post("/api/workers/commands", async (c) => {
    await authAdmin(c);
    const body = await bodyOf(c, CreateCommandSchema);
    const params = body.params ?? {};
    const bounded = checkParamsBounds(params);
    if (!bounded.ok) {
      throw new HttpError(400, "invalid_request", bounded.error, { field: "params" });
    }
    if (isCommandType(body.command_type)) {
      const checked = validate(CommandParamsSchemas[body.command_type], params);
      if (!checked.ok) {
        const field = checked.field === "(body)" ? "params" : `params.${checked.field}`;
        throw new HttpError(
          400,
          "invalid_request",
          `${field}: ${checked.error.replace(/^[^:]*: /, "")}`,
          {
            field,
          },
        );
      }
    }
    if (!(await workers.get(body.worker_id))) {
      throw new HttpError(404, "not_found", `No worker ${body.worker_id}`);
    }
    const command = await commands.create({
      workerId: body.worker_id,
      commandType: body.command_type,
      params,
      timeoutSeconds: body.timeout_seconds ?? DEFAULT_COMMAND_TIMEOUT_SECONDS,
    });
    // The row is committed: push it here if the worker's socket is here, and ring the other
    // instances (the one holding the socket pushes; heartbeats deliver it if the bell is lost).
    void sessions.push(body.worker_id);
    ctx.bus.publish({
      kind: "command_created",
      worker_id: body.worker_id,
      command_id: command.command_id,
    });
    return json(c, {
      command_id: command.command_id,
      status: command.status,
      created_at: command.created_at,
    }, 201);
  });

  app.get("/api/workers/commands", async (c) => {
    await authAdmin(c);
    const status = query(c, "status", zod.enum(COMMAND_STATUSES).optional());
    const commandType = query(c, "type", zod.string().max(64).optional());
    const list = await commands.list({
      ...optional("workerId", c.req.query("worker_id")),
      ...optional("status", status),
      ...optional("commandType", commandType),
      limit: query(c, "limit", ListLimit.default(100)),
    });
    return c.json({ commands: list, server_time: now() } satisfies CommandListResponse);
  });

  app.get("/api/workers", async (c) => {
    await authAdmin(c);
    const status = query(c, "status", zod.enum(WORKER_STATUSES).optional());
    const trading = query(c, "trading", zod.string().max(64).optional());
    const q = query(c, "q", zod.string().max(MAX_FLEET_QUERY_LENGTH).optional());
    const sortText = query(c, "sort", zod.string().max(40).optional());
    const cursor = query(c, "cursor", zod.string().max(2000).optional());
    const page = await ctx.fleet.page({
      ...optional("status", status),
      ...optional("trading", trading),
      ...optional("q", q),
      ...optional("cursor", cursor),
      ...(sortText ? { sort: parseFleetSort(sortText) } : {}),
      limit: query(c, "limit", ListLimit.default(100)),
    });
    return c.json(
      {
        workers: page.rows,
        next_cursor: page.nextCursor,
        total: page.total,
        summary: await ctx.fleet.summary(),
        server_time: now(),
      } satisfies WorkerListResponse,
    );
  });

  app.get("/api/workers/:workerId", async (c) => {
    await authAdmin(c);
    const workerId = c.req.param("workerId");
    const worker = await workers.get(workerId);
    if (!worker) throw new HttpError(404, "not_found", `No worker ${workerId}`);
    return c.json(
      {
        worker,
        key: await ctx.fleet.keyOf(workerId),
        metrics: (await metrics.list(workerId, { limit: 20 })) as WorkerDetailResponse["metrics"],
        commands: await commands.list({ workerId, limit: 20 }),
        server_time: now(),
      } satisfies WorkerDetailResponse,
    );
  });

  app.delete("/api/workers/:workerId", async (c) => {
    await authAdmin(c);
    const workerId = c.req.param("workerId");
    await workers.delete(workerId);
    metrics.forgetWorker(workerId);
    sessions.kick(workerId, 1000, "worker deleted");
    ctx.bus.publish({ kind: "worker_deleted", worker_id: workerId });
    return json(c, { ok: true });
  });

  app.get("/api/workers/:workerId/metrics", async (c) => {
    await authAdmin(c);
    const workerId = c.req.param("workerId");
    if (!(await workers.get(workerId))) {
      throw new HttpError(404, "not_found", `No worker ${workerId}`);
    }
    const ms = zod.coerce.number().int().nonnegative().optional();
    const since = query(c, "since", ms);
    const until = query(c, "until", ms);
    return json(c, {
      samples: await metrics.list(workerId, {
        ...optional("since", since),
        ...optional("until", until),
        limit: query(c, "limit", ListLimit.default(500)),
      }),
    });
  });

  app.get("/api/workers/:workerId/series", async (c) => {
    await authAdmin(c);
    const workerId = c.req.param("workerId");
    const worker = await workers.get(workerId);
    if (!worker) throw new HttpError(404, "not_found", `No worker ${workerId}`);
    const ms = zod.coerce.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional();
    const range = query(c, "range", zod.enum(Object.keys(SERIES_RANGES) as [string]).optional());
    const until = query(c, "until", ms) ?? now();
    const since = query(c, "since", ms) ??
      until - SERIES_RANGES[(range ?? "1h") as keyof typeof SERIES_RANGES];
    if (since >= until) {
      throw new HttpError(400, "invalid_request", "since: must be before until", {
        field: "since",
      });
    }
    const posts = worker.metrics_posted_at !== null;
    const result = await ctx.series.series(workerId, {
      since,
      until,
      maxPoints: query(
        c,
        "points",
        zod.coerce.number().int().min(1).max(MAX_SERIES_POINTS).default(MAX_SERIES_POINTS),
      ),
      // Workers that use the metrics endpoint sample more often than they beat.
      sampleIntervalMs: (posts ? ctx.metricsIntervalSeconds : ctx.heartbeatIntervalSeconds) * 1000,
      signal: c.req.raw.signal,
    });
    return json(c, result);
  });

  return async (request, info = {}) => {
    try {
      return await app.fetch(request, info);
    } catch (error) {
      return errorResponse(error, { now, logger: ctx.logger, path: new URL(request.url).pathname });
    }
  };
}

/** How long `/readyz` waits for the database. */
const READY_TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timed out")), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The HTTP form of an error: an {@linkcode HttpError} as it is, storage's domain errors
 * (`storage/errors.ts`) by kind, anything else 500.
 */
export function httpErrorOf(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof NotFoundError) {
    return new HttpError(404, "not_found", error.message, { cause: error });
  }
  if (error instanceof InvalidInputError) {
    return new HttpError(400, "invalid_request", error.message, {
      ...(error.field === undefined ? {} : { field: error.field }),
      cause: error,
    });
  }
  if (error instanceof ConflictError) {
    return new HttpError(409, "invalid_request", error.message, { cause: error });
  }
  if (error instanceof UnavailableError) {
    return new HttpError(503, "internal", `${error.message}`, {
      headers: { "Retry-After": String(error.retryAfterSeconds) },
      cause: error,
    });
  }
  return new HttpError(500, "internal", "Internal error", { cause: error });
}

/** `{error, code, server_time}` with the status of {@linkcode httpErrorOf}. */
export function errorResponse(
  error: unknown,
  options: { now: () => number; logger: Logger; path: string },
): Response {
  const known = httpErrorOf(error);
  if (error instanceof UnavailableError) {
    options.logger.warn("storage unavailable", { path: options.path, error: String(error) });
  } else if (known.status >= 500 && !(error instanceof HttpError)) {
    options.logger.error("unhandled error", {
      path: options.path,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  }
  const body = {
    ...known.details,
    error: known.message,
    code: known.code,
    server_time: options.now(),
  };
  return new Response(JSON.stringify(body), {
    status: known.status,
    headers: { "Content-Type": "application/json", ...known.headers },
  });
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined || value === "" ? {} : { [key]: value }) as { [P in K]?: V };
}
