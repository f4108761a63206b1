/** The WebSocket command channel of protocol 3.5, with keepalive and reconnects. */
import type { Logger } from "../log/logger.ts";
import {
  CloseCode,
  MAX_FRAME_BYTES,
  ServerFrameSchema,
  validate,
  WS_MAX_MISSED_PONGS,
  WS_PING_INTERVAL_MS,
} from "../protocol/mod.ts";
import { parseBoundedJson } from "../protocol/bounded_json.ts";
import type { WebSocketState } from "../state/agent_status.ts";
import { AuthRetrySchedule, Backoff, type Reachability } from "../shared/backoff.ts";
import { boundServerWaitMs, classifySocketEnd, type SocketEnd } from "./api_outcome.ts";
import { ClockJumpDetector } from "./clock_jump.ts";
import { abortableDelay } from "../shared/delay.ts";
import { openWorkerSocket } from "./worker_socket.ts";

/** Options of {@linkcode CommandChannel}. */
export interface CommandChannelOptions {
  /** `ws://` or `wss://` URL from the registration answer. */
  url: string;
  /** Sent as `Authorization: Bearer`. */
  apiKey: string;
  /** Sent as `X-Worker-Id`. */
  workerId: string;
  /** Sent as `X-Instance-Id` (v1.1): the `instance_id` this agent registered with. */
  instanceId?: string;
  /** Receives each command frame's raw command; resolves `true` to ack it. */
  onCommand: (raw: unknown) => Promise<boolean>;
  /** Told every state change. */
  onState?: (state: WebSocketState, detail?: string) => void;
  /** Told when the server refuses the key (401/403 or close 4001/4003), and when it tries again. */
  onAuthFailure?: (reason: string, retryInMs: number) => void;
  /**
   * Told when the server refuses the upgrade with 409: another machine holds the key (v1.1),
   * and when it tries again.
   */
  onKeyInUse?: (reason: string, retryInMs: number) => void;
  /** Where connection events are logged. */
  logger: Logger;
  /** HTTP client for `ca_file`/`proxy`. */
  client?: Deno.HttpClient;
  /** @default {WS_PING_INTERVAL_MS} */
  pingIntervalMs?: number;
  /** Reconnect schedule. @default {new Backoff({ reachability })} */
  backoff?: Backoff;
  /**
   * When the server was last reachable (protocol 8, v1.1): a welcome or pong is `reached()`,
   * a session that ends for a retry is `lost()` (alive until it closed), and a reconnect
   * wait ends as soon as any other loop reaches the server. @default none
   */
  reachability?: Reachability;
  /** Wait schedule after the server refused the key or found it in use. @default {new AuthRetrySchedule()} */
  authRetry?: AuthRetrySchedule;
  /** Wall clock. @default {Date.now} */
  now?: () => number;
  /** Jump detection. @default {new ClockJumpDetector()} */
  clockJump?: ClockJumpDetector;
}

/**
 * Whether a session ended because the server could not be reached: a network error or an
 * abnormal close (the server went away), or an upgrade refused with 429 or 5xx (a proxy in
 * front of a server that is down, or a server shedding load). A close the server chose
 * (with a code) and an unusable frame are answers from a server that is up.
 */
function isOutage(end: SocketEnd): boolean {
  return end.kind === "error" ||
    (end.kind === "refused" && (end.status === 429 || end.status >= 500));
}

/** Frame types a newer server may send that this agent ignores (anything not in protocol 3.5). */
const KNOWN_FRAME_TYPES = ["welcome", "command", "ping", "pong", "disconnect"];

/**
 * Keeps a WebSocket session to the control plane open while `run()` runs: authenticates
 * with custom headers, answers and sends pings, declares the socket dead after 2 missed
 * pongs, reconnects with full-jitter backoff (or after the server's `disconnect` delay), and
 * forces a reconnect after a wall-clock jump. An upgrade answered 404 means the server has no
 * WebSocket endpoint: the channel reports `unsupported` and retries only rarely, so the agent
 * stays on heartbeat polling. A frame that is too large, too deep, not JSON or not a valid
 * frame of a known type ends the session like a failed request (v1.1): the channel reconnects
 * with backoff, so a server sending garbage costs one log line per reconnect, not per frame.
 */
export class CommandChannel {
  #options: CommandChannelOptions;
  #backoff: Backoff;
  #now: () => number;
  #socket: WebSocket | undefined;
  #state: WebSocketState = "closed";
  #authRetry: AuthRetrySchedule;

  /** Creates a channel; nothing connects until {@linkcode CommandChannel.run}. */
  constructor(options: CommandChannelOptions) {
    this.#options = options;
    this.#backoff = options.backoff ??
      new Backoff(options.reachability ? { reachability: options.reachability } : {});
    this.#authRetry = options.authRetry ?? new AuthRetrySchedule();
    this.#now = options.now ?? Date.now;
  }

  /**
   * Connects and reconnects until `signal` aborts; then closes the socket with 1000. How a
   * session ended is judged by `classifySocketEnd` (`api_outcome.ts`), beside the HTTP
   * answers: after an auth refusal (or a key in use) it calls `onAuthFailure` (`onKeyInUse`)
   * and waits on the slow auth schedule (5 min doubling to 60 min, like register).
   */
  async run(signal: AbortSignal): Promise<void> {
    const { logger } = this.#options;
    while (!signal.aborted) {
      this.#setState("connecting");
      const end = await this.#session(signal);
      if (signal.aborted || end.kind === "aborted") break;
      const outcome = classifySocketEnd(end);
      let wait: number;
      let wakeEarly = false;
      switch (outcome.kind) {
        case "unsupported":
          this.#setState("unsupported", outcome.reason);
          logger.info("control plane has no WebSocket endpoint; using heartbeat polling");
          wait = 10 * 60_000;
          break;
        case "auth":
          this.#setState("closed", outcome.reason);
          wait = this.#authRetry.next();
          this.#options.onAuthFailure?.(outcome.reason, wait);
          break;
        case "key_in_use":
          // v1.1: another machine holds this key. Never fight for the session.
          this.#setState("closed", outcome.reason);
          wait = this.#authRetry.next();
          this.#options.onKeyInUse?.(outcome.reason, wait);
          break;
        case "replaced":
          // Another session of this worker took over (a second agent with the same key on a
          // server without v1.1, or our own reconnect racing the old socket). Back off rather
          // than fight over the session, and say so once per streak, not once per replacement.
          this.#setState("closed", outcome.reason);
          if (!this.#replacedStreak) {
            logger.warn(
              "WebSocket session replaced by another connection of this worker (is the same key used on another machine?); backing off",
            );
          } else logger.debug("WebSocket session replaced again");
          this.#replacedStreak = true;
          wait = this.#backoff.next();
          break;
        case "retry":
          this.#setState("closed", outcome.reason);
          if (isOutage(end)) {
            // The server went away (or a proxy says it is down): at most half the outage, and
            // at once when an HTTP call gets through again (v1.1), unless the server asked
            // for the wait (`disconnect`).
            this.#options.reachability?.lost(this.#aliveUntil);
            wait = this.#backoff.retryWait(this.#retryAfterMs);
            wakeEarly = this.#retryAfterMs === undefined;
          } else {
            // The server closed the session itself, or sent garbage: it is up, so the
            // exponent alone (a quick retry would hammer it).
            wait = this.#retryAfterMs ?? this.#backoff.next();
          }
          if (outcome.badFrame) {
            logger.warn("the server sent an unusable WebSocket frame; reconnecting", {
              detail: outcome.reason,
              wait_ms: wait,
            });
          } else {
            logger.debug("WebSocket down, reconnecting", { detail: outcome.reason, wait_ms: wait });
          }
          break;
      }
      this.#retryAfterMs = undefined;
      const reachability = this.#options.reachability;
      if (wakeEarly && reachability) await reachability.wait(wait, signal);
      else await abortableDelay(wait, signal);
    }
    this.#setState("closed");
  }

  #retryAfterMs: number | undefined;
  #replacedStreak = false;
  /** When the session that just ended was last known to work (for `reachability.lost`). */
  #aliveUntil: number | undefined;

  #setState(state: WebSocketState, detail?: string): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#options.onState?.(state, detail);
  }

  #send(frame: Record<string, unknown>): boolean {
    const socket = this.#socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    try {
      socket.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  #session(signal: AbortSignal): Promise<SocketEnd> {
    const { url, apiKey, workerId, logger } = this.#options;
    const pingIntervalMs = this.#options.pingIntervalMs ?? WS_PING_INTERVAL_MS;
    const clockJump = this.#options.clockJump ?? new ClockJumpDetector({ now: this.#now });
    return new Promise<SocketEnd>((resolve) => {
      let settled = false;
      let welcomed = false;
      let errorMessage = "";
      let outstandingPings = 0;
      let heardAt: number | undefined;
      this.#aliveUntil = undefined;
      let ticker: ReturnType<typeof setInterval> | undefined;
      let socket: WebSocket;
      try {
        socket = openWorkerSocket({
          url,
          apiKey,
          workerId,
          instanceId: this.#options.instanceId,
          client: this.#options.client,
        });
      } catch (error) {
        resolve({ kind: "error", message: (error as Error).message });
        return;
      }
      this.#socket = socket;
      const finish = (end: SocketEnd) => {
        if (settled) return;
        settled = true;
        clearInterval(ticker);
        signal.removeEventListener("abort", onAbort);
        if (this.#socket === socket) this.#socket = undefined;
        resolve(end);
      };
      const closeSocket = (code: number, reason: string) => {
        if (socket.readyState !== WebSocket.OPEN && socket.readyState !== WebSocket.CONNECTING) {
          return;
        }
        // A WebSocket client may only send 1000 or 3000-4999 (1001 and 1009 throw), and a
        // close that throws would leave the socket open beside its replacement.
        const allowed = code === CloseCode.normal || (code >= 3000 && code <= 4999);
        try {
          socket.close(allowed ? code : CloseCode.normal, reason);
        } catch {
          // Already closing.
        }
      };
      const onAbort = () => {
        closeSocket(CloseCode.normal, "agent shutting down");
        finish({ kind: "aborted" });
      };
      signal.addEventListener("abort", onAbort, { once: true });
      socket.onopen = () => {
        this.#setState("open");
        logger.info("WebSocket command channel open");
        ticker = setInterval(() => {
          const jump = clockJump.check();
          if (jump !== 0) {
            logger.warn("wall clock jumped; reconnecting the WebSocket", { jump_ms: jump });
            closeSocket(CloseCode.goingAway, "clock jump");
            finish({ kind: "error", message: `wall clock jumped ${jump} ms` });
            return;
          }
          if (outstandingPings >= WS_MAX_MISSED_PONGS) {
            logger.warn("WebSocket missed 2 pongs; reconnecting");
            this.#aliveUntil = heardAt;
            closeSocket(CloseCode.goingAway, "missed pongs");
            finish({ kind: "error", message: "missed pongs" });
            return;
          }
          outstandingPings++;
          this.#send({ type: "ping", ts: this.#now() });
        }, pingIntervalMs);
      };
      socket.onerror = (event) => {
        errorMessage = (event as ErrorEvent).message ?? "WebSocket error";
      };
      socket.onclose = (event) => {
        // A session that worked carried until the server closed it (or went away).
        if (!settled && welcomed) this.#aliveUntil = this.#now();
        const status = /Invalid status code:? (\d{3})/.exec(errorMessage)?.[1];
        if (!welcomed && status !== undefined) {
          finish({ kind: "refused", status: Number(status), message: errorMessage });
        } else if (event.code === 0 || event.code === 1006) {
          finish({ kind: "error", message: errorMessage || `closed ${event.code}` });
        } else {
          finish({ kind: "closed", code: event.code, reason: event.reason, welcomed });
        }
      };
      socket.onmessage = (event) => {
        // Nothing more from a session that ended (an unusable frame, missed pongs, a jump).
        if (settled || typeof event.data !== "string") return;
        // In bytes: a UTF-16 length undercounts multi-byte text up to 3 times.
        const refuseFrame = (message: string, closeReason = "unusable frame") => {
          closeSocket(CloseCode.normal, closeReason);
          finish({ kind: "bad_frame", message });
        };
        if (
          event.data.length > MAX_FRAME_BYTES ||
          event.data.length > MAX_FRAME_BYTES / 3 &&
            new TextEncoder().encode(event.data).length > MAX_FRAME_BYTES
        ) {
          refuseFrame(`frame larger than ${MAX_FRAME_BYTES} bytes`, "frame too large");
          return;
        }
        const json = parseBoundedJson(event.data);
        if (!json.ok) {
          refuseFrame(`frame ${json.error}`);
          return;
        }
        const type = (json.value as { type?: unknown } | null)?.type;
        if (typeof type === "string" && !KNOWN_FRAME_TYPES.includes(type)) {
          logger.debug("ignoring a WebSocket frame of an unknown type", {
            type: type.slice(0, 64),
          });
          return;
        }
        const parsed = validate(ServerFrameSchema, json.value);
        if (!parsed.ok) {
          refuseFrame(`malformed frame: ${parsed.error}`);
          return;
        }
        const frame = parsed.value;
        heardAt = this.#now();
        switch (frame.type) {
          case "welcome":
            welcomed = true;
            this.#options.reachability?.reached();
            this.#backoff.healthy();
            this.#authRetry.reset();
            break;
          case "ping":
            this.#send({ type: "pong", ts: frame.ts });
            break;
          case "pong":
            outstandingPings = 0;
            this.#options.reachability?.reached();
            this.#replacedStreak = false;
            this.#backoff.healthy();
            break;
          case "disconnect":
            logger.info("server asked to disconnect", {
              reason: frame.reason,
              retry_after_seconds: frame.retry_after_seconds,
            });
            this.#retryAfterMs = boundServerWaitMs(frame.retry_after_seconds * 1000);
            closeSocket(CloseCode.normal, "server asked to disconnect");
            break;
          case "command": {
            const raw = frame.command;
            const id = typeof raw.id === "string" ? raw.id : undefined;
            this.#options.onCommand(raw).then((ack) => {
              if (ack && id !== undefined) this.#send({ type: "ack", command_id: id });
            }).catch((error) => {
              logger.error("command intake failed", { error: String(error) });
            });
            break;
          }
        }
      };
    });
  }
}
