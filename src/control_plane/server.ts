/**
 * Serving a control plane on a socket, behind the connection guard, with the sweeper and
 * graceful shutdown.
 */
import { join } from "node:path";
import type { Logger } from "../log/logger.ts";
import { type ControlPlaneOptions, createControlPlane } from "./control_plane.ts";
import { errorResponse } from "./app.ts";
import { ConnectionGuard } from "./connection_guard.ts";
import {
  type ConnectionLimits,
  defaultConnectionLimits,
  openFileLimit,
} from "./connection_limits.ts";
import { secureDataDir, secureDataFiles } from "./data_dir.ts";
import { isLoopbackUrl, WS_PING_INTERVAL_MS } from "./_deps.ts";
import { HttpError } from "./http_error.ts";
import { connectPostgresStorage } from "./storage/postgres/pg_storage.ts";
import type { StorageEngine } from "./storage/repositories.ts";
import { DATABASE_FILE } from "./storage/sqlite/database.ts";
import { openSqliteStorage } from "./storage/sqlite/sqlite_storage.ts";
import { redactUrl } from "./storage/redact_url.ts";

/** Options of {@linkcode serveControlPlane}. */
export interface ServeOptions
  extends Omit<ControlPlaneOptions, "storage" | "publicUrl" | "logger"> {
  /** Interface to bind. @default {"127.0.0.1"} */
  hostname?: string;
  /** Port to bind; 0 picks a free one. @default {8080} */
  port?: number;
  /**
   * Holds `control-plane.db` (unless `databaseUrl` is given) and the admin token; created
   * 0700 when missing, tightened to 0700 when looser.
   */
  dataDir: string;
  /** `postgres://…`: keep state in PostgreSQL instead of SQLite in `dataDir`. */
  databaseUrl?: string;
  /** Most PostgreSQL connections. @default {10} */
  databasePoolSize?: number;
  /**
   * Connection timeouts and caps; what is not given is derived from the open-file limit
   * (see `defaultConnectionLimits`).
   */
  connectionLimits?: Partial<ConnectionLimits>;
  /** Base of `websocket_url`. @default {the listening http URL} */
  publicUrl?: string;
  /** Sweep (timeouts, offline workers, redelivery) this often. @default {1000} */
  sweepIntervalMs?: number;
  /** Logger for requests and events. */
  logger: Logger;
  /** Called once bound, with the listening URL. */
  onListen?: (url: string) => void;
}

/** A serving control plane. */
export interface RunningControlPlane {
  /** `http://<host>:<port>` it listens on. */
  readonly url: string;
  /** The bound port. */
  readonly port: number;
  /**
   * Graceful stop: `disconnect` to every agent, finish in-flight requests, close the
   * database. Safe to call twice.
   */
  shutdown(): Promise<void>;
}

/** Opens the database in `dataDir` and serves the control plane until `shutdown()`. */
export async function serveControlPlane(options: ServeOptions): Promise<RunningControlPlane> {
  const warn = (message: string, fields: Record<string, unknown>) =>
    options.logger.warn(message, fields);
  // Key hashes and signing keys live here (also in SQLite's WAL): owner-only.
  await secureDataDir(options.dataDir, warn);
  const dbPath = join(options.dataDir, DATABASE_FILE);
  let db: StorageEngine;
  if (options.databaseUrl) {
    db = await connectPostgresStorage(options.databaseUrl, {
      logger: options.logger.child({ component: "postgres" }),
      ...(options.databasePoolSize === undefined ? {} : { poolSize: options.databasePoolSize }),
    });
    options.logger.info("storage: postgresql", { url: redactUrl(options.databaseUrl) });
  } else {
    // Before opening too: SQLite creates -wal and -shm with the database file's mode.
    await secureDataFiles(options.dataDir, warn);
    db = openSqliteStorage(dbPath);
    await secureDataFiles(options.dataDir, warn);
  }
  // The fd-limit probe opens a file that exists: on PostgreSQL there is no database file, and a
  // probe of a missing file falls back to the 1024 guess (298 connections).
  const limits = connectionLimitsFor(options, options.databaseUrl ? options.dataDir : dbPath);
  const hostname = options.hostname ?? "127.0.0.1";
  // Set once bound: websocket_url depends on the port, which is known only then.
  const ready: { plane?: ReturnType<typeof createControlPlane>; guard?: ConnectionGuard } = {};
  let server: Deno.HttpServer<Deno.NetAddr>;
  let guard: ConnectionGuard;
  try {
    // The HTTP server listens on loopback only; clients reach it through the guard.
    server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request, info) => {
      const plane = ready.plane;
      const peer = ready.guard?.peerOf(info.remoteAddr.port);
      if (!plane || peer === undefined) {
        const refused = !plane
          ? new HttpError(503, "internal", "Starting up; retry shortly", {
            headers: { "Retry-After": "1" },
          })
          : new HttpError(403, "forbidden", "Connect through the control plane's public port");
        return errorResponse(refused, { now: Date.now, logger: options.logger, path: "" });
      }
      return plane.fetch(request, { remoteAddr: peer });
    });
  } catch (error) {
    await db.close();
    throw new Error(`cannot start the HTTP server: ${(error as Error)?.message ?? error}`, {
      cause: error,
    });
  }
  try {
    guard = new ConnectionGuard({
      hostname,
      port: options.port ?? 8080,
      upstreamPort: server.addr.port,
      limits,
      logger: options.logger.child({ component: "connections" }),
    });
  } catch (error) {
    await server.shutdown();
    await db.close();
    // "Address already in use" alone does not say which address.
    const where = `${hostname}:${options.port ?? 8080}`;
    throw new Error(`cannot listen on ${where}: ${(error as Error)?.message ?? error}`, {
      cause: error,
    });
  }
  ready.guard = guard;
  const port = guard.addr.port;
  const urlHost = hostname.includes(":") ? `[${hostname}]` : hostname;
  const url = `http://${urlHost}:${port}`;
  const publicUrl = options.publicUrl ?? url.replace(/\/\/(0\.0\.0\.0|\[::\])/, "//127.0.0.1");
  if (!options.publicUrl && /^(0\.0\.0\.0|::)$/.test(hostname)) {
    options.logger.warn(
      "listening on all interfaces without --public-url; agents elsewhere " +
        "will be told a loopback websocket_url",
      { public_url: publicUrl },
    );
  }
  if (/^http:\/\//.test(publicUrl) && !isLoopbackUrl(publicUrl)) {
    options.logger.warn(
      "the public URL is plain http on a non-loopback host; agents require https there " +
        "(put a TLS reverse proxy in front and pass --public-url https://…)",
      { public_url: publicUrl },
    );
  }
  const active = createControlPlane({
    ...options,
    storage: db,
    publicUrl,
    logger: options.logger,
  });
  ready.plane = active;
  let sweeping = false;
  const sweepTimer = setInterval(async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      await active.sweep();
    } catch (error) {
      options.logger.error("sweep failed", { error: String(error) });
    } finally {
      sweeping = false;
    }
  }, options.sweepIntervalMs ?? 1000);
  options.onListen?.(url);

  let stopping: Promise<void> | undefined;
  function shutdown(): Promise<void> {
    stopping ??= (async () => {
      clearInterval(sweepTimer);
      guard.stopAccepting();
      await active.drain(AbortSignal.timeout(3000));
      await Promise.race([
        server.shutdown(),
        new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 10_000);
          server.finished.then(() => clearTimeout(t));
        }),
      ]);
      await guard.close();
      // Wait for a sweep that is still running before closing the database under it.
      while (sweeping) await new Promise((resolve) => setTimeout(resolve, 10));
      await db.close();
    })();
    return stopping;
  }
  return { url, port, shutdown };
}

/**
 * The connection limits given, completed with defaults: caps derived from the open-file limit
 * (probed only when `maxConnections` is not given), the body deadline shared with the app,
 * and a WebSocket idle timeout of at least three server ping intervals.
 */
function connectionLimitsFor(options: ServeOptions, probePath: string): ConnectionLimits {
  const given = options.connectionLimits ?? {};
  const fileLimit = given.maxConnections === undefined ? openFileLimit({ probePath }) : 1024;
  const defaults = defaultConnectionLimits(fileLimit);
  if (options.bodyTimeoutMs !== undefined) defaults.bodyTimeoutMs = options.bodyTimeoutMs;
  defaults.tunnelIdleTimeoutMs = Math.max(
    defaults.tunnelIdleTimeoutMs,
    3 * (options.pingIntervalMs ?? WS_PING_INTERVAL_MS),
  );
  const limits = { ...defaults, ...given };
  if (given.maxConnections !== undefined && given.maxConnectionsPerAddress === undefined) {
    limits.maxConnectionsPerAddress = Math.max(16, Math.floor(limits.maxConnections / 8));
  }
  return limits;
}
