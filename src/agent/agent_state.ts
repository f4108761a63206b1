/**
 * The running agent's shared state: what every loop reads and `status.json` shows.
 *
 * (Named "state", not "session": in this code base a session is only ever the WebSocket
 * session of protocol 3.5.)
 *
 * @module
 */
import type { Sample } from "../protocol/mod.ts";
import type { AgentStatus, ConnectionState, WebSocketState } from "../state/agent_status.ts";
import { Wake } from "../shared/wake.ts";
import { Reachability } from "../shared/backoff.ts";

/**
 * One place for the facts the loops share: the worker id and server-set intervals from
 * registration, the connection and WebSocket states, the last error, and whether the agent
 * is draining. Loops wait on {@linkcode AgentSession.changed} instead of polling.
 */
export class AgentState {
  /** The worker id from the last registration; undefined until registered (or after a 404). */
  workerId: string | undefined;
  /** `websocket_url` from the last registration. */
  websocketUrl: string | undefined;
  /** Current heartbeat interval (server-set, clamped), in ms. */
  heartbeatMs: number;
  /** Current metrics interval, in ms. */
  metricsMs: number;
  /** Connection state for `status`. */
  connection: ConnectionState = "starting";
  /** WebSocket state for `status`. */
  websocket: WebSocketState = "closed";
  /** When the last heartbeat was answered 200. */
  lastHeartbeatAt: number | null = null;
  /** The last problem worth showing in `status`. */
  lastError: string | null = null;
  /** When the next try after an auth failure is due. */
  nextRetryAt: number | null = null;
  /** The newest sample, whose flat fields go into heartbeats. */
  latestSample: Sample | undefined;
  /** Set on the first stop signal: no new commands are accepted. */
  draining = false;
  /** Woken on every change above made through the methods, and by a config change. */
  readonly changed: Wake = new Wake();
  /**
   * When the server was last reachable: the one clock every retry wait is capped by
   * (protocol 8, v1.1), told by the HTTP client and the WebSocket channel.
   */
  readonly reachability: Reachability;
  /**
   * Woken when the WebSocket opens again after it dropped (not on its first open): the
   * heartbeat then goes out at once, so a restarted server hears from the agent.
   */
  readonly socketReopened: Wake = new Wake();

  /** Starts with the locally configured intervals. */
  constructor(
    options: { heartbeatMs: number; metricsMs: number; reachability?: Reachability },
  ) {
    this.heartbeatMs = options.heartbeatMs;
    this.metricsMs = options.metricsMs;
    this.reachability = options.reachability ?? new Reachability();
  }

  /**
   * Whether the server refused this agent (a bad or revoked key, or the key in use on
   * another machine): then nothing but the slow retry talks to it.
   */
  get refused(): boolean {
    return this.connection === "auth_failed" || this.connection === "key_in_use";
  }

  /** Whether requests other than register/heartbeat should be tried now. */
  get online(): boolean {
    return this.workerId !== undefined &&
      (this.connection === "connected" || this.connection === "draining");
  }

  /** Moves to `state`, recording `error` (or clearing it when connected). */
  setConnection(state: ConnectionState, error?: string, nextRetryAt?: number): void {
    if (this.draining && (state === "connected" || state === "reconnecting")) {
      // Keep showing "draining" while the loops still talk to the server.
      state = state === "connected" ? "draining" : state;
    }
    this.connection = state;
    if (error !== undefined) this.lastError = error;
    else if (state === "connected") this.lastError = null;
    this.nextRetryAt = nextRetryAt ?? null;
    this.changed.notify();
  }

  /** Sets the WebSocket state. */
  setWebSocket(state: WebSocketState): void {
    this.websocket = state;
    this.changed.notify();
  }

  /** The fields of `status.json` this state knows. */
  statusFields(): Pick<
    AgentStatus,
    | "state"
    | "worker_id"
    | "last_heartbeat_at"
    | "websocket"
    | "last_error"
    | "next_retry_at"
  > {
    return {
      state: this.connection,
      worker_id: this.workerId ?? null,
      last_heartbeat_at: this.lastHeartbeatAt,
      websocket: this.websocket,
      last_error: this.lastError,
      next_retry_at: this.nextRetryAt,
    };
  }
}
