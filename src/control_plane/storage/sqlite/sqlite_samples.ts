/** Metric samples on SQLite (see `SampleRepository`). */
import type { DatabaseSync } from "node:sqlite";
import type { IncomingSample } from "../../_deps.ts";
import type { SampleRepository, SampleUsage } from "../repositories.ts";
import { utf8Length } from "../shared_rules.ts";

/** Rows per batch of {@linkcode SqliteSamples.scan}. */
const SCAN_BATCH = 2000;

/** Sample storage on the SQLite database. */
export class SqliteSamples implements SampleRepository {
  #db: DatabaseSync;
  #now: () => number;

  /** Creates the repository. */
  constructor(db: DatabaseSync, options: { now: () => number }) {
    this.#db = db;
    this.#now = options.now;
  }

  insert(
    workerId: string,
    samples: readonly IncomingSample[],
  ): Promise<{ accepted: number; duplicates: number; bytes: number }> {
    const now = this.#now();
    const statement = this.#db.prepare(
      `INSERT OR IGNORE INTO metric_samples (worker_id, stream, seq, ts, received_at, sample)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    let accepted = 0;
    let bytes = 0;
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      for (const sample of samples) {
        // Fields the sample left out stay out of the stored text (they read back as null).
        const text = JSON.stringify(sample);
        const result = statement.run(workerId, sample.stream, sample.seq, sample.ts, now, text);
        if (Number(result.changes) > 0) {
          accepted++;
          bytes += utf8Length(text);
        }
      }
      this.#db.exec("COMMIT");
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
    return Promise.resolve({ accepted, duplicates: samples.length - accepted, bytes });
  }

  appendToStream(
    workerId: string,
    stream: string,
    ts: number,
    fields: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
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
    return Promise.resolve(sample);
  }

  list(
    workerId: string,
    options: { since?: number; until?: number; limit: number },
  ): Promise<string[]> {
    const rows = this.#db.prepare(
      `SELECT sample FROM metric_samples WHERE worker_id = ? AND ts >= ? AND ts <= ?
       ORDER BY ts DESC, stream, seq DESC LIMIT ?`,
    ).all(
      workerId,
      options.since ?? 0,
      options.until ?? Number.MAX_SAFE_INTEGER,
      options.limit,
    ) as unknown as { sample: string }[];
    return Promise.resolve(rows.map((r) => r.sample).reverse());
  }

  async *scan(
    workerId: string,
    since: number,
    until: number,
  ): AsyncIterable<{ ts: number; sample: string }[]> {
    // One statement read as it goes (measured faster than keyset batches: no re-sort per
    // batch), handed out in batches; the reader yields to the event loop between them.
    const rows = this.#db.prepare(
      `SELECT ts, sample FROM metric_samples WHERE worker_id = ? AND ts >= ? AND ts < ?`,
    ).iterate(workerId, since, until) as IterableIterator<{ ts: number; sample: string }>;
    let batch: { ts: number; sample: string }[] = [];
    for (const row of rows) {
      batch.push({ ts: Number(row.ts), sample: row.sample });
      if (batch.length >= SCAN_BATCH) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  prune(before: number): Promise<Map<string, SampleUsage>> {
    const rows = this.#db.prepare(
      `DELETE FROM metric_samples WHERE received_at < ?
       RETURNING worker_id, length(CAST(sample AS BLOB)) AS bytes`,
    ).all(before) as unknown as { worker_id: string; bytes: number }[];
    const freed = new Map<string, SampleUsage>();
    for (const row of rows) {
      const entry = freed.get(row.worker_id) ?? { bytes: 0, rows: 0 };
      entry.bytes += Number(row.bytes);
      entry.rows++;
      freed.set(row.worker_id, entry);
    }
    return Promise.resolve(freed);
  }

  usage(workerId: string): Promise<SampleUsage> {
    const row = this.#db.prepare(
      `SELECT COALESCE(SUM(length(CAST(sample AS BLOB))), 0) AS bytes, COUNT(*) AS n
       FROM metric_samples WHERE worker_id = ?`,
    ).get(workerId) as { bytes: number; n: number };
    return Promise.resolve({ bytes: Number(row.bytes), rows: Number(row.n) });
  }
}
