/**
 * A protocol-level worker client for the end-to-end tests: plain fetch and WebSocket, no
 * agent code, so the tests check the control plane against protocol.md itself.
 */
import { Paths } from "../../src/protocol/mod.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { registerBody } from "./_fixtures.ts";

/** A frame received on the command channel. */
export type Frame = Record<string, unknown> & { type: string };

/** A minimal worker speaking protocol v1 over HTTP. */
export class ProtocolClient {
  readonly baseUrl: string;
  readonly key: string;
  workerId = "";

  constructor(baseUrl: string, key: string) {
    this.baseUrl = baseUrl;
    this.key = key;
  }

  /** POSTs JSON with the key and returns status and parsed body. */
  async post(
    path: string,
    body: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method: "POST",
      headers: { "X-API-Key": this.key, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  }

  /** Registers (with `extra` members in the body) and remembers the worker id. */
  async register(extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const { status, body } = await this.post(Paths.register, registerBody(extra));
    if (status !== 200) throw new Error(`register: ${status} ${JSON.stringify(body)}`);
    this.workerId = body.worker_id as string;
    return body;
  }

  /** Sends a heartbeat; returns the body (pending_commands included). */
  async heartbeat(extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const { status, body } = await this.post(Paths.heartbeat(this.workerId), {
      status: "online",
      ...extra,
    });
    if (status !== 200) throw new Error(`heartbeat: ${status} ${JSON.stringify(body)}`);
    return body;
  }

  /** Opens the command channel, with `headers` added to the upgrade request. */
  async connect(headers: Record<string, string> = {}): Promise<Channel> {
    const url = `${this.baseUrl.replace(/^http/, "ws")}${Paths.websocket}`;
    const socket = new WebSocket(url, {
      headers: { Authorization: `Bearer ${this.key}`, "X-Worker-Id": this.workerId, ...headers },
    } as unknown as string[]);
    const channel = new Channel(socket);
    await channel.opened;
    return channel;
  }
}

/** An open WebSocket with a queue of received frames. */
export class Channel {
  readonly socket: WebSocket;
  readonly frames: Frame[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<CloseEvent>;

  constructor(socket: WebSocket) {
    this.socket = socket;
    const opened = Promise.withResolvers<void>();
    const closed = Promise.withResolvers<CloseEvent>();
    this.opened = opened.promise;
    this.closed = closed.promise;
    socket.onopen = () => opened.resolve();
    socket.onerror = () => opened.reject(new Error("WebSocket error before open"));
    socket.onclose = (event) => {
      opened.reject(new Error(`closed before open: ${event.code}`));
      closed.resolve(event);
    };
    socket.onmessage = (event) => this.frames.push(JSON.parse(event.data as string));
    this.opened.catch(() => {});
  }

  /** Takes the oldest queued frame of `type`, waiting for one if none is queued. */
  async next(type: string, timeoutMs = 5000): Promise<Frame> {
    const frame = await waitFor(() => {
      const index = this.frames.findIndex((f) => f.type === type);
      if (index < 0) return undefined;
      const [found] = this.frames.splice(index, 1);
      return found;
    }, { timeoutMs, message: `a ${type} frame` });
    return frame;
  }

  /** Sends one frame. */
  send(frame: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(frame));
  }

  /** Closes (if open) and waits for the close event. */
  async close(): Promise<CloseEvent> {
    if (
      this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING
    ) {
      this.socket.close(1000, "test done");
    }
    return await this.closed;
  }
}
