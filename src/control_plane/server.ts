/** Serving a control plane on a socket, with the sweeper and graceful shutdown. */
import { join } from "node:path";
import type { Logger } from "../log/logger.ts";
import { type ControlPlaneOptions, createControlPlane } from "./control_plane.ts";
import { errorResponse } from "./app.ts";
import { DATABASE_FILE, openDatabase } from "./database.ts";
import { HttpError } from "./http_error.ts";

/** Options of {@linkcode serveControlPlane}. */
export interface ServeOptions extends Omit<ControlPlaneOptions, "db" | "publicUrl" | "logger"> {
  /** Interface to bind. @default {"127.0.0.1"} */
  hostname?: string;
  /** Port to bind; 0 picks a free one. @default {8080} */
  port?: number;
  /** Holds `control-plane.db`; created (0700) when missing. */
  dataDir: string;
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
  await Deno.mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const dbPath = join(options.dataDir, DATABASE_FILE);
  const db = openDatabase(dbPath);
  // Key hashes and signing keys live here: owner-only, like the admin token.
  await Deno.chmod(dbPath, 0o600).catch(() => {});
  const hostname = options.hostname ?? "127.0.0.1";
  const bound = Promise.withResolvers<number>();
  // Set once bound: websocket_url depends on the port, which is known only then.
  const ready: { plane?: ReturnType<typeof createControlPlane> } = {};
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname,
      port: options.port ?? 8080,
      onListen: (addr) => bound.resolve(addr.port),
    }, (request, info) => {
      const plane = ready.plane;
      if (!plane) {
        const starting = new HttpError(503, "internal", "Starting up; retry shortly", {
          headers: { "Retry-After": "1" },
        });
        return errorResponse(starting, { now: Date.now, logger: options.logger, path: "" });
      }
      return plane.fetch(request, { remoteAddr: info.remoteAddr.hostname });
    });
  } catch (error) {
    db.close();
    // "Address already in use" alone does not say which address.
    const where = `${hostname}:${options.port ?? 8080}`;
    throw new Error(`cannot listen on ${where}: ${(error as Error)?.message ?? error}`, {
      cause: error,
    });
  }
  const port = await bound.promise;
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
  const active = createControlPlane({ ...options, db, publicUrl, logger: options.logger });
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
      await active.drain(AbortSignal.timeout(3000));
      await Promise.race([
        server.shutdown(),
        new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 10_000);
          server.finished.then(() => clearTimeout(t));
        }),
      ]);
      // Wait for a sweep that is still running before closing the database under it.
      while (sweeping) await new Promise((resolve) => setTimeout(resolve, 10));
      db.close();
    })();
    return stopping;
  }
  return { url, port, shutdown };
}

function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}
