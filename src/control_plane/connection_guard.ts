/**
 * The control plane's public socket: a small TCP front in the process that owns every client
 * connection and hands only complete request headers to the HTTP server (`Deno.serve` on a
 * loopback port), so that a hostile client cannot hold the server's resources.
 *
 * Why a front: `Deno.serve` (Deno 2.9) has no header read timeout, no idle timeout and no
 * connection cap, and when it runs out of file descriptors its accept loop throws and the
 * process ends. `node:http` does not close half-header connections either and would mean
 * giving up `Deno.upgradeWebSocket`. Measured in `docs/control-plane.md` ("Connection
 * hygiene").
 *
 * What it does per connection:
 * - caps open connections in total and per peer address (503 / 429, then close);
 * - a header read timeout: a request's header must be complete within `headerTimeoutMs` of
 *   its first byte (the first request: of the connection opening); until then the connection
 *   costs one descriptor and never reaches the HTTP server;
 * - a body deadline with a minimum rate, an idle keep-alive timeout, and an idle timeout for
 *   upgraded (WebSocket) connections;
 * - failing to accept (out of descriptors or memory) is logged at most once a minute and
 *   retried; nothing a client does can end the process.
 *
 * The HTTP server learns each request's real peer address from {@linkcode ConnectionGuard.peerOf}
 * (keyed by the port of the guard's loopback connection) and refuses connections that did not
 * come through the guard.
 */
import type { Logger } from "../log/logger.ts";
import { type FramerEvent, HttpRequestFramer } from "./_http_request_framer.ts";
import type { ConnectionLimits } from "./connection_limits.ts";

/** Options of {@linkcode ConnectionGuard}. */
export interface ConnectionGuardOptions {
  /** Interface to bind. */
  hostname: string;
  /** Port to bind; 0 picks a free one. */
  port: number;
  /** Loopback port of the HTTP server that complete requests go to. */
  upstreamPort: number;
  /** Timeouts and caps. */
  limits: ConnectionLimits;
  /** Where refusals and accept failures are logged (each kind at most once a minute). */
  logger: Logger;
  /** Clock in ms. @default {Date.now} */
  now?: () => number;
}

type Phase = "header" | "body" | "idle" | "upgrade_wait" | "tunnel";

interface Guarded {
  client: Deno.TcpConn;
  peer: string;
  upstream?: Deno.TcpConn;
  upstreamPort?: number;
  framer: HttpRequestFramer;
  phase: Phase;
  phaseStart: number;
  bodyBytes: number;
  lastActivity: number;
  timer?: ReturnType<typeof setTimeout>;
  /** When the HTTP server started answering a request whose body had not all arrived. */
  answeredEarlyAt: number | undefined;
  /** Whether a complete request header arrived (then the upstream connection is opened). */
  headerSeen: boolean;
  closed: boolean;
}

/** How often one kind of warning is logged at most. */
const LOG_EVERY_MS = 60_000;
/** Bytes read at once from either side of a connection. */
const READ_BUFFER_BYTES = 16 * 1024;
/**
 * How long a client may go on sending a body after the server answered without reading it
 * (a 401 or 413, say) before the connection is closed.
 */
const EARLY_ANSWER_LINGER_MS = 2000;
/** How long a refused connection may take to send its request before it is answered. */
const LINGER_MS = 500;
/** Refused connections waiting for their request at once at most; more are closed at once. */
const MAX_LINGERING = 64;
/** Longest wait for writing a refusal or timeout answer before just closing. */
const ANSWER_WRITE_MS = 1000;

/** The guarded public listener. */
export class ConnectionGuard {
  #listener: Deno.TcpListener;
  #options: ConnectionGuardOptions;
  #limits: ConnectionLimits;
  #now: () => number;
  #open = new Set<Guarded>();
  #perAddress = new Map<string, number>();
  #peers = new Map<number, string>();
  #lastLogged = new Map<string, { at: number; suppressed: number }>();
  #closing = false;
  #lingering = 0;
  #accepting: Promise<void>;

  /** Binds `hostname:port` and starts accepting. Throws when the address is not available. */
  constructor(options: ConnectionGuardOptions) {
    this.#listener = Deno.listen({ hostname: options.hostname, port: options.port });
    this.#options = options;
    this.#limits = options.limits;
    this.#now = options.now ?? Date.now;
    this.#accepting = this.#acceptLoop();
  }

  /** The bound address. */
  get addr(): Deno.NetAddr {
    return this.#listener.addr;
  }

  /** Open client connections. */
  get openConnections(): number {
    return this.#open.size;
  }

  /**
   * The client address behind the guard's loopback connection from `upstreamLocalPort`, or
   * undefined when no such connection came through the guard.
   */
  peerOf(upstreamLocalPort: number): string | undefined {
    return this.#peers.get(upstreamLocalPort);
  }

  /** Stops accepting new connections; open ones go on. */
  stopAccepting(): void {
    if (this.#closing) return;
    this.#closing = true;
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
  }

  /** Stops accepting and closes every connection. */
  async close(): Promise<void> {
    this.stopAccepting();
    for (const guarded of [...this.#open]) this.#close(guarded);
    await this.#accepting;
  }

  async #acceptLoop(): Promise<void> {
    while (!this.#closing) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#closing) return;
        // EMFILE/ENFILE/ENOMEM: the connection waits in the kernel's backlog meanwhile.
        this.#warn("accept", "cannot accept a connection; retrying", {
          error: String(error),
          open_connections: this.#open.size,
        });
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      try {
        this.#admit(conn);
      } catch (error) {
        // Out of memory for this connection, say: drop it, keep serving.
        this.#warn("admit", "could not take a connection", { error: String(error) });
        closeQuietly(conn);
      }
    }
  }

  #admit(client: Deno.TcpConn): void {
    const peer = client.remoteAddr.hostname;
    const { maxConnections, maxConnectionsPerAddress } = this.#limits;
    if (this.#open.size >= maxConnections) {
      this.#warn("cap_total", "connection limit reached; refusing connections", {
        max_connections: maxConnections,
      });
      void this.#refuse(client, 503, "internal", "Too many connections; retry shortly");
      return;
    }
    const fromPeer = this.#perAddress.get(peer) ?? 0;
    if (maxConnectionsPerAddress > 0 && fromPeer >= maxConnectionsPerAddress) {
      this.#warn("cap_address", "per-address connection limit reached; refusing connections", {
        peer,
        max_connections_per_address: maxConnectionsPerAddress,
      });
      void this.#refuse(client, 429, "rate_limited", "Too many connections from this address");
      return;
    }
    this.#perAddress.set(peer, fromPeer + 1);
    const now = this.#now();
    const guarded: Guarded = {
      client,
      peer,
      framer: new HttpRequestFramer({ maxHeaderBytes: this.#limits.maxHeaderBytes }),
      phase: "header",
      phaseStart: now,
      bodyBytes: 0,
      lastActivity: now,
      answeredEarlyAt: undefined,
      headerSeen: false,
      closed: false,
    };
    this.#open.add(guarded);
    setNoDelay(client);
    this.#arm(guarded);
    void this.#pumpClient(guarded).catch((error) => {
      this.#warn("connection", "connection failed", { error: String(error) });
      this.#close(guarded);
    });
  }

  /**
   * Answers a connection over a cap and closes it. The answer waits (briefly) for the client's
   * request and reads it: an HTTP client takes an answer before its request as a protocol
   * error, and closing with the request unread sends a reset that can overtake the answer.
   * Only a few connections wait like this at once: beyond that, under a flood, they are closed
   * at once without an answer.
   */
  async #refuse(client: Deno.TcpConn, status: number, code: string, message: string) {
    if (this.#lingering >= MAX_LINGERING) {
      closeQuietly(client);
      return;
    }
    this.#lingering++;
    try {
      await readSome(client, LINGER_MS);
      await answer(client, status, code, message, { "Retry-After": "5" });
    } finally {
      this.#lingering--;
      closeQuietly(client);
    }
  }

  /** Client → upstream: times the request phases and forwards every byte. */
  async #pumpClient(guarded: Guarded): Promise<void> {
    const buffer = new Uint8Array(READ_BUFFER_BYTES);
    let held: Uint8Array[] = [];
    while (!guarded.closed) {
      let n: number | null;
      try {
        n = await guarded.client.read(buffer);
      } catch {
        n = null;
      }
      if (n === null || guarded.closed) break;
      const data = buffer.subarray(0, n);
      guarded.lastActivity = this.#now();
      if (guarded.phase !== "tunnel") {
        if (!this.#onEvents(guarded, guarded.framer.push(data))) return;
      }
      if (guarded.upstream) {
        if (!await writeAll(guarded.upstream, data)) break;
        continue;
      }
      held.push(data.slice());
      // The first complete header opens the upstream connection; until then the
      // connection costs the HTTP server nothing.
      if (!guarded.headerSeen) continue;
      if (!await this.#connectUpstream(guarded)) return;
      for (const chunk of held) {
        if (!await writeAll(guarded.upstream!, chunk)) break;
      }
      held = [];
    }
    // The client finished sending (or hung up): let the response finish, then close.
    if (!guarded.upstream || guarded.closed) {
      this.#close(guarded);
      return;
    }
    try {
      await guarded.upstream.closeWrite();
    } catch {
      this.#close(guarded);
    }
  }

  async #connectUpstream(guarded: Guarded): Promise<boolean> {
    let upstream: Deno.TcpConn;
    try {
      upstream = await Deno.connect({ hostname: "127.0.0.1", port: this.#options.upstreamPort });
    } catch (error) {
      this.#warn("upstream", "cannot open a connection to the HTTP server", {
        error: String(error),
        open_connections: this.#open.size,
      });
      await answer(guarded.client, 503, "internal", "Server busy; retry shortly", {
        "Retry-After": "5",
      });
      this.#close(guarded);
      return false;
    }
    if (guarded.closed) {
      closeQuietly(upstream);
      return false;
    }
    setNoDelay(upstream);
    guarded.upstream = upstream;
    guarded.upstreamPort = upstream.localAddr.port;
    this.#peers.set(guarded.upstreamPort, guarded.peer);
    void this.#pumpUpstream(guarded, upstream);
    return true;
  }

  /** Upstream → client: forwards every byte, notices a switch to WebSocket. */
  async #pumpUpstream(guarded: Guarded, upstream: Deno.TcpConn): Promise<void> {
    try {
      const buffer = new Uint8Array(READ_BUFFER_BYTES);
      while (!guarded.closed) {
        let n: number | null;
        try {
          n = await upstream.read(buffer);
        } catch {
          n = null;
        }
        if (n === null || guarded.closed) break;
        const data = buffer.subarray(0, n);
        guarded.lastActivity = this.#now();
        if (guarded.phase === "body" && guarded.answeredEarlyAt === undefined) {
          // Answered (401, 413…) before the body was read: the rest gets a short linger.
          guarded.answeredEarlyAt = guarded.lastActivity;
          this.#arm(guarded);
        }
        if (guarded.phase === "upgrade_wait") {
          if (startsWith(data, SWITCHING_PROTOCOLS)) {
            this.#enter(guarded, "tunnel");
          } else {
            this.#enter(guarded, "idle");
            if (!this.#onEvents(guarded, guarded.framer.resume())) return;
          }
        }
        if (!await writeAll(guarded.client, data)) break;
        guarded.lastActivity = this.#now();
      }
    } catch (error) {
      this.#warn("connection", "connection failed", { error: String(error) });
    }
    this.#close(guarded);
  }

  /** Applies framer events; false when the connection was closed for a bad request. */
  #onEvents(guarded: Guarded, events: FramerEvent[]): boolean {
    for (const event of events) {
      switch (event.kind) {
        case "header_start":
          if (guarded.phase === "idle") this.#enter(guarded, "header");
          break;
        case "header_end":
          guarded.headerSeen = true;
          this.#enter(guarded, event.hasBody ? "body" : event.upgrade ? "upgrade_wait" : "idle");
          break;
        case "body":
          if (guarded.phase === "body") guarded.bodyBytes += event.bytes;
          break;
        case "request_end":
          if (guarded.phase !== "upgrade_wait") this.#enter(guarded, "idle");
          break;
        case "error":
          void this.#timeOut(guarded, event.status, event.message);
          return false;
      }
    }
    return true;
  }

  #enter(guarded: Guarded, phase: Phase): void {
    guarded.phase = phase;
    guarded.phaseStart = this.#now();
    guarded.bodyBytes = 0;
    guarded.answeredEarlyAt = undefined;
    this.#arm(guarded);
  }

  /** When the current phase runs out of time, as Unix ms. */
  #deadline(guarded: Guarded): number {
    const limits = this.#limits;
    switch (guarded.phase) {
      case "header":
        return guarded.phaseStart + limits.headerTimeoutMs;
      case "body": {
        const byRate = guarded.phaseStart + limits.headerTimeoutMs +
          guarded.bodyBytes / Math.max(1, limits.bodyMinBytesPerSecond) * 1000;
        const linger = guarded.answeredEarlyAt === undefined
          ? Number.POSITIVE_INFINITY
          : guarded.answeredEarlyAt + EARLY_ANSWER_LINGER_MS;
        return Math.min(guarded.phaseStart + limits.bodyTimeoutMs, byRate, linger);
      }
      case "idle":
      case "upgrade_wait":
        return guarded.lastActivity + limits.idleTimeoutMs;
      case "tunnel":
        return guarded.lastActivity + limits.tunnelIdleTimeoutMs;
    }
  }

  #arm(guarded: Guarded): void {
    clearTimeout(guarded.timer);
    if (guarded.closed) return;
    const wait = Math.max(0, this.#deadline(guarded) - this.#now());
    guarded.timer = setTimeout(() => this.#check(guarded), wait + 1);
  }

  #check(guarded: Guarded): void {
    if (guarded.closed) return;
    if (this.#now() < this.#deadline(guarded)) {
      this.#arm(guarded);
      return;
    }
    if (guarded.phase === "header") {
      void this.#timeOut(guarded, 408, "The request header did not arrive in time");
    } else if (guarded.phase === "body") {
      void this.#timeOut(guarded, 408, "The request body arrived too slowly", false);
    } else {
      this.#close(guarded);
    }
  }

  /** Answers a request that is refused before the HTTP server saw it, then closes. */
  async #timeOut(guarded: Guarded, status: number, message: string, reply = true) {
    clearTimeout(guarded.timer);
    // Once the request reached the HTTP server, it may be answering already: just close.
    if (reply && !guarded.upstream) {
      await answer(guarded.client, status, "invalid_request", message, { Connection: "close" });
    }
    this.#close(guarded);
  }

  #close(guarded: Guarded): void {
    if (guarded.closed) return;
    guarded.closed = true;
    clearTimeout(guarded.timer);
    closeQuietly(guarded.client);
    if (guarded.upstream) closeQuietly(guarded.upstream);
    if (guarded.upstreamPort !== undefined) this.#peers.delete(guarded.upstreamPort);
    this.#open.delete(guarded);
    const left = (this.#perAddress.get(guarded.peer) ?? 1) - 1;
    if (left > 0) this.#perAddress.set(guarded.peer, left);
    else this.#perAddress.delete(guarded.peer);
  }

  /** Logs a warning of kind `kind` at most once a minute, counting the ones left out. */
  #warn(kind: string, message: string, fields: Record<string, unknown>): void {
    const now = this.#now();
    const last = this.#lastLogged.get(kind);
    if (last && now - last.at < LOG_EVERY_MS) {
      last.suppressed++;
      return;
    }
    this.#lastLogged.set(kind, { at: now, suppressed: 0 });
    this.#options.logger.warn(message, {
      ...fields,
      ...(last && last.suppressed > 0 ? { repeated: last.suppressed } : {}),
    });
  }
}

const SWITCHING_PROTOCOLS = new TextEncoder().encode("HTTP/1.1 101");

function startsWith(data: Uint8Array, prefix: Uint8Array): boolean {
  if (data.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (data[i] !== prefix[i]) return false;
  return true;
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<boolean> {
  try {
    let offset = 0;
    while (offset < data.length) offset += await conn.write(data.subarray(offset));
    return true;
  } catch {
    return false;
  }
}

/** Writes a small JSON error answer, giving up after {@linkcode ANSWER_WRITE_MS}. */
async function answer(
  conn: Deno.Conn,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string>,
): Promise<void> {
  const body = JSON.stringify({ error: message, code, server_time: Date.now() });
  const head = [
    `HTTP/1.1 ${status} ${REASONS[status] ?? "Error"}`,
    "Content-Type: application/json",
    `Content-Length: ${new TextEncoder().encode(body).byteLength}`,
    "Connection: close",
    ...Object.entries(headers).filter(([k]) => k !== "Connection").map(([k, v]) => `${k}: ${v}`),
  ].join("\r\n");
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    writeAll(conn, new TextEncoder().encode(`${head}\r\n\r\n${body}`)),
    new Promise((resolve) => timer = setTimeout(resolve, ANSWER_WRITE_MS)),
  ]);
  clearTimeout(timer);
}

const REASONS: Record<number, string> = {
  400: "Bad Request",
  408: "Request Timeout",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  503: "Service Unavailable",
};

/** Waits up to `ms` for the peer to send something (read and dropped). */
async function readSome(conn: Deno.TcpConn, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      conn.read(new Uint8Array(4096)),
      new Promise((resolve) => timer = setTimeout(resolve, ms)),
    ]);
  } catch {
    // Closed by the peer.
  } finally {
    clearTimeout(timer);
  }
}

function setNoDelay(conn: Deno.TcpConn): void {
  try {
    conn.setNoDelay(true);
  } catch {
    // Closed already.
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Closed already.
  }
}
