/**
 * The control plane's storage, as async repositories: keys, workers, commands and samples,
 * plus the worker list (fleet) queries and leader election. Two adapters implement them:
 * SQLite (`sqlite/`, the embedded default) and PostgreSQL (`postgres/`, for several
 * instances over one database). The logical schema is in `schema.md`.
 *
 * Every method may throw {@linkcode UnavailableError} (the database cannot answer now);
 * the others are named where they apply. No method throws an HTTP error.
 *
 * @module
 */
import type {
  HeartbeatRequest,
  IncomingResult,
  IncomingSample,
  RegisterRequest,
} from "../_deps.ts";
import type { FleetPage, FleetPageOptions } from "../fleet_query.ts";
import type { FleetSummary, WorkerKeyInfo } from "../admin_api.ts";
import type {
  CommandTiming,
  CommandView,
  KeyRecord,
  KeyView,
  WorkerHolder,
  WorkerView,
} from "./records.ts";

/** Worker API keys: stored as prefix, SHA-256 hash and derived signing key, never raw. */
export interface KeyRepository {
  /** Creates a key and returns it with the raw key, which is never stored. */
  create(name: string, scopes?: readonly string[]): Promise<{ record: KeyRecord; key: string }>;
  /**
   * The active key matching `rawKey`, or `undefined`. Looks up by prefix, then compares the
   * SHA-256 hash in constant time; notes the use (at most once a minute).
   */
  authenticate(rawKey: string): Promise<KeyRecord | undefined>;
  /** The key with id `id`. */
  get(id: string): Promise<KeyRecord | undefined>;
  /** Every key, newest first, as the admin API shows them. */
  list(): Promise<KeyView[]>;
  /** Marks a key inactive. @throws {NotFoundError} when there is no such key. */
  revoke(id: string): Promise<void>;
}

/** Workers: one per key, registered idempotently, kept fresh by heartbeats. */
export interface WorkerRepository {
  /**
   * Registers the worker of key `keyId`: the first call creates it, later calls update it and
   * return the same worker id. The request's `instance_id` becomes the key's holder.
   * @throws {InvalidInputError} when the metadata is too big.
   */
  register(keyId: string, request: RegisterRequest): Promise<WorkerView>;
  /**
   * Records a heartbeat: status, load, latest flat metrics, metadata merged shallowly;
   * undefined when the worker is gone. `before` is the worker as the caller read it just
   * before (the engines ignore it; `live_stores.ts` tells status changes by it instead of
   * reading the worker again). @throws {InvalidInputError} metadata too big.
   */
  heartbeat(
    workerId: string,
    request: HeartbeatRequest,
    before?: WorkerView,
  ): Promise<WorkerView | undefined>;
  /** Who holds key `keyId` now, if a worker registered with it. */
  holderOf(keyId: string): Promise<WorkerHolder | undefined>;
  /** Notes a `POST …/metrics` of `workerId` now. */
  noteMetricsPost(workerId: string): Promise<void>;
  /** The worker with id `workerId`. */
  get(workerId: string): Promise<WorkerView | undefined>;
  /** The worker bound to key `keyId`, if it registered. */
  byKey(keyId: string): Promise<WorkerView | undefined>;
  /** Deletes a worker with its commands and samples. @throws {NotFoundError} */
  delete(workerId: string): Promise<void>;
  /** Marks offline every worker whose last heartbeat is older than `before`; returns ids. */
  markStaleOffline(before: number): Promise<string[]>;
}

/** Filters of {@linkcode CommandRepository.list}. */
export interface CommandListOptions {
  workerId?: string;
  status?: string;
  /** Only commands of this `command_type`. */
  commandType?: string;
  limit: number;
}

/** Commands and their life cycle: pending → delivered → acked → completed | failed | timeout. */
export interface CommandRepository {
  /** Queues a command (its deadline is the end of the delivery window until delivered). */
  create(input: {
    workerId: string;
    commandType: string;
    params: Record<string, unknown>;
    timeoutSeconds: number;
  }): Promise<CommandView>;
  /** The command with id `id`. */
  get(id: string): Promise<CommandView | undefined>;
  /**
   * Claims up to `limit` commands of `workerId` that are due now (pending ones, and delivered
   * ones not acked within `ackTimeoutMs`, inside their delivery window), oldest first, and
   * records one delivery of each, atomically: two instances claiming at once never get the
   * same command. Returns the claimed commands as stored after the claim.
   */
  claimDeliverable(workerId: string, ackTimeoutMs: number, limit: number): Promise<CommandView[]>;
  /** Workers that have something due now (see {@linkcode claimDeliverable}). */
  workersWithDeliverable(ackTimeoutMs: number): Promise<string[]>;
  /** Records the agent's ack; false unless the command is `workerId`'s and not yet acked. */
  ack(workerId: string, id: string): Promise<boolean>;
  /** Stores a result; `"already"` when the command was terminal (nothing changes). */
  complete(id: string, result: IncomingResult): Promise<"stored" | "already">;
  /** Commands matching every given filter, newest first. */
  list(options: CommandListOptions): Promise<CommandView[]>;
  /** Marks `timeout` every non-terminal command past its deadline; returns their ids. */
  sweepTimeouts(): Promise<string[]>;
}

/** Stored bytes and rows of one worker's samples (for the storage quota). */
export interface SampleUsage {
  /** Bytes of the samples' JSON text. */
  bytes: number;
  rows: number;
}

/** Metric samples, stored once per `(worker_id, stream, seq)` (protocol 3.3). */
export interface SampleRepository {
  /**
   * Stores new samples in one transaction; a resent `(stream, seq)` counts as duplicate.
   * `bytes` is the JSON text length of the accepted ones.
   */
  insert(
    workerId: string,
    samples: readonly IncomingSample[],
  ): Promise<{ accepted: number; duplicates: number; bytes: number }>;
  /**
   * Stores `fields` as the next sample of `workerId`'s stream `stream` (the next `seq`,
   * taken atomically), returns the stored sample.
   */
  appendToStream(
    workerId: string,
    stream: string,
    ts: number,
    fields: Record<string, unknown>,
  ): Promise<Record<string, unknown>>;
  /** The latest `limit` samples with `since <= ts <= until`, oldest first, as stored text. */
  list(
    workerId: string,
    options: { since?: number; until?: number; limit: number },
  ): Promise<string[]>;
  /** Every sample with `since <= ts < until`, in batches, in no particular order. */
  scan(
    workerId: string,
    since: number,
    until: number,
  ): AsyncIterable<{ ts: number; sample: string }[]>;
  /** Deletes samples that arrived before `before`; returns bytes and rows freed per worker. */
  prune(before: number): Promise<Map<string, SampleUsage>>;
  /** What `workerId`'s samples take. */
  usage(workerId: string): Promise<SampleUsage>;
}

/** The worker list for thousands of workers (see `fleet_query.ts`). */
export interface FleetRepository {
  /** One page of workers matching `options`, in the order asked for. */
  page(options: FleetPageOptions): Promise<FleetPage>;
  /** Counts over every worker. */
  summary(): Promise<FleetSummary>;
  /** The key worker `workerId` registered with, if both exist. */
  keyOf(workerId: string): Promise<WorkerKeyInfo | null>;
}

/**
 * Who runs the sweeper (timeouts, offline marking, retention): one leader at a time over one
 * database. SQLite: the process that has the file is always the leader.
 */
export interface Leadership {
  /** Whether this instance leads now: takes the lead if free, confirms it if held. */
  tryLead(): Promise<boolean>;
  /** Gives the lead up (on shutdown), so another instance takes over at once. */
  release(): Promise<void>;
}

/** Options every adapter takes. */
export interface StorageOptions {
  /** Clock in Unix ms. */
  now: () => number;
  /** Id generators. */
  ids: { key: () => string; worker: () => string; command: () => string };
  /** Command timing. */
  timing: CommandTiming;
}

/** One database: the repositories over it. */
export interface Storage {
  /** `sqlite` or `postgres`. */
  readonly engine: "sqlite" | "postgres";
  readonly keys: KeyRepository;
  readonly workers: WorkerRepository;
  readonly commands: CommandRepository;
  readonly samples: SampleRepository;
  readonly fleet: FleetRepository;
  readonly leadership: Leadership;
  /** Resolves when the database answers; throws {@linkcode UnavailableError} otherwise. */
  ping(): Promise<void>;
}

/** A factory of repositories bound to options (clock, ids, timing), and the database's end. */
export interface StorageEngine {
  /** `sqlite` or `postgres`. */
  readonly engine: "sqlite" | "postgres";
  /** The repositories over this database with `options`. */
  open(options: StorageOptions): Storage;
  /** Closes the database (pool, file). */
  close(): Promise<void>;
}
