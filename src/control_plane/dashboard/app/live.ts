/**
 * The page's end of the live updates: one `EventSource` on `/api/admin/events`
 * (authenticated by the session cookie), its events checked and handed to whichever view is
 * open. The browser reconnects by itself; after a reconnect the open view refetches, since
 * events sent meanwhile are gone.
 *
 * @module
 */
import type {
  ActivityEvent,
  CommandEvent,
  KeyEvent,
  LiveEvent,
  WorkerEvent,
} from "../../admin_api.ts";
import { record, str } from "./untrusted.ts";

/** Where the events come from. */
export const EVENTS_PATH = "/api/admin/events";

/** The state of the stream, shown in the top bar. */
export type LiveState = "connecting" | "live" | "reconnecting";

/** Callbacks of {@linkcode LiveUpdates}. */
export interface LiveHandlers {
  /** An event arrived. */
  onEvent(event: LiveEvent): void;
  /** The stream (re)opened: anything may have changed meanwhile. */
  onOpen(reconnected: boolean): void;
  /** The state changed. */
  onState(state: LiveState): void;
}

/** Checks an event's JSON: a known type with the members its handlers read. */
export function parseEvent(type: string, data: string): LiveEvent | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return undefined;
  }
  const fields = record<Record<string, unknown>>(parsed);
  if (!fields || fields.type !== type) return undefined;
  switch (type) {
    case "worker":
      return typeof fields.worker_id === "string" ? fields as unknown as WorkerEvent : undefined;
    case "activity":
      return Array.isArray(fields.worker_ids)
        ? {
          type: "activity",
          worker_ids: fields.worker_ids.filter((id): id is string => typeof id === "string"),
          all: fields.all === true,
        } satisfies ActivityEvent
        : undefined;
    case "command":
      return typeof fields.command_id === "string" && typeof fields.worker_id === "string"
        ? { ...fields, status: str(fields.status) } as unknown as CommandEvent
        : undefined;
    case "key":
      return typeof fields.key_id === "string" ? fields as unknown as KeyEvent : undefined;
  }
  return undefined;
}

const EVENT_TYPES: readonly LiveEvent["type"][] = ["worker", "activity", "command", "key"];

/** The live connection of a signed-in page. */
export class LiveUpdates {
  #source: EventSource | undefined;
  #handlers: LiveHandlers;
  #opened = false;
  #wanted = false;
  #retry: ReturnType<typeof setTimeout> | undefined;

  /** Creates the connection; {@linkcode LiveUpdates.start} opens it. */
  constructor(handlers: LiveHandlers) {
    this.#handlers = handlers;
  }

  /** Opens the stream (once). */
  start(): void {
    this.#wanted = true;
    if (this.#source) return;
    this.#handlers.onState("connecting");
    const source = new EventSource(EVENTS_PATH);
    this.#source = source;
    source.addEventListener("open", () => {
      const reconnected = this.#opened;
      this.#opened = true;
      this.#handlers.onState("live");
      this.#handlers.onOpen(reconnected);
    });
    source.addEventListener("error", () => {
      // The browser retries by itself unless the answer was not an event stream (401…).
      this.#handlers.onState("reconnecting");
      if (source.readyState === EventSource.CLOSED && this.#source === source) {
        this.#source = undefined;
        this.#retry = setTimeout(() => this.#wanted && this.start(), 3000);
      }
    });
    for (const type of EVENT_TYPES) {
      source.addEventListener(type, (message) => {
        const event = parseEvent(type, (message as MessageEvent<string>).data);
        if (event) this.#handlers.onEvent(event);
      });
    }
  }

  /** Closes the stream (sign-out). */
  stop(): void {
    this.#wanted = false;
    clearTimeout(this.#retry);
    this.#source?.close();
    this.#source = undefined;
  }
}
