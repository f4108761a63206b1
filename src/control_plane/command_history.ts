/**
 * The command list of the admin API with its filters: worker, status and command type. The
 * SQL lives here, apart from the command store; the signature is async so another database
 * can stand behind it.
 *
 * @module
 */
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import type { CommandStore, CommandView } from "./command_store.ts";

/** Options of {@linkcode CommandHistory.list}. */
export interface CommandHistoryOptions {
  workerId?: string;
  status?: string;
  /** Only commands of this `command_type`. */
  commandType?: string;
  limit: number;
}

/** Filtered command lists over the control plane database. */
export class CommandHistory {
  #db: DatabaseSync;
  #commands: CommandStore;

  /** Creates the query helper; commands are read through `commands`, so views match. */
  constructor(db: DatabaseSync, options: { commands: CommandStore }) {
    this.#db = db;
    this.#commands = options.commands;
  }

  /** Commands matching every given filter, newest first. */
  list(options: CommandHistoryOptions): Promise<CommandView[]> {
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
    const rows = this.#db.prepare(
      `SELECT id FROM commands ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY created_at DESC, rowid DESC LIMIT ?`,
    ).all(...args, options.limit) as unknown as { id: string }[];
    const out: CommandView[] = [];
    for (const row of rows) {
      const view = this.#commands.get(row.id);
      if (view) out.push(view);
    }
    return Promise.resolve(out);
  }
}
