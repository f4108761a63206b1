/** Metric samples, stored once per `(worker_id, stream, seq)` (protocol 3.3). */
import type { DatabaseSync } from "node:sqlite";
import type { Sample } from "./_deps.ts";
import { parseColumn } from "./_json.ts";

/** Sample storage on the control plane database. */
export class MetricStore {
  #db: DatabaseSync;
  #now: () => number;

  /** Creates the store. */
  constructor(db: DatabaseSync, options: { now: () => number }) {
    this.#db = db;
    this.#now = options.now;
  }

  /** Stores new samples in one transaction; a resent `(stream, seq)` counts as duplicate. */
  insert(workerId: string, samples: readonly Sample[]): { accepted: number; duplicates: number } {
    const now = this.#now();
    const statement = this.#db.prepare(
      `INSERT OR IGNORE INTO metric_samples (worker_id, stream, seq, ts, received_at, sample)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    let accepted = 0;
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      for (const sample of samples) {
        const result = statement.run(
          workerId,
          sample.stream,
          sample.seq,
          sample.ts,
          now,
          JSON.stringify(sample),
        );
        accepted += Number(result.changes);
      }
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
    return { accepted, duplicates: samples.length - accepted };
  }

  /**
   * Stores `fields` (a heartbeat's flat snapshot) as the next sample of `workerId`'s stream
   * `stream`, with `ts` and the next `seq` of that stream; returns the stored sample.
   */
  appendToStream(
    workerId: string,
    stream: string,
    ts: number,
    fields: Record<string, unknown>,
  ): Record<string, unknown> {
    // Synchronous from the read to the write, so no other request can take the same seq.
    const row = this.#db.prepare(
      "SELECT MAX(seq) AS last FROM metric_samples WHERE worker_id = ? AND stream = ?",
    ).get(workerId, stream) as { last: number | null } | undefined;
    const seq = (row?.last ?? 0) + 1;
    const sample = { ...fields, stream, seq, ts };
    this.#db.prepare(
      `INSERT OR IGNORE INTO metric_samples (worker_id, stream, seq, ts, received_at, sample)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(workerId, stream, seq, ts, this.#now(), JSON.stringify(sample));
    return sample;
  }

  /**
   * The latest `limit` samples of `workerId` with `since <= ts <= until`, in time order
   * (oldest first).
   */
  list(
    workerId: string,
    options: { since?: number; until?: number; limit: number },
  ): Record<string, unknown>[] {
    const rows = this.#db.prepare(
      `SELECT sample FROM metric_samples WHERE worker_id = ? AND ts >= ? AND ts <= ?
       ORDER BY ts DESC, stream, seq DESC LIMIT ?`,
    ).all(
      workerId,
      options.since ?? 0,
      options.until ?? Number.MAX_SAFE_INTEGER,
      options.limit,
    ) as unknown as { sample: string }[];
    return rows.map((r) => parseColumn<Record<string, unknown>>(r.sample, {})).reverse();
  }

  /** Deletes samples that arrived before `before` (Unix ms); returns how many. */
  prune(before: number): number {
    const result = this.#db.prepare("DELETE FROM metric_samples WHERE received_at < ?").run(before);
    return Number(result.changes);
  }
}
