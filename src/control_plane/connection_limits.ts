/**
 * Connection hygiene settings of the control plane and their defaults. The connection caps
 * are derived from the process's open-file limit, so that the process never runs out of
 * descriptors because of clients.
 */

/** Timeouts and caps of the connection guard (see `connection_guard.ts`). */
export interface ConnectionLimits {
  /** A request's line and headers must have arrived this long after its first byte (for the
   * first request: after the connection opened). */
  headerTimeoutMs: number;
  /** A request body must have arrived this long after its header. */
  bodyTimeoutMs: number;
  /** After the first `headerTimeoutMs` of a body, it must keep arriving at this average rate
   * (bytes per second). */
  bodyMinBytesPerSecond: number;
  /** A keep-alive connection with no request in progress and no bytes either way for this
   * long is closed. */
  idleTimeoutMs: number;
  /** An upgraded (WebSocket) connection with no bytes either way for this long is closed. */
  tunnelIdleTimeoutMs: number;
  /** Largest request line plus headers, in bytes; more is a 431. */
  maxHeaderBytes: number;
  /** Open client connections at most; more are answered 503 and closed. */
  maxConnections: number;
  /** Open client connections per peer address at most (0: no per-address cap); more are
   * answered 429 and closed. */
  maxConnectionsPerAddress: number;
}

/** Descriptors kept free of client connections (database, WAL, logs, listeners, DNS…). */
export const RESERVED_DESCRIPTORS = 128;
/**
 * Descriptors one client connection can hold: its socket, and once it sent a complete header
 * the guard's connection to the HTTP server and that server's end of it.
 */
export const DESCRIPTORS_PER_CONNECTION = 3;
/** The limit assumed when it can be neither read nor probed (systemd's default soft limit). */
export const UNKNOWN_OPEN_FILE_LIMIT = 1024;
/** Most client connections the defaults allow, however high the open-file limit. */
export const MAX_DEFAULT_CONNECTIONS = 4096;
/** Open-file limit beyond which the defaults no longer change. */
export const OPEN_FILE_LIMIT_CEILING = RESERVED_DESCRIPTORS +
  DESCRIPTORS_PER_CONNECTION * MAX_DEFAULT_CONNECTIONS;

/**
 * Defaults for a process allowed `openFileLimit` descriptors:
 * `maxConnections = (limit - 128) / 3` (between 16 and 4096) and a per-address cap of an
 * eighth of that (at least 16).
 */
export function defaultConnectionLimits(openFileLimit: number): ConnectionLimits {
  const usable = Math.max(0, Math.floor(openFileLimit) - RESERVED_DESCRIPTORS);
  const maxConnections = Math.min(
    MAX_DEFAULT_CONNECTIONS,
    Math.max(16, Math.floor(usable / DESCRIPTORS_PER_CONNECTION)),
  );
  return {
    headerTimeoutMs: 10_000,
    bodyTimeoutMs: 60_000,
    bodyMinBytesPerSecond: 1024,
    idleTimeoutMs: 30_000,
    tunnelIdleTimeoutMs: 60_000,
    maxHeaderBytes: 32 * 1024,
    maxConnections,
    maxConnectionsPerAddress: Math.max(16, Math.floor(maxConnections / 8)),
  };
}

/** Options of {@linkcode openFileLimit}. */
export interface OpenFileLimitOptions {
  /** A file this process may read, opened repeatedly when the limit must be probed. */
  probePath: string;
  /** Stop probing at this many descriptors. @default {OPEN_FILE_LIMIT_CEILING} */
  ceiling?: number;
  /** @default {Deno.readTextFileSync} */
  readTextFile?: (path: string) => string;
  /** @default {Deno.openSync} */
  open?: (path: string) => { close(): void };
  /** @default {Deno.build.os} */
  os?: string;
}

/**
 * The limit on open files of this process, up to `ceiling` (beyond it the defaults do not
 * change). Deno raises its soft limit to the hard one at start, so the soft limit is what
 * applies. Read from `/proc/self/limits` where that is allowed (Deno allows it only under
 * `--allow-all`); otherwise probed by opening `probePath` until the system refuses or
 * `ceiling` handles are open, then closing them all (about 15 µs per handle). Windows has no
 * such limit on sockets: `ceiling` there.
 */
export function openFileLimit(options: OpenFileLimitOptions): number {
  const ceiling = options.ceiling ?? OPEN_FILE_LIMIT_CEILING;
  if ((options.os ?? Deno.build.os) === "windows") return ceiling;
  try {
    const text = (options.readTextFile ?? Deno.readTextFileSync)("/proc/self/limits");
    const value = /^Max open files\s+(\S+)/m.exec(text)?.[1];
    if (value === "unlimited") return ceiling;
    const n = Number(value);
    if (Number.isFinite(n) && n > 0) return Math.min(n, ceiling);
  } catch {
    // Not Linux, or not allowed: probe.
  }
  const open = options.open ?? Deno.openSync;
  const held: { close(): void }[] = [];
  try {
    while (held.length < ceiling) held.push(open(options.probePath));
  } catch {
    // The limit (or an unreadable probe file, which the count then shows).
  } finally {
    for (const file of held) file.close();
  }
  if (held.length === 0) return UNKNOWN_OPEN_FILE_LIMIT; // the probe file could not be opened
  // Descriptors open before the probe (stdio, the database, listeners…) count too.
  return held.length >= ceiling ? ceiling : held.length + 16;
}
