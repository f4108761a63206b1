/**
 * The WebSocket command channel (protocol 3.5): one live session per worker, command push,
 * acks, redelivery, keepalive pings both ways, and `disconnect` on drain.
 */
import {
  AgentFrameSchema,
  CloseCode,
  MAX_FRAME_BYTES,
  parseJson,
  WS_MAX_MISSED_PONGS,
} from "./_deps.ts";
import type { Logger } from "../log/logger.ts";
import type { CommandDelivery } from "./command_delivery.ts";
import type { ClusterBus } from "./cluster/cluster_bus.ts";
import type { CommandRepository } from "./storage/repositories.ts";
import { RateLimiter } from "./rate_limiter.ts";

/** Commands pushed per batch when a session opens or a tick finds work. */
const PUSH_BATCH = 50;
/**
 * Most frames a session may send without spending its frame budget: each command pushed
 * grants one (for its ack), so a burst of commands never closes a well-behaved session with
 * 4029. Capped, so that an agent that never acks cannot save up a flood.
 */
const MAX_ACK_CREDITS = 4 * PUSH_BATCH;

/** Options of {@linkcode WorkerSessions}. */
export interface WorkerSessionsOptions {
  delivery: CommandDelivery;
  commands: CommandRepository;
  logger: Logger;
  /** Told when a session opens here, so another instance closes its older one (4008). */
  bus?: ClusterBus;
  /** Names this instance in session ids. @default {a random id} */
  instanceId?: string;
  now: () => number;
  /** Sent in `welcome`. */
  heartbeatIntervalSeconds: number;
  /** The server pings every session this often. @default {20000} */
  pingIntervalMs: number;
  /** Frames per second a session may send before it is closed with 4029. @default {50} */
  frameRatePerSecond?: number;
}

interface Session {
  id: number;
  workerId: string;
  keyId: string;
  socket: WebSocket;
  missedPongs: number;
  /** Frames this session may still send for free (see {@linkcode MAX_ACK_CREDITS}). */
  ackCredits: number;
  /** Serialises pushes so a tick and a new command do not interleave. */
  pushing: Promise<void>;
  /**
   * Calls waiting for the push queued behind the running one (0: none queued). Further calls
   * join it instead of chaining more, so a burst of bells (local or from the bus) holds one
   * promise, and claims only while batches come back full.
   */
  pushCalls: number;
  /** Set when the session was kicked before it opened; it is closed on open. */
  kicked?: { code: number; reason: string };
  /** When the socket opened (Unix ms), to tell the newer of two sessions across instances. */
  openedAt?: number;
}

/** Live WebSocket sessions, at most one per worker. */
export class WorkerSessions {
  #options: WorkerSessionsOptions;
  #sessions = new Map<string, Session>();
  /** Accepted upgrades whose socket has not opened yet. */
  #opening = new Set<Session>();
  #nextId = 1;
  #instanceId: string;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #frames: RateLimiter;
  #closing = false;

  /** Creates the session registry; no timer runs until a session opens. */
  constructor(options: WorkerSessionsOptions) {
    this.#options = options;
    this.#instanceId = options.instanceId ?? crypto.randomUUID();
    this.#frames = new RateLimiter({
      ratePerSecond: options.frameRatePerSecond ?? 50,
      burst: (options.frameRatePerSecond ?? 50) * 2,
      now: options.now,
    });
  }

  /** Number of live sessions. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Whether `workerId` has a live session. */
  has(workerId: string): boolean {
    return this.#sessions.has(workerId);
  }

  /**
   * Upgrades `request` (already authenticated for `workerId`) and registers the session,
   * replacing an older one of the same worker with close code 4008.
   */
  accept(request: Request, auth: { workerId: string; keyId: string }): Response {
    const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
    const session: Session = {
      id: this.#nextId++,
      workerId: auth.workerId,
      keyId: auth.keyId,
      socket,
      missedPongs: 0,
      ackCredits: 0,
      pushing: Promise.resolve(),
      pushCalls: 0,
    };
    const log = this.#options.logger.child({ worker_id: auth.workerId, session: session.id });
    this.#opening.add(session);
    socket.onopen = () => {
      this.#opening.delete(session);
      if (session.kicked) {
        // Its key was revoked or its worker deleted between the upgrade and now.
        closeQuietly(socket, session.kicked.code, session.kicked.reason);
        return;
      }
      if (this.#closing) {
        this.#send(session, {
          type: "disconnect",
          reason: "server shutting down",
          retry_after_seconds: 5,
        });
        socket.close(CloseCode.goingAway, "server shutting down");
        return;
      }
      const old = this.#sessions.get(auth.workerId);
      this.#sessions.set(auth.workerId, session);
      if (old) {
        log.info("session replaced", { old_session: old.id });
        closeQuietly(old.socket, CloseCode.replaced, "replaced by a newer session");
      }
      this.#ensurePingTimer();
      this.#send(session, {
        type: "welcome",
        worker_id: auth.workerId,
        heartbeat_interval_seconds: this.#options.heartbeatIntervalSeconds,
        server_time: this.#options.now(),
      });
      log.info("session open");
      session.openedAt = this.#options.now();
      this.#announce(session);
      void this.push(auth.workerId);
    };
    socket.onmessage = (event) => {
      // An exception here would be uncaught and end the process: log it, keep the session.
      this.#onMessage(session, event, log).catch((error) => {
        log.error("frame handling failed", { error: String(error) });
      });
    };
    socket.onclose = (event) => {
      // Deno reports an abnormal close (no close frame) as code 0.
      log.info("session closed", { code: event.code || 1006 });
      this.#opening.delete(session);
      this.#forget(session);
    };
    socket.onerror = () => {};
    return response;
  }

  /** Sends `workerId`'s due commands over its session, if it has one. */
  push(workerId: string): Promise<void> {
    const session = this.#sessions.get(workerId);
    if (!session) return Promise.resolve();
    if (session.pushCalls++ > 0) return session.pushing;
    session.pushing = session.pushing.then(async () => {
      // Each call that joined may take a batch, as if it had run alone; a batch that is not
      // full leaves nothing due, so the rest would claim nothing.
      let calls = session.pushCalls;
      session.pushCalls = 0;
      for (let taken = PUSH_BATCH; taken === PUSH_BATCH && calls > 0; calls--) {
        if (
          this.#sessions.get(workerId) !== session ||
          session.socket.readyState !== WebSocket.OPEN
        ) {
          return;
        }
        const commands = await this.#options.delivery.take(workerId, PUSH_BATCH, {
          via: "websocket",
        });
        for (const command of commands) {
          this.#send(session, { type: "command", command });
          session.ackCredits = Math.min(MAX_ACK_CREDITS, session.ackCredits + 1);
        }
        taken = commands.length;
      }
    }).catch((error) => {
      this.#options.logger.error("command push failed", {
        worker_id: workerId,
        error: String(error),
      });
    });
    return session.pushing;
  }

  /** Pushes to every connected worker that has due commands (new or not acked in time). */
  async redeliver(ackTimeoutMs: number): Promise<void> {
    if (this.#sessions.size === 0) return;
    const due = await this.#options.commands.workersWithDeliverable(ackTimeoutMs);
    await Promise.all(due.filter((id) => this.#sessions.has(id)).map((id) => this.push(id)));
  }

  /** Closes the session of `workerId` (e.g. its key was revoked or it was deleted). */
  kick(workerId: string, code: number, reason: string): void {
    for (const opening of this.#opening) {
      if (opening.workerId === workerId) opening.kicked = { code, reason };
    }
    const session = this.#sessions.get(workerId);
    if (!session) return;
    this.#forget(session);
    closeQuietly(session.socket, code, reason);
  }

  /**
   * Another instance opened a session of `workerId` (`session_opened` on the bus). The older of
   * the two is closed with 4008 (replaced), as a local reconnect would: a session here that
   * opened before it is closed; one that opened after it (the event came late) stays, and is
   * announced again so that the other instance closes its older one. Session ids are
   * `<instance>:<n>:<opened at ms>`; an id without a time counts as newer.
   */
  replacedElsewhere(workerId: string, sessionId: string): void {
    if (sessionId.startsWith(`${this.#instanceId}:`)) return; // our own
    const session = this.#sessions.get(workerId);
    if (!session) return;
    const theirs = Number(sessionId.split(":").at(-1));
    const ours = session.openedAt ?? 0;
    if (Number.isFinite(theirs) && theirs > 1e12 && ours > theirs) {
      this.#announce(session);
      return;
    }
    this.#options.logger.info("session replaced on another instance", {
      worker_id: workerId,
      session: session.id,
      by: sessionId,
    });
    this.#forget(session);
    closeQuietly(session.socket, CloseCode.replaced, "replaced by a newer session");
  }

  #announce(session: Session): void {
    this.#options.bus?.publish({
      kind: "session_opened",
      worker_id: session.workerId,
      session_id: `${this.#instanceId}:${session.id}:${session.openedAt ?? 0}`,
    });
  }

  /** Closes the sessions bound to `keyId` (the key was revoked). */
  kickKey(keyId: string): void {
    for (const opening of this.#opening) {
      if (opening.keyId === keyId) {
        opening.kicked = { code: CloseCode.unauthorized, reason: "key revoked" };
      }
    }
    for (const session of [...this.#sessions.values()]) {
      if (session.keyId === keyId) {
        this.kick(session.workerId, CloseCode.unauthorized, "key revoked");
      }
    }
  }

  /**
   * Sends `disconnect` to every session, closes them with 1001, refuses new ones, and
   * waits (bounded by `signal`) until they are gone.
   */
  async closeAll(
    options: { reason: string; retryAfterSeconds: number; signal?: AbortSignal },
  ): Promise<void> {
    this.#closing = true;
    const sessions = [...this.#sessions.values()];
    const closed = sessions.map((session) => {
      const done = Promise.withResolvers<void>();
      if (session.socket.readyState === WebSocket.CLOSED) done.resolve();
      session.socket.addEventListener("close", () => done.resolve());
      this.#send(session, {
        type: "disconnect",
        reason: options.reason,
        retry_after_seconds: options.retryAfterSeconds,
      });
      closeQuietly(session.socket, CloseCode.goingAway, options.reason);
      return done.promise;
    });
    const aborted = Promise.withResolvers<void>();
    options.signal?.addEventListener("abort", () => aborted.resolve(), { once: true });
    if (options.signal?.aborted) aborted.resolve();
    await Promise.race([Promise.all(closed), aborted.promise]);
    this.#sessions.clear();
    this.#stopPingTimer();
  }

  async #onMessage(session: Session, event: MessageEvent, log: Logger): Promise<void> {
    const data = event.data;
    const size = typeof data === "string"
      ? new TextEncoder().encode(data).byteLength
      : (data as ArrayBuffer).byteLength ?? 0;
    if (size > MAX_FRAME_BYTES) {
      log.warn("frame too big, closing", { bytes: size });
      closeQuietly(session.socket, CloseCode.messageTooBig, "frame too big");
      return;
    }
    if (session.ackCredits > 0) {
      session.ackCredits--;
    } else if (this.#frames.take(`session:${session.id}`) > 0) {
      log.warn("frame rate limit exceeded, closing");
      closeQuietly(session.socket, CloseCode.rateLimited, "rate limited");
      return;
    }
    if (typeof data !== "string") return;
    const frame = parseJson(AgentFrameSchema, data);
    if (!frame.ok) {
      log.debug("ignored a malformed frame", { error: frame.error });
      return;
    }
    const value = frame.value;
    if (value.type === "ack") {
      const acked = await this.#options.commands.ack(session.workerId, value.command_id);
      log.debug("ack", { command_id: value.command_id, changed: acked });
    } else if (value.type === "ping") {
      this.#send(session, { type: "pong", ts: value.ts });
    } else {
      session.missedPongs = 0;
    }
  }

  #send(session: Session, frame: Record<string, unknown>): void {
    if (session.socket.readyState !== WebSocket.OPEN) return;
    try {
      session.socket.send(JSON.stringify(frame));
    } catch {
      // The socket closed under us; onclose cleans up.
    }
  }

  #ensurePingTimer(): void {
    if (this.#pingTimer !== undefined) return;
    this.#pingTimer = setInterval(() => {
      for (const session of [...this.#sessions.values()]) {
        if (session.missedPongs >= WS_MAX_MISSED_PONGS) {
          this.#options.logger.info("session dead (no pong), closing", {
            worker_id: session.workerId,
          });
          // Only this session: a newer one of the same worker may be opening right now.
          this.#forget(session);
          closeQuietly(session.socket, CloseCode.goingAway, "no pong");
          continue;
        }
        session.missedPongs++;
        this.#send(session, { type: "ping", ts: this.#options.now() });
      }
    }, this.#options.pingIntervalMs);
  }

  #stopPingTimer(): void {
    if (this.#pingTimer === undefined) return;
    clearInterval(this.#pingTimer);
    this.#pingTimer = undefined;
  }

  #forget(session: Session): void {
    if (this.#sessions.get(session.workerId) === session) this.#sessions.delete(session.workerId);
    if (this.#sessions.size === 0) this.#stopPingTimer();
  }
}

function closeQuietly(socket: WebSocket, code: number, reason: string): void {
  try {
    if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
      socket.close(code, reason);
    }
  } catch {
    // Already closing.
  }
}
