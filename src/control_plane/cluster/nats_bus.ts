/**
 * The {@linkcode ClusterBus} over NATS core publish/subscribe (no JetStream: a doorbell that is
 * missed costs one heartbeat interval, since the database stays the truth).
 *
 * - One subject per cluster, `ftl.cp.v1.<cluster>.events` (the control plane names the
 *   cluster after its database, {@linkcode clusterOf}), so two fleets sharing one NATS never
 *   ring each other's bells.
 * - Payload: JSON `{v: 1, origin, sent_at, event}`. What arrives is hostile: bigger than
 *   {@linkcode MAX_EVENT_BYTES}, not JSON, not matching the schema, or older than
 *   `maxAgeMs` (a bell that rings that late could close a session that is newer than it) is
 *   dropped and counted, never handed on. Own events are not delivered back.
 * - `publish` never throws and never waits: while NATS is unreachable the event is dropped
 *   (counted) instead of buffered, so no stale burst follows an outage.
 * - Reconnects forever: the client's own reconnect (bounded wait between tries), and a fresh
 *   connection if the client ever gives up. `connectNatsBus` waits at most `connectTimeoutMs`
 *   for the first connection; past that it returns a bus that is not ready yet and keeps
 *   trying, so a control plane starts (and serves by polling) while NATS is down.
 *
 * @module
 */
import { connect, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { z } from "zod";
import type { Logger } from "../../log/logger.ts";
import { abortableDelay } from "../../shared/delay.ts";
import { redactUrl } from "../storage/redact_url.ts";
import type { ClusterBus, ClusterEvent } from "./cluster_bus.ts";

/** Largest event payload sent or accepted, bytes. */
export const MAX_EVENT_BYTES = 4096;

const id = z.string().min(1).max(128).regex(/^[\x21-\x7e]+$/);

/** A {@linkcode ClusterEvent} as it may arrive: ids are short printable ASCII. */
export const ClusterEventSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("command_created"), worker_id: id, command_id: id }).strict(),
  z.object({ kind: z.literal("session_opened"), worker_id: id, session_id: id }).strict(),
  z.object({ kind: z.literal("key_revoked"), key_id: id }).strict(),
  z.object({ kind: z.literal("worker_deleted"), worker_id: id }).strict(),
]);

/** The envelope on the wire. */
export const ClusterMessageSchema = z.object({
  v: z.literal(1),
  origin: id,
  sent_at: z.number().int().nonnegative(),
  event: ClusterEventSchema,
});

/** Options of {@linkcode connectNatsBus}. */
export interface NatsBusOptions {
  /** `nats://host:port` (credentials in the URL are used, never logged). */
  url: string;
  /** This control plane's id; events it published are not delivered back to it. */
  instanceId: string;
  logger: Logger;
  /** Cluster name in the subject (`[A-Za-z0-9_-]`, at most 64). @default {"default"} */
  cluster?: string;
  /** Longest wait for the first connection before returning a not-ready bus. @default {5000} */
  connectTimeoutMs?: number;
  /** Wait between reconnect attempts (plus up to as much again of jitter). @default {1000} */
  reconnectWaitMs?: number;
  /** Events older than this (by `sent_at`) are dropped on receipt. @default {30000} */
  maxAgeMs?: number;
  /** Clock. @default {Date.now} */
  now?: () => number;
}

/** Counters of a NATS bus, for logs and tests. */
export interface NatsBusCounters {
  published: number;
  /** Published while not connected, or failed to send: dropped. */
  dropped: number;
  received: number;
  /** Arrived too big, not JSON, not matching the schema, or stale. */
  rejected: number;
  /** A subscriber threw (the bus goes on). */
  handlerErrors: number;
}

/** A ClusterBus over NATS, with its counters. */
export interface NatsBus extends ClusterBus {
  readonly subject: string;
  counters(): NatsBusCounters;
}

/** The subject of `cluster`. */
export function natsSubject(cluster = "default"): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cluster)) {
    throw new RangeError(`a cluster name is 1-64 of [A-Za-z0-9_-], got ${JSON.stringify(cluster)}`);
  }
  return `ftl.cp.v1.${cluster}.events`;
}

/** `nats://user:pass@host:port` → server `host:port` and its credentials. */
export function parseNatsUrl(
  url: string,
): { server: string; tls: boolean; user?: string; pass?: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RangeError(`not a NATS URL: ${redactUrl(url)}`);
  }
  if (parsed.protocol !== "nats:" && parsed.protocol !== "tls:") {
    throw new RangeError(`a NATS URL starts with nats:// or tls://, got ${redactUrl(url)}`);
  }
  if (!parsed.hostname) throw new RangeError(`a NATS URL needs a host: ${redactUrl(url)}`);
  const server = `${parsed.hostname}:${parsed.port || "4222"}`;
  const result: { server: string; tls: boolean; user?: string; pass?: string } = {
    server,
    tls: parsed.protocol === "tls:",
  };
  if (parsed.username) result.user = decodeURIComponent(parsed.username);
  if (parsed.password) result.pass = decodeURIComponent(parsed.password);
  return result;
}

/**
 * The cluster name of the instances sharing the database at `databaseUrl`: the database's
 * name (instances may reach one database under different host names, never under different
 * database names), sanitized to the subject's alphabet.
 */
export function clusterOf(databaseUrl: string): string {
  let name = "";
  try {
    name = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ""));
  } catch { /* not a URL: the default */ }
  name = name.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64);
  return name === "" ? "default" : name;
}

/** Connects to NATS (waiting at most `connectTimeoutMs`) and returns the bus. */
export async function connectNatsBus(options: NatsBusOptions): Promise<NatsBus> {
  const subject = natsSubject(options.cluster);
  const target = parseNatsUrl(options.url);
  const logger = options.logger.child({ nats: redactUrl(options.url) });
  const now = options.now ?? Date.now;
  const maxAgeMs = options.maxAgeMs ?? 30_000;
  const waitMs = Math.max(10, options.reconnectWaitMs ?? 1000);
  const origin = id.parse(options.instanceId);
  const encoder = new TextEncoder();
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const handlers: ((event: ClusterEvent) => void)[] = [];
  const counters: NatsBusCounters = {
    published: 0,
    dropped: 0,
    received: 0,
    rejected: 0,
    handlerErrors: 0,
  };
  let connection: NatsConnection | undefined;
  let connected = false;
  let closed = false;
  const stop = new AbortController();
  const firstConnect = Promise.withResolvers<void>();

  function deliver(data: Uint8Array): void {
    counters.received++;
    if (data.byteLength > MAX_EVENT_BYTES) return void counters.rejected++;
    let message: z.infer<typeof ClusterMessageSchema>;
    try {
      const parsed = ClusterMessageSchema.safeParse(JSON.parse(decoder.decode(data)));
      if (!parsed.success) return void counters.rejected++;
      message = parsed.data;
    } catch {
      return void counters.rejected++;
    }
    if (message.origin === origin) return; // our own bell (noEcho covers this too)
    if (Math.abs(now() - message.sent_at) > maxAgeMs) return void counters.rejected++;
    for (const handler of handlers) {
      try {
        handler(message.event as ClusterEvent);
      } catch (error) {
        counters.handlerErrors++;
        logger.warn("cluster event handler failed", { error: String(error) });
      }
    }
  }

  async function watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === "disconnect" || status.type === "reconnecting") {
        if (connected) logger.warn("NATS connection lost; commands wait for heartbeat polling");
        connected = false;
      } else if (status.type === "reconnect") {
        connected = true;
        logger.info("NATS connection back");
      }
    }
  }

  async function consume(subscription: Subscription): Promise<void> {
    for await (const message of subscription) deliver(message.data);
  }

  /** Connects, and connects again whenever the client gives up, until closed. */
  async function run(): Promise<void> {
    let attempt = 0;
    while (!closed) {
      let nc: NatsConnection;
      try {
        nc = await connect({
          servers: target.server,
          ...(target.user === undefined ? {} : { user: target.user }),
          ...(target.pass === undefined ? {} : { pass: target.pass }),
          ...(target.tls ? { tls: {} } : {}),
          name: `ftl-control-plane ${origin}`,
          noEcho: true,
          reconnect: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: waitMs,
          reconnectJitter: waitMs,
          timeout: Math.max(1000, Math.min(options.connectTimeoutMs ?? 5000, 10_000)),
          pingInterval: 10_000,
          maxPingOut: 2,
        });
      } catch (error) {
        if (attempt++ === 0) {
          logger.warn("NATS not reachable; retrying (commands wait for heartbeat polling)", {
            error: String((error as Error).message ?? error),
          });
        }
        await abortableDelay(waitMs + Math.random() * waitMs, stop.signal);
        continue;
      }
      if (closed) {
        await nc.close().catch(() => {});
        return;
      }
      attempt = 0;
      connection = nc;
      const subscription = nc.subscribe(subject);
      const watching = watch(nc).catch(() => {});
      const consuming = consume(subscription).catch(() => {});
      try {
        await nc.flush();
        connected = true;
        logger.info("NATS connected", { subject });
      } catch {
        // The client reconnects by itself; `watch` marks it connected then.
      }
      firstConnect.resolve();
      const end = await nc.closed();
      connected = false;
      connection = undefined;
      await Promise.all([watching, consuming]);
      if (!closed) {
        logger.warn("NATS connection closed; connecting again", {
          error: end ? String(end.message) : undefined,
        });
      }
    }
  }

  const running = run().catch((error) =>
    logger.error("NATS bus stopped", { error: String(error) })
  );
  const timeout = Math.max(0, options.connectTimeoutMs ?? 5000);
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    firstConnect.promise,
    new Promise<void>((resolve) => (timer = setTimeout(resolve, timeout))),
  ]);
  clearTimeout(timer);

  return {
    subject,
    publish(event: ClusterEvent): void {
      try {
        const nc = connection;
        if (!connected || !nc || closed) return void counters.dropped++;
        const payload = encoder.encode(
          JSON.stringify({ v: 1, origin, sent_at: now(), event }),
        );
        if (payload.byteLength > MAX_EVENT_BYTES) return void counters.dropped++;
        nc.publish(subject, payload);
        counters.published++;
      } catch {
        counters.dropped++;
      }
    },
    subscribe(handler: (event: ClusterEvent) => void): void {
      handlers.push(handler);
    },
    ready: () => connected && !closed,
    counters: () => ({ ...counters }),
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      connected = false;
      stop.abort();
      const nc = connection;
      if (nc) {
        // Sends what is buffered, then closes; bounded, since NATS may be gone.
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          nc.drain().catch(() => nc.close()).catch(() => {}),
          new Promise((resolve) => (timer = setTimeout(resolve, 2000))),
        ]);
        clearTimeout(timer);
        await nc.close().catch(() => {});
      }
      await running;
    },
  };
}
