/**
 * A small TCP load balancer for running several control-plane instances behind one address
 * (`deno task fleet-demo`, the scale-out tests and benches). Each new connection goes to the
 * next backend in round-robin order; a backend whose connect fails (refused, or no answer
 * within the connect timeout) is skipped, marked down for a moment, and the next one is tried.
 * Bytes are piped both ways unchanged (HTTP, WebSocket, anything), and when either side ends
 * or fails both sides are closed. It is layer 4 only: no TLS, no health checks beyond the
 * connect, no stickiness (the protocol needs none: any instance serves any agent).
 *
 * ```sh
 * deno run --allow-net scripts/tcp_balancer.ts --port 8080 127.0.0.1:8081 127.0.0.1:8082
 * ```
 *
 * @module
 */

/** A backend address. */
export interface Backend {
  hostname: string;
  port: number;
}

/** Options of {@linkcode startTcpBalancer}. */
export interface TcpBalancerOptions {
  /** Where connections go, tried in round-robin order. */
  backends: readonly Backend[];
  /** Interface to listen on. @default {"127.0.0.1"} */
  hostname?: string;
  /** Port to listen on; 0 = any free one. @default {0} */
  port?: number;
  /** Give up on a backend's connect after this long. @default {2000} */
  connectTimeoutMs?: number;
  /** A backend whose connect failed is skipped this long (unless all are down). @default {1000} */
  downForMs?: number;
  /** Most client connections open at once; more are closed at accept. @default {20000} */
  maxConnections?: number;
}

/** Counters of a balancer. */
export interface TcpBalancerStats {
  /** Connections accepted. */
  accepted: number;
  /** Connections handed to each backend (`host:port` → count). */
  perBackend: Record<string, number>;
  /** Connect failures per backend. */
  connectFailures: Record<string, number>;
  /** Client connections closed because no backend could be reached. */
  unrouted: number;
  /** Client connections refused for the connection cap. */
  overCap: number;
  /** Open client connections now. */
  open: number;
}

/** A running balancer. */
export interface TcpBalancer {
  readonly hostname: string;
  readonly port: number;
  /** `http://hostname:port` */
  readonly url: string;
  stats(): TcpBalancerStats;
  /** Stops accepting and closes every connection. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const name = (b: Backend) => `${b.hostname}:${b.port}`;

function closeQuietly(conn: Deno.Conn | undefined): void {
  try {
    conn?.close();
  } catch { /* already closed */ }
}

/**
 * Bytes one direction of one connection holds: two per connection, so the cap of connections
 * bounds the balancer's buffers (20,000 × 2 × 16 KiB = 625 MiB at most).
 */
const PUMP_BUFFER_BYTES = 16 * 1024;

/** Copies `from` to `to` until EOF, then half-closes `to`. */
async function pump(from: Deno.TcpConn, to: Deno.TcpConn): Promise<void> {
  const buffer = new Uint8Array(PUMP_BUFFER_BYTES);
  for (let n = await from.read(buffer); n !== null; n = await from.read(buffer)) {
    for (let i = 0; i < n;) i += await to.write(buffer.subarray(i, n));
  }
  await to.closeWrite();
}

/** Starts the balancer; it listens when this returns. */
export function startTcpBalancer(options: TcpBalancerOptions): TcpBalancer {
  if (options.backends.length === 0) throw new RangeError("the balancer needs a backend");
  const hostname = options.hostname ?? "127.0.0.1";
  const connectTimeoutMs = options.connectTimeoutMs ?? 2000;
  const downForMs = options.downForMs ?? 1000;
  const maxConnections = options.maxConnections ?? 20_000;
  const backends = [...options.backends];
  const downUntil = new Map<string, number>();
  const listener = Deno.listen({ hostname, port: options.port ?? 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const open = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  const stats: TcpBalancerStats = {
    accepted: 0,
    perBackend: Object.fromEntries(backends.map((b) => [name(b), 0])),
    connectFailures: Object.fromEntries(backends.map((b) => [name(b), 0])),
    unrouted: 0,
    overCap: 0,
    open: 0,
  };
  let next = 0;
  let closed = false;

  /** The backends in the order to try: round robin, the ones marked down last. */
  function order(): Backend[] {
    const start = next++ % backends.length;
    const rotated = [...backends.slice(start), ...backends.slice(0, start)];
    const now = Date.now();
    const up = rotated.filter((b) => (downUntil.get(name(b)) ?? 0) <= now);
    const down = rotated.filter((b) => (downUntil.get(name(b)) ?? 0) > now);
    return [...up, ...down];
  }

  async function connectTo(backend: Backend): Promise<Deno.TcpConn | undefined> {
    const signal = AbortSignal.timeout(connectTimeoutMs);
    try {
      const conn = await Deno.connect({ hostname: backend.hostname, port: backend.port, signal });
      conn.setNoDelay(true);
      return conn;
    } catch {
      stats.connectFailures[name(backend)] = (stats.connectFailures[name(backend)] ?? 0) + 1;
      downUntil.set(name(backend), Date.now() + downForMs);
      return undefined;
    }
  }

  async function handle(client: Deno.TcpConn): Promise<void> {
    let upstream: Deno.TcpConn | undefined;
    try {
      client.setNoDelay(true);
      for (const backend of order()) {
        if (closed) return;
        upstream = await connectTo(backend);
        if (upstream) {
          downUntil.delete(name(backend));
          stats.perBackend[name(backend)] = (stats.perBackend[name(backend)] ?? 0) + 1;
          break;
        }
      }
      if (!upstream) {
        stats.unrouted++;
        return;
      }
      open.add(upstream);
      const up = upstream;
      // Each direction half-closes its write side when its reader ends (so a half-close
      // passes through); a failure either way closes both connections. Plain read/write
      // loops: a Deno conn's `readable` closes the whole connection at EOF.
      const fail = () => {
        closeQuietly(client);
        closeQuietly(up);
      };
      await Promise.all([pump(client, up).catch(fail), pump(up, client).catch(fail)]);
    } catch {
      // Reset or refused: both sides are closed below.
    } finally {
      closeQuietly(client);
      closeQuietly(upstream);
      open.delete(client);
      if (upstream) open.delete(upstream);
      stats.open--;
    }
  }

  const accepting = (async () => {
    while (!closed) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closed || error instanceof Deno.errors.BadResource) return;
        // Out of descriptors (EMFILE) or a connection reset before accept: a client can cause
        // either, so keep listening (after a breath, so EMFILE does not spin).
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      stats.accepted++;
      if (stats.open >= maxConnections) {
        stats.overCap++;
        closeQuietly(conn);
        continue;
      }
      stats.open++;
      open.add(conn);
      const task = handle(conn).finally(() => tasks.delete(task));
      tasks.add(task);
    }
  })();

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    try {
      listener.close();
    } catch { /* closed */ }
    await accepting;
    for (const conn of open) closeQuietly(conn);
    while (tasks.size > 0) await Promise.allSettled([...tasks]);
  }

  return {
    hostname,
    port,
    url: `http://${hostname}:${port}`,
    stats: () => structuredClone(stats),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** `host:port` → {@linkcode Backend}; throws a clear error for anything else. */
export function parseBackend(text: string): Backend {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  if (!m || !(port >= 1 && port <= 65535)) {
    throw new RangeError(`a backend is host:port, got ${JSON.stringify(text)}`);
  }
  return { hostname: m[1]!.replace(/^\[|\]$/g, ""), port };
}

if (import.meta.main) {
  const args = [...Deno.args];
  let port = 0;
  let hostname = "127.0.0.1";
  const backends: Backend[] = [];
  try {
    while (args.length > 0) {
      const arg = args.shift()!;
      if (arg === "--port") port = Number(args.shift());
      else if (arg === "--hostname") hostname = String(args.shift());
      else if (arg === "--help" || arg === "-h") {
        console.log("usage: tcp_balancer.ts [--hostname H] [--port P] HOST:PORT…");
        Deno.exit(0);
      } else backends.push(parseBackend(arg));
    }
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RangeError("--port must be 0-65535");
    }
    if (backends.length === 0) throw new RangeError("name at least one backend HOST:PORT");
  } catch (error) {
    console.error(`tcp_balancer: ${(error as Error).message}`);
    Deno.exit(2);
  }
  const balancer = startTcpBalancer({ hostname, port, backends });
  console.log(`balancing on ${balancer.url} across ${backends.map(name).join(", ")}`);
  const stop = Promise.withResolvers<void>();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => stop.resolve());
  }
  await stop.promise;
  await balancer.close();
  Deno.exit(0);
}
