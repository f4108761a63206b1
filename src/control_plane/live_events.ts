/**
 * Live updates for the dashboard: the control plane pushes what changed (a worker going
 * online or offline, new heartbeats and samples, command status changes, keys) as
 * server-sent events on `GET /api/admin/events`, so the page needs no polling loop.
 *
 * Worker, command and key events go out as they happen. Heartbeats and samples are
 * coalesced: the ids of the workers that were active are sent at most once per
 * `activityIntervalMs` (a fleet of 10,000 workers makes hundreds of heartbeats a second; the
 * page refetches only what it shows). A subscriber that does not read is dropped once
 * `maxQueuedBytes` wait for it; its browser reconnects and refetches.
 *
 * @module
 */
import type { LiveEvent } from "./admin_api.ts";

/** Options of {@linkcode LiveEvents}. */
export interface LiveEventsOptions {
  /** Activity (heartbeats, samples) is sent at most this often. @default {1000} */
  activityIntervalMs?: number;
  /** A comment line is sent this often, so proxies and the connection guard keep the stream. @default {15000} */
  keepaliveIntervalMs?: number;
  /** Most open streams; more are refused with 503. @default {64} */
  maxSubscribers?: number;
  /** Bytes waiting for one subscriber before it is dropped. @default {1 MiB} */
  maxQueuedBytes?: number;
  /** Most worker ids one activity event lists; more make it `all: true`. @default {500} */
  maxActivityIds?: number;
  /** The browser waits this long before reconnecting a dropped stream (SSE `retry`). @default {2000} */
  retryMs?: number;
}

interface Subscriber {
  controller: ReadableStreamDefaultController<Uint8Array>;
  closed: boolean;
}

const encoder = new TextEncoder();

/** The event hub: stores and handlers emit, `GET /api/admin/events` subscribes. */
export class LiveEvents {
  #subscribers = new Set<Subscriber>();
  #active = new Set<string>();
  #overflow = false;
  #activityTimer: ReturnType<typeof setTimeout> | undefined;
  #keepaliveTimer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  readonly #activityIntervalMs: number;
  readonly #keepaliveIntervalMs: number;
  readonly #maxSubscribers: number;
  readonly #maxQueuedBytes: number;
  readonly #maxActivityIds: number;
  readonly #retryMs: number;

  /** Creates the hub; it holds no timer while nobody listens. */
  constructor(options: LiveEventsOptions = {}) {
    this.#activityIntervalMs = options.activityIntervalMs ?? 1000;
    this.#keepaliveIntervalMs = options.keepaliveIntervalMs ?? 15_000;
    this.#maxSubscribers = options.maxSubscribers ?? 64;
    this.#maxQueuedBytes = options.maxQueuedBytes ?? 1024 * 1024;
    this.#maxActivityIds = options.maxActivityIds ?? 500;
    this.#retryMs = options.retryMs ?? 2000;
  }

  /** Open streams. */
  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  /** Sends `event` to every subscriber now. */
  emit(event: Exclude<LiveEvent, { type: "activity" }>): void {
    if (this.#subscribers.size === 0) return;
    this.#broadcast(frame(event));
  }

  /** Notes a heartbeat or sample of `workerId`; sent with others within `activityIntervalMs`. */
  touch(workerId: string): void {
    if (this.#subscribers.size === 0) return;
    if (this.#active.size < this.#maxActivityIds) this.#active.add(workerId);
    else if (!this.#active.has(workerId)) this.#overflow = true;
    this.#activityTimer ??= setTimeout(() => this.#flushActivity(), this.#activityIntervalMs);
  }

  /**
   * A new event stream (UTF-8 `text/event-stream`), or undefined when `maxSubscribers` are
   * open already. It ends when `signal` aborts (the request went away) or the hub closes.
   */
  subscribe(signal?: AbortSignal): ReadableStream<Uint8Array> | undefined {
    if (this.#closed || this.#subscribers.size >= this.#maxSubscribers) return undefined;
    let subscriber: Subscriber | undefined;
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        subscriber = { controller, closed: false };
        this.#subscribers.add(subscriber);
        controller.enqueue(encoder.encode(`retry: ${this.#retryMs}\n: connected\n\n`));
        this.#keepaliveTimer ??= setInterval(
          () => this.#broadcast(encoder.encode(": keepalive\n\n")),
          this.#keepaliveIntervalMs,
        );
      },
      cancel: () => {
        if (subscriber) this.#drop(subscriber, false);
      },
    }, { highWaterMark: this.#maxQueuedBytes, size: (chunk) => chunk.byteLength });
    signal?.addEventListener("abort", () => subscriber && this.#drop(subscriber, true), {
      once: true,
    });
    return stream;
  }

  /** Ends every stream and refuses new ones (shutdown). */
  close(): void {
    this.#closed = true;
    for (const subscriber of [...this.#subscribers]) this.#drop(subscriber, true);
  }

  #flushActivity(): void {
    this.#activityTimer = undefined;
    if (this.#active.size === 0 && !this.#overflow) return;
    const event: LiveEvent = {
      type: "activity",
      worker_ids: this.#overflow ? [] : [...this.#active],
      all: this.#overflow,
    };
    this.#active.clear();
    this.#overflow = false;
    this.#broadcast(frame(event));
  }

  #broadcast(bytes: Uint8Array): void {
    for (const subscriber of [...this.#subscribers]) {
      const room = subscriber.controller.desiredSize ?? 0;
      if (room < bytes.byteLength) {
        // It stopped reading: drop it rather than queue without bound.
        this.#drop(subscriber, true);
        continue;
      }
      try {
        subscriber.controller.enqueue(bytes);
      } catch {
        this.#drop(subscriber, false);
      }
    }
  }

  #drop(subscriber: Subscriber, close: boolean): void {
    if (subscriber.closed) return;
    subscriber.closed = true;
    this.#subscribers.delete(subscriber);
    if (close) {
      try {
        subscriber.controller.close();
      } catch { /* already closed or errored */ }
    }
    if (this.#subscribers.size === 0) {
      clearInterval(this.#keepaliveTimer);
      clearTimeout(this.#activityTimer);
      this.#keepaliveTimer = undefined;
      this.#activityTimer = undefined;
      this.#active.clear();
      this.#overflow = false;
    }
  }
}

/** One SSE frame: `event: <type>` and the JSON of `event` as `data`. */
export function frame(event: LiveEvent): Uint8Array {
  return encoder.encode(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
}

/** Headers of an event stream: never cached, never buffered by a proxy. */
export const EVENT_STREAM_HEADERS: Readonly<Record<string, string>> = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-cache, no-transform",
  // nginx buffers proxied answers unless told not to.
  "X-Accel-Buffering": "no",
};
