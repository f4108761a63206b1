/**
 * Wires the storage, the WebSocket sessions, the sweeper, the cluster bus and the HTTP app into
 * one control plane. Every side effect (clock, ids, logger) has a default and an override.
 */
import { createLogger, type Logger } from "../log/logger.ts";
import {
  ACK_TIMEOUT_MS,
  COMMAND_TTL_MS,
  DEFAULT_HEARTBEAT_INTERVAL_SECONDS,
  DEFAULT_METRICS_INTERVAL_SECONDS,
  MAX_BODY_BYTES,
  MISSED_HEARTBEATS_OFFLINE,
  WS_PING_INTERVAL_MS,
} from "./_deps.ts";
import { randomId } from "./_random_id.ts";
import { createApp, type RequestInfo } from "./app.ts";
import { type AdmissionGates, createAdmissionGates } from "./admission_gate.ts";
import { startupGrace } from "./startup_grace.ts";
import { AdminSessions } from "./admin_session.ts";
import { CommandDelivery } from "./command_delivery.ts";
import type { SigningMode } from "./command_signer.ts";
import { type ClusterBus, type ClusterEvent, LocalBus } from "./cluster/cluster_bus.ts";
import { LiveEvents } from "./live_events.ts";
import { LiveCommands, LiveKeys, LiveWorkers } from "./live_stores.ts";
import { MetricSeries } from "./metric_downsample.ts";
import { MetricStore } from "./metric_store.ts";
import type { KeyRepository, Storage, StorageEngine } from "./storage/repositories.ts";
import { RateLimiter } from "./rate_limiter.ts";
import { DEFAULT_WORKER_QUOTA_BYTES, StorageQuota } from "./storage_quota.ts";
import { WorkerSessions } from "./worker_sessions.ts";

/** A request body must have arrived this long after its handler starts reading it. */
export const DEFAULT_BODY_TIMEOUT_MS = 60_000;

/** How long metric samples are kept by default: 7 days. */
export const DEFAULT_METRICS_RETENTION_MS = 7 * 24 * 60 * 60_000;
/** Retention pruning runs at most this often. */
const PRUNE_EVERY_MS = 60_000;

/** Id generators; each has a random default. */
export interface IdGenerators {
  /** @default {"key_" + 16 of [a-z0-9]} */
  key?: () => string;
  /** @default {"wkr_" + 24 of [a-z0-9]} (protocol 3.1) */
  worker?: () => string;
  /** @default {crypto.randomUUID} */
  command?: () => string;
}

/** Options of {@linkcode createControlPlane}. */
export interface ControlPlaneOptions {
  /**
   * The database (`openSqliteStorage`, `connectPostgresStorage`); the control plane does not
   * close it.
   */
  storage: StorageEngine;
  /** The doorbell to other instances over the same database. @default {a LocalBus} */
  bus?: ClusterBus;
  /** Names this instance in logs and session ids. @default {a random id} */
  instanceId?: string;
  /** Token of the admin API. */
  adminToken: string;
  /** Base of `websocket_url`, e.g. `http://127.0.0.1:8080` or `https://cp.example.com`. */
  publicUrl: string;
  /** How commands are signed. @default {{alg: "hmac-sha256"}} */
  signing?: SigningMode;
  /** @default {createLogger()} */
  logger?: Logger;
  /** Clock in Unix ms. @default {Date.now} */
  now?: () => number;
  /** Id generators. */
  ids?: IdGenerators;
  /** Handed to workers. @default {30} */
  heartbeatIntervalSeconds?: number;
  /** Handed to workers. @default {10} */
  metricsIntervalSeconds?: number;
  /** Re-send a command not acked within this time. @default {30000} */
  ackTimeoutMs?: number;
  /** A command is delivered for this long after creation. @default {600000} */
  deliveryWindowMs?: number;
  /** Time after `timeout_seconds` for the result to arrive before `timeout`. @default {60000} */
  resultGraceMs?: number;
  /** Server ping interval on WebSockets. @default {20000} */
  pingIntervalMs?: number;
  /** Frames per second one WebSocket session may send before 4029. @default {50} */
  frameRatePerSecond?: number;
  /** Per-key requests per second; 0 disables. @default {20} */
  rateLimitPerSecond?: number;
  /** Per-key burst. @default {2 × rateLimitPerSecond} */
  rateLimitBurst?: number;
  /** Samples older than this (by arrival) are deleted; 0 keeps them. @default {7 days} */
  metricsRetentionMs?: number;
  /** Largest request body. @default {1 MiB} */
  maxBodyBytes?: number;
  /** Deadline for reading a request body, from the start of reading. @default {60000} */
  bodyTimeoutMs?: number;
  /** Stored sample bytes per worker before its samples get 429; 0 turns it off. @default {256 MiB} */
  workerQuotaBytes?: number;
  /** Registers handled at once; more get 503 + `Retry-After` (issue 15). @default {64} */
  maxConcurrentRegisters?: number;
  /** WebSocket upgrades handled at once; more get 503 + `Retry-After`. @default {128} */
  maxConcurrentUpgrades?: number;
}

/** A control plane: the HTTP handler plus its background work. */
export interface ControlPlane {
  /** The app: every request, including WebSocket upgrades, goes here. Never throws. */
  fetch(request: Request, info?: RequestInfo): Promise<Response>;
  /**
   * One sweep: the leader's part ({@linkcode sweepAsLeader}), then WebSocket redelivery to
   * this instance's sessions (every instance).
   */
  sweep(): Promise<void>;
  /**
   * The leader's part of a sweep: command timeouts, offline workers, retention. Runs only
   * when this instance holds the lead (SQLite: always); returns whether it did.
   */
  sweepAsLeader(): Promise<boolean>;
  /** Live WebSocket sessions. */
  readonly sessions: WorkerSessions;
  /** Key storage (used by `keys create`). */
  readonly keys: KeyRepository;
  /** The repositories over the database. */
  readonly storage: Storage;
  /** The doorbell to the other instances. */
  readonly bus: ClusterBus;
  /** Live updates pushed to the dashboard. */
  readonly events: LiveEvents;
  /** The register and upgrade caps (issue 15). */
  readonly admission: AdmissionGates;
  /** Tells every agent to disconnect and closes the sessions (bounded by `signal`). */
  drain(signal?: AbortSignal): Promise<void>;
}

/** Builds a control plane on an open database. */
export function createControlPlane(options: ControlPlaneOptions): ControlPlane {
  const now = options.now ?? Date.now;
  const logger = options.logger ?? createLogger();
  const heartbeatIntervalSeconds = options.heartbeatIntervalSeconds ??
    DEFAULT_HEARTBEAT_INTERVAL_SECONDS;
  const ackTimeoutMs = options.ackTimeoutMs ?? ACK_TIMEOUT_MS;
  const deliveryWindowMs = options.deliveryWindowMs ?? COMMAND_TTL_MS;
  const bus = options.bus ?? new LocalBus();
  const instanceId = options.instanceId ?? randomId("cp_", 12);
  const storage = options.storage.open({
    now,
    ids: {
      key: options.ids?.key ?? (() => randomId("key_", 16)),
      worker: options.ids?.worker ?? (() => randomId("wkr_", 24)),
      command: options.ids?.command ?? (() => crypto.randomUUID()),
    },
    timing: { deliveryWindowMs, resultGraceMs: options.resultGraceMs ?? 60_000 },
  });
  // Every repository reports its changes to the dashboard's live updates (live_stores.ts).
  const events = new LiveEvents();
  const keys = new LiveKeys(storage.keys, events);
  const workers = new LiveWorkers(storage.workers, events);
  const commands = new LiveCommands(storage.commands, events);
  const quota = new StorageQuota(storage.samples, {
    limitBytes: options.workerQuotaBytes ?? DEFAULT_WORKER_QUOTA_BYTES,
    now,
  });
  const metrics = new MetricStore(storage.samples, { quota, events });
  const delivery = new CommandDelivery({
    commands,
    workers,
    keys,
    mode: options.signing ?? { alg: "hmac-sha256" },
    ackTimeoutMs,
    now,
    logger: logger.child({ component: "delivery" }),
  });
  const sessions = new WorkerSessions({
    delivery,
    commands,
    bus,
    instanceId,
    logger: logger.child({ component: "ws" }),
    now,
    heartbeatIntervalSeconds,
    pingIntervalMs: options.pingIntervalMs ?? WS_PING_INTERVAL_MS,
    ...(options.frameRatePerSecond === undefined
      ? {}
      : { frameRatePerSecond: options.frameRatePerSecond }),
  });
  // What the other instances ring about: only this instance's sockets are touched; the
  // database already holds the change.
  bus.subscribe((event: ClusterEvent) => {
    switch (event.kind) {
      case "command_created":
        void sessions.push(event.worker_id);
        break;
      case "session_opened":
        sessions.replacedElsewhere(event.worker_id, event.session_id);
        break;
      case "key_revoked":
        sessions.kickKey(event.key_id);
        break;
      case "worker_deleted":
        metrics.forgetWorker(event.worker_id);
        sessions.kick(event.worker_id, 1000, "worker deleted");
        break;
    }
  });
  // Rate limits are per instance: N instances behind a balancer allow up to N times the rate.
  const rate = options.rateLimitPerSecond ?? 20;
  const limiter = new RateLimiter({
    ratePerSecond: rate,
    burst: options.rateLimitBurst ?? Math.max(1, Math.ceil(rate * 2)),
    now,
  });
  const admission = createAdmissionGates({ ...options, now });
  const fetch = createApp({
    keys,
    workers,
    commands,
    metrics,
    delivery,
    sessions,
    limiter,
    logger,
    now,
    adminToken: options.adminToken,
    publicUrl: options.publicUrl,
    heartbeatIntervalSeconds,
    metricsIntervalSeconds: options.metricsIntervalSeconds ?? DEFAULT_METRICS_INTERVAL_SECONDS,
    maxBodyBytes: options.maxBodyBytes ?? MAX_BODY_BYTES,
    bodyTimeoutMs: options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS,
    quota,
    events,
    fleet: storage.fleet,
    series: new MetricSeries(storage.samples),
    bus,
    ping: () => storage.ping(),
    adminSessions: new AdminSessions({ adminToken: options.adminToken, now }),
    commandDeliveryWindowMs: deliveryWindowMs,
    admission,
  });

  const retentionMs = options.metricsRetentionMs ?? DEFAULT_METRICS_RETENTION_MS;
  let lastPrune = Number.NEGATIVE_INFINITY;
  let leading = false;

  // Issue 15: no worker is marked offline during the first heartbeat interval after a start.
  const offlineSweepOpen = startupGrace({ graceMs: heartbeatIntervalSeconds * 1000, now });
  async function sweepAsLeader(): Promise<boolean> {
    const lead = await storage.leadership.tryLead();
    if (lead !== leading) {
      leading = lead;
      logger.info(lead ? "this instance leads the sweeper" : "this instance no longer leads", {
        instance_id: instanceId,
      });
    }
    if (!lead) return false;
    const timedOut = await commands.sweepTimeouts();
    if (timedOut.length > 0) logger.info("commands timed out", { count: timedOut.length });
    const offline = !offlineSweepOpen() ? [] : await workers.markStaleOffline(
      now() - MISSED_HEARTBEATS_OFFLINE * heartbeatIntervalSeconds * 1000,
    );
    for (const workerId of offline) {
      logger.info("worker offline (missed heartbeats)", { worker_id: workerId });
    }
    if (retentionMs > 0 && now() - lastPrune >= PRUNE_EVERY_MS) {
      lastPrune = now();
      const pruned = await metrics.prune(lastPrune - retentionMs);
      if (pruned > 0) logger.info("old metric samples deleted", { count: pruned });
    }
    return true;
  }

  async function sweep(): Promise<void> {
    try {
      await sweepAsLeader();
    } finally {
      // Every instance pushes to its own sockets, leader or not.
      await sessions.redeliver(ackTimeoutMs);
    }
  }

  return {
    fetch,
    sweep,
    sweepAsLeader,
    sessions,
    keys,
    storage,
    bus,
    events,
    admission,
    drain: async (signal) => {
      // Event streams never end by themselves: close them, or shutdown waits for them.
      events.close();
      await sessions.closeAll({
        reason: "server shutting down",
        retryAfterSeconds: 5,
        ...(signal ? { signal } : {}),
      });
      // Another instance takes the sweeper over at once.
      await storage.leadership.release().catch(() => {});
    },
  };
}
