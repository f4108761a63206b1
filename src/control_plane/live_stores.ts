/**
 * The stores, each telling {@linkcode LiveEvents} what changed. These are the only hook
 * points of the live updates: every write the dashboard shows goes through one of these
 * methods, whichever handler or loop makes it.
 *
 * | store | method | event |
 * |---|---|---|
 * | workers | `register` | `worker` |
 * | workers | `heartbeat` | `worker` when the status changed; activity always |
 * | workers | `markStaleOffline` | `worker` per worker marked offline |
 * | workers | `delete` | `worker` with status null |
 * | metrics | `insert`, `appendToStream` | activity |
 * | commands | `create`, `markDelivered`, `ack`, `complete`, `sweepTimeouts` | `command` |
 * | keys | `create`, `revoke` | `key` |
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import type { HeartbeatRequest, IncomingResult, IncomingSample, RegisterRequest } from "./_deps.ts";
import {
  type CommandStatus,
  CommandStore,
  type CommandTiming,
  type CommandView,
} from "./command_store.ts";
import { type KeyRecord, KeyStore } from "./key_store.ts";
import type { LiveEvents } from "./live_events.ts";
import { MetricStore } from "./metric_store.ts";
import type { StorageQuota } from "./storage_quota.ts";
import { WorkerStore, type WorkerView } from "./worker_store.ts";

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

/** {@linkcode WorkerStore} that reports registrations, status changes and heartbeats. */
export class LiveWorkerStore extends WorkerStore {
  #events: LiveEvents;

  /** Creates the store. */
  constructor(
    db: DatabaseSync,
    options: { now: () => number; newId: () => string; events: LiveEvents },
  ) {
    super(db, options);
    this.#events = options.events;
  }

  override register(keyId: string, request: RegisterRequest): WorkerView {
    const view = super.register(keyId, request);
    workerEvent(this.#events, view);
    return view;
  }

  override heartbeat(workerId: string, request: HeartbeatRequest): WorkerView | undefined {
    const before = this.#events.subscriberCount > 0 ? super.get(workerId)?.status : undefined;
    const view = super.heartbeat(workerId, request);
    if (view) {
      if (before !== undefined && before !== view.status) workerEvent(this.#events, view);
      this.#events.touch(workerId);
    }
    return view;
  }

  override markStaleOffline(before: number): string[] {
    const ids = super.markStaleOffline(before);
    if (this.#events.subscriberCount === 0) return ids;
    if (ids.length > MAX_WORKER_EVENTS_AT_ONCE) {
      // A wave (the network between a site and the control plane went down): coalesced as
      // activity, rather than thousands of events a dashboard would not keep up with.
      for (const id of ids) this.#events.touch(id);
      return ids;
    }
    for (const id of ids) {
      const view = super.get(id);
      if (view) workerEvent(this.#events, view);
    }
    return ids;
  }

  override delete(workerId: string): boolean {
    const deleted = super.delete(workerId);
    if (deleted) {
      this.#events.emit({
        type: "worker",
        worker_id: workerId,
        status: null,
        is_online: false,
        last_heartbeat: null,
      });
    }
    return deleted;
  }
}

/** {@linkcode MetricStore} that reports new samples as activity. */
export class LiveMetricStore extends MetricStore {
  #events: LiveEvents;

  /** Creates the store. */
  constructor(
    db: DatabaseSync,
    options: { now: () => number; quota?: StorageQuota; events: LiveEvents },
  ) {
    super(db, options);
    this.#events = options.events;
  }

  override insert(
    workerId: string,
    samples: readonly IncomingSample[],
  ): { accepted: number; duplicates: number } {
    const counts = super.insert(workerId, samples);
    if (counts.accepted > 0) this.#events.touch(workerId);
    return counts;
  }

  override appendToStream(
    workerId: string,
    stream: string,
    ts: number,
    fields: Record<string, unknown>,
  ): Record<string, unknown> {
    const sample = super.appendToStream(workerId, stream, ts, fields);
    this.#events.touch(workerId);
    return sample;
  }
}

/** {@linkcode CommandStore} that reports every status change. */
export class LiveCommandStore extends CommandStore {
  #events: LiveEvents;

  /** Creates the store. */
  constructor(
    db: DatabaseSync,
    options: { now: () => number; newId: () => string; timing: CommandTiming; events: LiveEvents },
  ) {
    super(db, options);
    this.#events = options.events;
  }

  #report(view: CommandView | undefined, before?: CommandStatus): void {
    if (!view || view.status === before) return;
    this.#events.emit({
      type: "command",
      command_id: view.command_id,
      worker_id: view.worker_id,
      command_type: view.command_type,
      status: view.status,
    });
  }

  override create(input: Parameters<CommandStore["create"]>[0]): CommandView {
    const view = super.create(input);
    this.#report(view);
    return view;
  }

  override markDelivered(id: string): void {
    const before = this.#events.subscriberCount > 0 ? super.get(id)?.status : undefined;
    super.markDelivered(id);
    if (before !== undefined) this.#report(super.get(id), before);
  }

  override ack(workerId: string, id: string): boolean {
    const changed = super.ack(workerId, id);
    if (changed) this.#report(super.get(id));
    return changed;
  }

  override complete(id: string, result: IncomingResult): "stored" | "already" {
    const outcome = super.complete(id, result);
    if (outcome === "stored") this.#report(super.get(id));
    return outcome;
  }

  override sweepTimeouts(): string[] {
    const ids = super.sweepTimeouts();
    for (const id of ids) this.#report(super.get(id));
    return ids;
  }
}

/** {@linkcode KeyStore} that reports new and revoked keys. */
export class LiveKeyStore extends KeyStore {
  #events: LiveEvents;

  /** Creates the store. */
  constructor(
    db: DatabaseSync,
    options: { now: () => number; newId: () => string; events: LiveEvents },
  ) {
    super(db, options);
    this.#events = options.events;
  }

  override async create(
    name: string,
    scopes: readonly string[] = ["worker"],
  ): Promise<{ record: KeyRecord; key: string }> {
    const created = await super.create(name, scopes);
    this.#events.emit({ type: "key", key_id: created.record.id, active: true });
    return created;
  }

  override revoke(id: string): boolean {
    const revoked = super.revoke(id);
    if (revoked) this.#events.emit({ type: "key", key_id: id, active: false });
    return revoked;
  }
}
