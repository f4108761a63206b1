/** Commands on SQLite (see `CommandRepository`). */
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import type { IncomingResult } from "../../_deps.ts";
import type { CommandTiming, CommandView } from "../records.ts";
import type { CommandListOptions, CommandRepository } from "../repositories.ts";
import { type CommandRow, commandViewOf } from "../row_views.ts";

/** Command storage on the SQLite database. */
export class SqliteCommands implements CommandRepository {
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
  }): Promise<CommandView> {
    const now = this.#now();
    const deliverUntil = now + this.#timing.deliveryWindowMs;
    const row = this.#db.prepare(
      `INSERT INTO commands (id, worker_id, command_type, params, timeout_seconds, status,
         created_at, deliver_until, deadline_at)
       VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?) RETURNING *`,
    ).get(
      this.#newId(),
      input.workerId,
      input.commandType,
      JSON.stringify(input.params),
      input.timeoutSeconds,
      now,
      deliverUntil,
      deliverUntil,
    ) as unknown as CommandRow;
    return Promise.resolve(commandViewOf(row));
  }

  /** The command with id `id`. */
  get(id: string): Promise<CommandView | undefined> {
    const row = this.#db.prepare("SELECT * FROM commands WHERE id = ?").get(id) as
      | CommandRow
      | undefined;
    return Promise.resolve(row ? commandViewOf(row) : undefined);
  }

  claimDeliverable(workerId: string, ackTimeoutMs: number, limit: number): Promise<CommandView[]> {
    const now = this.#now();
    const grace = this.#timing.resultGraceMs;
    // One write transaction from the pick to the mark: nothing else can claim in between.
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const ids = this.#db.prepare(
        `SELECT id FROM commands
         WHERE worker_id = ? AND deliver_until > ?
           AND (status = 'pending' OR (status = 'delivered' AND last_delivery_at <= ?))
         ORDER BY created_at, rowid LIMIT ?`,
      ).all(workerId, now, now - ackTimeoutMs, limit) as unknown as { id: string }[];
      const mark = this.#db.prepare(
        `UPDATE commands SET
           status = 'delivered',
           delivery_count = delivery_count + 1,
           delivered_at = COALESCE(delivered_at, ?),
           last_delivery_at = ?,
           deadline_at = CASE WHEN status = 'pending' THEN ? + timeout_seconds * 1000 + ?
                              ELSE MAX(deadline_at, ? + timeout_seconds * 1000 + ?) END
         WHERE id = ? RETURNING *`,
      );
      const claimed = ids.map(({ id }) =>
        mark.get(now, now, now, grace, now, grace, id) as unknown as CommandRow
      );
      this.#db.exec("COMMIT");
      return Promise.resolve(claimed.map(commandViewOf));
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  workersWithDeliverable(ackTimeoutMs: number): Promise<string[]> {
    const now = this.#now();
    const rows = this.#db.prepare(
      `SELECT DISTINCT worker_id FROM commands
       WHERE deliver_until > ?
         AND (status = 'pending' OR (status = 'delivered' AND last_delivery_at <= ?))`,
    ).all(now, now - ackTimeoutMs) as unknown as { worker_id: string }[];
    return Promise.resolve(rows.map((r) => r.worker_id));
  }

  /** Records the agent's ack; ignored unless the command is `workerId`'s and not yet acked. */
  ack(workerId: string, id: string): Promise<boolean> {
    const now = this.#now();
    const result = this.#db.prepare(
      `UPDATE commands SET status = 'acked', acked_at = ?,
         deadline_at = MAX(deadline_at, ? + timeout_seconds * 1000 + ?)
       WHERE id = ? AND worker_id = ? AND status IN ('pending', 'delivered')`,
    ).run(now, now, this.#timing.resultGraceMs, id, workerId);
    return Promise.resolve(Number(result.changes) > 0);
  }

  /**
   * Stores a result. Returns `"stored"`, or `"already"` when the command was terminal
   * already (then nothing changes).
   */
  complete(id: string, result: IncomingResult): Promise<"stored" | "already"> {
    const { command_id: _id, ...rest } = result;
    const changes = this.#db.prepare(
      `UPDATE commands SET status = ?, finished_at = ?, result = ?
       WHERE id = ? AND status NOT IN ('completed', 'failed', 'timeout')`,
    ).run(result.status, this.#now(), JSON.stringify(rest), id).changes;
    return Promise.resolve(Number(changes) > 0 ? "stored" : "already");
  }

  list(options: CommandListOptions): Promise<CommandView[]> {
    const where: string[] = [];
    const args: SQLInputValue[] = [];
    if (options.workerId) {
      where.push("worker_id = ?");
      args.push(options.workerId);
    }
    if (options.status) {
      where.push("status = ?");
      args.push(options.status);
    }
    if (options.commandType) {
      where.push("command_type = ?");
      args.push(options.commandType);
    }
    const sql = `SELECT * FROM commands ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY created_at DESC, rowid DESC LIMIT ?`;
    const rows = this.#db.prepare(sql).all(...args, options.limit) as unknown as CommandRow[];
    return Promise.resolve(rows.map(commandViewOf));
  }

  /** Marks `timeout` every non-terminal command past its deadline; returns their ids. */
  sweepTimeouts(): Promise<string[]> {
    const now = this.#now();
    const rows = this.#db.prepare(
      `UPDATE commands SET status = 'timeout', finished_at = ?,
         result = json_object('status', 'timeout', 'error', 'no result before the deadline',
                              'error_code', 'deadline_exceeded')
       WHERE status IN ('pending', 'delivered', 'acked') AND deadline_at < ?
       RETURNING id`,
    ).all(now, now) as unknown as { id: string }[];
    return Promise.resolve(rows.map((r) => r.id));
  }
}
