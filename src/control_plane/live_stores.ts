/**
 * The repositories, each telling {@linkcode LiveEvents} what changed. These are the only hook
 * points of the live updates: every write the dashboard shows goes through one of these
 * methods, whichever handler or loop makes it, on whichever engine.
 *
 * | repository | method | event |
 * |---|---|---|
 * | workers | `register` | `worker` |
 * | workers | `heartbeat` | `worker` when the status changed; activity always |
 * | workers | `markStaleOffline` | `worker` per worker marked offline |
 * | workers | `delete` | `worker` with status null |
 * | samples | `insert`, `appendToStream` (see `metric_store.ts`) | activity |
 * | commands | `create`, `claimDeliverable`, `ack`, `complete`, `sweepTimeouts` | `command` |
 * | keys | `create`, `revoke` | `key` |
 *
 * Events are per instance: a dashboard sees what its instance did.
 *
 * @module
 */
import type { HeartbeatRequest, IncomingResult, RegisterRequest } from "./_deps.ts";
import type { LiveEvents } from "./live_events.ts";
import type {
  CommandView,
  KeyRecord,
  KeyView,
  WorkerHolder,
  WorkerView,
} from "./storage/records.ts";
import type {
  CommandListOptions,
  CommandRepository,
  KeyRepository,
  WorkerRepository,
} from "./storage/repositories.ts";

/** More workers going offline in one sweep than this are reported as activity. */
export const MAX_WORKER_EVENTS_AT_ONCE = 100;

function workerEvent(events: LiveEvents, view: WorkerView): void {
  events.emit({
    type: "worker",
    worker_id: view.worker_id,
    status: view.status,
    is_online: view.is_online,
    last_heartbeat: view.last_heartbeat,
  });
}

/** Workers that report registrations, status changes and heartbeats. */
export class LiveWorkers implements WorkerRepository {
  #inner: WorkerRepository;
  #events: LiveEvents;

  /** Wraps `inner`. */
  constructor(inner: WorkerRepository, events: LiveEvents) {
    this.#inner = inner;
    this.#events = events;
  }

  async register(keyId: string, request: RegisterRequest): Promise<WorkerView> {
    const view = await this.#inner.register(keyId, request);
    workerEvent(this.#events, view);
    return view;
  }

  async heartbeat(
    workerId: string,
    request: HeartbeatRequest,
    before?: WorkerView,
  ): Promise<WorkerView | undefined> {
    // The status before: as the caller read it, else read here (only while someone watches).
    const was = this.#events.subscriberCount === 0
      ? undefined
      : (before ?? await this.#inner.get(workerId))?.status;
    const view = await this.#inner.heartbeat(workerId, request);
    if (view) {
      if (was !== undefined && was !== view.status) workerEvent(this.#events, view);
      this.#events.touch(workerId);
    }
    return view;
  }

  holderOf(keyId: string): Promise<WorkerHolder | undefined> {
    return this.#inner.holderOf(keyId);
  }

  noteMetricsPost(workerId: string): Promise<void> {
    return this.#inner.noteMetricsPost(workerId);
  }

  get(workerId: string): Promise<WorkerView | undefined> {
    return this.#inner.get(workerId);
  }

  byKey(keyId: string): Promise<WorkerView | undefined> {
    return this.#inner.byKey(keyId);
  }

  async delete(workerId: string): Promise<void> {
    await this.#inner.delete(workerId);
    this.#events.emit({
      type: "worker",
      worker_id: workerId,
      status: null,
      is_online: false,
      last_heartbeat: null,
    });
  }

  async markStaleOffline(before: number): Promise<string[]> {
    const ids = await this.#inner.markStaleOffline(before);
    if (this.#events.subscriberCount === 0) return ids;
    if (ids.length > MAX_WORKER_EVENTS_AT_ONCE) {
      // A wave (the network between a site and the control plane went down): coalesced as
      // activity, rather than thousands of events a dashboard would not keep up with.
      for (const id of ids) this.#events.touch(id);
      return ids;
    }
    for (const id of ids) {
      const view = await this.#inner.get(id);
      if (view) workerEvent(this.#events, view);
    }
    return ids;
  }
}

/** Commands that report every status change. */
export class LiveCommands implements CommandRepository {
  #inner: CommandRepository;
  #events: LiveEvents;

  /** Wraps `inner`. */
  constructor(inner: CommandRepository, events: LiveEvents) {
    this.#inner = inner;
    this.#events = events;
  }

  #report(view: CommandView | undefined): void {
    if (!view) return;
    this.#events.emit({
      type: "command",
      command_id: view.command_id,
      worker_id: view.worker_id,
      command_type: view.command_type,
      status: view.status,
    });
  }

  async create(input: Parameters<CommandRepository["create"]>[0]): Promise<CommandView> {
    const view = await this.#inner.create(input);
    this.#report(view);
    return view;
  }

  get(id: string): Promise<CommandView | undefined> {
    return this.#inner.get(id);
  }

  async claimDeliverable(
    workerId: string,
    ackTimeoutMs: number,
    limit: number,
  ): Promise<CommandView[]> {
    const claimed = await this.#inner.claimDeliverable(workerId, ackTimeoutMs, limit);
    // The first delivery moves a command from pending to delivered; a re-send changes nothing.
    for (const view of claimed) if (view.delivery_count === 1) this.#report(view);
    return claimed;
  }

  workersWithDeliverable(ackTimeoutMs: number): Promise<string[]> {
    return this.#inner.workersWithDeliverable(ackTimeoutMs);
  }

  async ack(workerId: string, id: string): Promise<boolean> {
    const changed = await this.#inner.ack(workerId, id);
    if (changed && this.#events.subscriberCount > 0) this.#report(await this.#inner.get(id));
    return changed;
  }

  async complete(id: string, result: IncomingResult): Promise<"stored" | "already"> {
    const outcome = await this.#inner.complete(id, result);
    if (outcome === "stored" && this.#events.subscriberCount > 0) {
      this.#report(await this.#inner.get(id));
    }
    return outcome;
  }

  list(options: CommandListOptions): Promise<CommandView[]> {
    return this.#inner.list(options);
  }

  async sweepTimeouts(): Promise<string[]> {
    const ids = await this.#inner.sweepTimeouts();
    if (this.#events.subscriberCount > 0) {
      for (const id of ids) this.#report(await this.#inner.get(id));
    }
    return ids;
  }
}

/** Keys that report creations and revocations. */
export class LiveKeys implements KeyRepository {
  #inner: KeyRepository;
  #events: LiveEvents;

  /** Wraps `inner`. */
  constructor(inner: KeyRepository, events: LiveEvents) {
    this.#inner = inner;
    this.#events = events;
  }

  async create(
    name: string,
    scopes: readonly string[] = ["worker"],
  ): Promise<{ record: KeyRecord; key: string }> {
    const created = await this.#inner.create(name, scopes);
    this.#events.emit({ type: "key", key_id: created.record.id, active: true });
    return created;
  }

  authenticate(rawKey: string): Promise<KeyRecord | undefined> {
    return this.#inner.authenticate(rawKey);
  }

  get(id: string): Promise<KeyRecord | undefined> {
    return this.#inner.get(id);
  }

  list(): Promise<KeyView[]> {
    return this.#inner.list();
  }

  async revoke(id: string): Promise<void> {
    await this.#inner.revoke(id);
    this.#events.emit({ type: "key", key_id: id, active: false });
  }
}
