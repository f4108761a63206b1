/** Commands on PostgreSQL (see `CommandRepository`). */
import type { IncomingResult } from "../../_deps.ts";
import { type CommandTiming, type CommandView, TIMEOUT_RESULT } from "../records.ts";
import type { CommandListOptions, CommandRepository } from "../repositories.ts";
import { type CommandRow, commandViewOf } from "../row_views.ts";
import type { Sql } from "./pg_types.ts";

/** A `commands` row with PostgreSQL's insertion order (SQLite has `rowid`). */
type PgCommandRow = CommandRow & { seq: number };

/** Command storage on PostgreSQL. */
export class PgCommands implements CommandRepository {
  #sql: Sql;
  #now: () => number;
  #newId: () => string;
  #timing: CommandTiming;

  /** Creates the repository; `newId` makes command ids (UUIDs). */
  constructor(
    sql: Sql,
    options: { now: () => number; newId: () => string; timing: CommandTiming },
  ) {
    this.#sql = sql;
    this.#now = options.now;
    this.#newId = options.newId;
    this.#timing = options.timing;
  }

  async create(input: {
    workerId: string;
    commandType: string;
    params: Record<string, unknown>;
    timeoutSeconds: number;
  }): Promise<CommandView> {
    const now = this.#now();
    const deliverUntil = now + this.#timing.deliveryWindowMs;
    const [row] = await this.#sql<CommandRow[]>`
      INSERT INTO commands (id, worker_id, command_type, params, timeout_seconds, status,
        created_at, deliver_until, deadline_at)
      VALUES (${this.#newId()}, ${input.workerId}, ${input.commandType},
        ${JSON.stringify(input.params)}, ${input.timeoutSeconds}, 'pending', ${now},
        ${deliverUntil}, ${deliverUntil})
      RETURNING *`;
    return commandViewOf(row!);
  }

  async get(id: string): Promise<CommandView | undefined> {
    const [row] = await this.#sql<CommandRow[]>`SELECT * FROM commands WHERE id = ${id}`;
    return row ? commandViewOf(row) : undefined;
  }

  async claimDeliverable(
    workerId: string,
    ackTimeoutMs: number,
    limit: number,
  ): Promise<CommandView[]> {
    const now = this.#now();
    const grace = this.#timing.resultGraceMs;
    const cut = now - Math.min(ackTimeoutMs, Number.MAX_SAFE_INTEGER / 2);
    // Rows another instance is claiming right now are skipped, not waited for; once it
    // commits they are no longer due (last_delivery_at moved), so none is claimed twice.
    const rows = await this.#sql<PgCommandRow[]>`
      UPDATE commands c SET
        status = 'delivered',
        delivery_count = c.delivery_count + 1,
        delivered_at = COALESCE(c.delivered_at, ${now}::bigint),
        last_delivery_at = ${now}::bigint,
        deadline_at = CASE
          WHEN c.status = 'pending' THEN ${now}::bigint + c.timeout_seconds * 1000 + ${grace}::bigint
          ELSE GREATEST(c.deadline_at, ${now}::bigint + c.timeout_seconds * 1000 + ${grace}::bigint)
        END
      FROM (
        SELECT id FROM commands
        WHERE worker_id = ${workerId} AND deliver_until > ${now}::bigint
          AND (status = 'pending' OR (status = 'delivered' AND last_delivery_at <= ${cut}::bigint))
        ORDER BY created_at, seq
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      ) picked
      WHERE c.id = picked.id
      RETURNING c.*`;
    return rows.sort((a, b) => a.created_at - b.created_at || a.seq - b.seq).map(commandViewOf);
  }

  async workersWithDeliverable(ackTimeoutMs: number): Promise<string[]> {
    const now = this.#now();
    const rows = await this.#sql<{ worker_id: string }[]>`
      SELECT DISTINCT worker_id FROM commands
      WHERE deliver_until > ${now}::bigint
        AND (status = 'pending' OR (status = 'delivered'
             AND last_delivery_at <= ${now - ackTimeoutMs}::bigint))`;
    return rows.map((r) => r.worker_id);
  }

  async ack(workerId: string, id: string): Promise<boolean> {
    const now = this.#now();
    const result = await this.#sql`
      UPDATE commands SET status = 'acked', acked_at = ${now}::bigint,
        deadline_at = GREATEST(deadline_at,
          ${now}::bigint + timeout_seconds * 1000 + ${this.#timing.resultGraceMs}::bigint)
      WHERE id = ${id} AND worker_id = ${workerId} AND status IN ('pending', 'delivered')`;
    return result.count > 0;
  }

  async complete(id: string, result: IncomingResult): Promise<"stored" | "already"> {
    const { command_id: _id, ...rest } = result;
    const changed = await this.#sql`
      UPDATE commands SET status = ${result.status}, finished_at = ${this.#now()},
        result = ${JSON.stringify(rest)}
      WHERE id = ${id} AND status NOT IN ('completed', 'failed', 'timeout')`;
    return changed.count > 0 ? "stored" : "already";
  }

  async list(options: CommandListOptions): Promise<CommandView[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (options.workerId) {
      args.push(options.workerId);
      where.push(`worker_id = $${args.length}`);
    }
    if (options.status) {
      args.push(options.status);
      where.push(`status = $${args.length}`);
    }
    if (options.commandType) {
      args.push(options.commandType);
      where.push(`command_type = $${args.length}`);
    }
    args.push(options.limit);
    const rows = await this.#sql.unsafe<CommandRow[]>(
      `SELECT * FROM commands ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY created_at DESC, seq DESC LIMIT $${args.length}`,
      args,
    );
    return rows.map(commandViewOf);
  }

  async sweepTimeouts(): Promise<string[]> {
    const now = this.#now();
    const rows = await this.#sql<{ id: string }[]>`
      UPDATE commands SET status = 'timeout', finished_at = ${now}::bigint,
        result = ${JSON.stringify(TIMEOUT_RESULT)}
      WHERE status IN ('pending', 'delivered', 'acked') AND deadline_at < ${now}::bigint
      RETURNING id`;
    return rows.map((r) => r.id);
  }
}
