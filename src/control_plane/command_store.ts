/**
 * Commands and their life cycle: pending → delivered → acked → completed | failed | timeout.
 */
import type { DatabaseSync } from "node:sqlite";
import type { IncomingResult } from "./_deps.ts";
import { parseColumn } from "./_json.ts";

/** Every status a stored command can have. */
export const COMMAND_STATUSES = [
  "pending",
  "delivered",
  "acked",
  "completed",
  "failed",
  "timeout",
] as const;
/** One of {@linkcode COMMAND_STATUSES}. */
export type CommandStatus = typeof COMMAND_STATUSES[number];

/** Statuses after which nothing changes a command any more. */
export const TERMINAL_STATUSES: readonly CommandStatus[] = ["completed", "failed", "timeout"];

/** A command as the admin API shows it. */
export interface CommandView {
  command_id: string;
  worker_id: string;
  command_type: string;
  params: Record<string, unknown>;
  timeout_seconds: number;
  status: CommandStatus;
  created_at: number;
  delivered_at: number | null;
  last_delivery_at: number | null;
  acked_at: number | null;
  finished_at: number | null;
  deadline_at: number;
  delivery_count: number;
  result: Record<string, unknown> | null;
}

/** Timing rules of delivery and the timeout sweep. */
export interface CommandTiming {
  /** How long after creation a command is still delivered. */
  deliveryWindowMs: number;
  /** Extra time after `timeout_seconds` for the result to arrive. */
  resultGraceMs: number;
}

interface CommandRow {
  id: string;
  worker_id: string;
  command_type: string;
  params: string;
  timeout_seconds: number;
  status: CommandStatus;
  created_at: number;
  deliver_until: number;
  deadline_at: number;
  delivery_count: number;
  delivered_at: number | null;
  last_delivery_at: number | null;
  acked_at: number | null;
  finished_at: number | null;
  result: string | null;
}

/** Command storage on the control plane database. */
export class CommandStore {
  #db: DatabaseSync;
  #now: () => number;
  #newId: () => string;
  #timing: CommandTiming;

  /** Creates the store; `newId` makes command ids (UUIDs). */
  constructor(
    db: DatabaseSync,
    options: { now: () => number; newId: () => string; timing: CommandTiming },
  ) {
    this.#db = db;
    this.#now = options.now;
    this.#newId = options.newId;
    this.#timing = options.timing;
  }

  /**
   * Queues a command. Until it is delivered its deadline is the end of the delivery
   * window; from the first delivery on it is the latest delivery or ack plus
   * `timeout_seconds` plus the result grace.
   */
  create(input: {
    workerId: string;
    commandType: string;
    params: Record<string, unknown>;
    timeoutSeconds: number;
  }): CommandView {
    const id = this.#newId();
    const now = this.#now();
    const deliverUntil = now + this.#timing.deliveryWindowMs;
    this.#db.prepare(
      `INSERT INTO commands (id, worker_id, command_type, params, timeout_seconds, status,
         created_at, deliver_until, deadline_at)
       VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
    ).run(
      id,
      input.workerId,
      input.commandType,
      JSON.stringify(input.params),
      input.timeoutSeconds,
      now,
      deliverUntil,
      deliverUntil,
    );
    return this.get(id)!;
  }

  /** The command with id `id`. */
  get(id: string): CommandView | undefined {
    const row = this.#db.prepare("SELECT * FROM commands WHERE id = ?").get(id) as
      | CommandRow
      | undefined;
    return row ? toView(row) : undefined;
  }

  /**
   * Commands of `workerId` to (re)send now, oldest first: pending ones, and delivered ones
   * not acked within `ackTimeoutMs`, still inside their delivery window.
   */
  deliverable(workerId: string, ackTimeoutMs: number, limit: number): CommandView[] {
    const now = this.#now();
    const rows = this.#db.prepare(
      `SELECT * FROM commands
       WHERE worker_id = ? AND deliver_until > ?
         AND (status = 'pending' OR (status = 'delivered' AND last_delivery_at <= ?))
       ORDER BY created_at, rowid LIMIT ?`,
    ).all(workerId, now, now - ackTimeoutMs, limit) as unknown as CommandRow[];
    return rows.map(toView);
  }

  /** Workers that have something to (re)send now (see {@linkcode deliverable}). */
  workersWithDeliverable(ackTimeoutMs: number): string[] {
    const now = this.#now();
    const rows = this.#db.prepare(
      `SELECT DISTINCT worker_id FROM commands
       WHERE deliver_until > ?
         AND (status = 'pending' OR (status = 'delivered' AND last_delivery_at <= ?))`,
    ).all(now, now - ackTimeoutMs) as unknown as { worker_id: string }[];
    return rows.map((r) => r.worker_id);
  }

  /** Records one delivery of `id` (status `delivered` unless it is already further). */
  markDelivered(id: string): void {
    const now = this.#now();
    this.#db.prepare(
      `UPDATE commands SET
         status = CASE WHEN status = 'pending' THEN 'delivered' ELSE status END,
         delivery_count = delivery_count + 1,
         delivered_at = COALESCE(delivered_at, ?),
         last_delivery_at = ?,
         deadline_at = CASE WHEN status = 'pending' THEN ? + timeout_seconds * 1000 + ?
                            ELSE MAX(deadline_at, ? + timeout_seconds * 1000 + ?) END
       WHERE id = ? AND status IN ('pending', 'delivered')`,
    ).run(now, now, now, this.#timing.resultGraceMs, now, this.#timing.resultGraceMs, id);
  }

  /** Records the agent's ack; ignored unless the command is `workerId`'s and not yet acked. */
  ack(workerId: string, id: string): boolean {
    const now = this.#now();
    const result = this.#db.prepare(
      `UPDATE commands SET status = 'acked', acked_at = ?,
         deadline_at = MAX(deadline_at, ? + timeout_seconds * 1000 + ?)
       WHERE id = ? AND worker_id = ? AND status IN ('pending', 'delivered')`,
    ).run(now, now, this.#timing.resultGraceMs, id, workerId);
    return Number(result.changes) > 0;
  }

  /**
   * Stores a result. Returns `"stored"`, or `"already"` when the command was terminal
   * already (then nothing changes).
   */
  complete(id: string, result: IncomingResult): "stored" | "already" {
    const { command_id: _id, ...rest } = result;
    const changes = this.#db.prepare(
      `UPDATE commands SET status = ?, finished_at = ?, result = ?
       WHERE id = ? AND status NOT IN ('completed', 'failed', 'timeout')`,
    ).run(result.status, this.#now(), JSON.stringify(rest), id).changes;
    return Number(changes) > 0 ? "stored" : "already";
  }

  /** Commands, newest first, filtered by worker and status. */
  list(options: { workerId?: string; status?: string; limit: number }): CommandView[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (options.workerId) {
      where.push("worker_id = ?");
      args.push(options.workerId);
    }
    if (options.status) {
      where.push("status = ?");
      args.push(options.status);
    }
    const sql = `SELECT * FROM commands ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY created_at DESC, rowid DESC LIMIT ?`;
    const rows = this.#db.prepare(sql).all(...args, options.limit) as unknown as CommandRow[];
    return rows.map(toView);
  }

  /** Marks `timeout` every non-terminal command past its deadline; returns their ids. */
  sweepTimeouts(): string[] {
    const now = this.#now();
    const rows = this.#db.prepare(
      `UPDATE commands SET status = 'timeout', finished_at = ?,
         result = json_object('status', 'timeout', 'error', 'no result before the deadline',
                              'error_code', 'deadline_exceeded')
       WHERE status IN ('pending', 'delivered', 'acked') AND deadline_at < ?
       RETURNING id`,
    ).all(now, now) as unknown as { id: string }[];
    return rows.map((r) => r.id);
  }
}

function toView(row: CommandRow): CommandView {
  return {
    command_id: row.id,
    worker_id: row.worker_id,
    command_type: row.command_type,
    params: parseColumn<Record<string, unknown>>(row.params, {}),
    timeout_seconds: row.timeout_seconds,
    status: row.status,
    created_at: row.created_at,
    delivered_at: row.delivered_at,
    last_delivery_at: row.last_delivery_at,
    acked_at: row.acked_at,
    finished_at: row.finished_at,
    deadline_at: row.deadline_at,
    delivery_count: row.delivery_count,
    result: parseColumn<Record<string, unknown> | null>(row.result, null),
  };
}
