/** Metric samples, stored once per `(worker_id, stream, seq)` (protocol 3.3). */
import type { DatabaseSync } from "node:sqlite";
import { type IncomingSample, ShownSampleSchema } from "./_deps.ts";
import { parseColumn } from "./_json.ts";
import type { StorageQuota } from "./storage_quota.ts";

/** Sample storage on the control plane database. */
export class MetricStore {
  #db: DatabaseSync;
  #now: () => number;
  #quota: StorageQuota | undefined;

  /** Creates the store; `quota` is kept up to date with what is stored and deleted. */
  constructor(db: DatabaseSync, options: { now: () => number; quota?: StorageQuota }) {
    this.#db = db;
    this.#now = options.now;
    this.#quota = options.quota;
  }

  /**
   * Stores new samples in one transaction; a resent `(stream, seq)` counts as duplicate.
   * Fields the sample left out stay out of the stored text (they read back as null), so a
   * sample never takes more room on disk than it took on the wire.
   */
  insert(
    workerId: string,
    samples: readonly IncomingSample[],
  ): { accepted: number; duplicates: number } {
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
        const text = JSON.stringify(sample);
        const result = statement.run(workerId, sample.stream, sample.seq, sample.ts, now, text);
        if (Number(result.changes) > 0) {
          accepted++;
          bytes += utf8Length(text);
        }
      }
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
    this.#quota?.add(workerId, bytes, accepted);
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
   * (oldest first), every known field present (null where the agent sent none).
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
    return rows.map((r) => readSample(r.sample)).reverse();
  }

  /** Deletes samples that arrived before `before` (Unix ms); returns how many. */
  prune(before: number): number {
    const rows = this.#db.prepare(
      `DELETE FROM metric_samples WHERE received_at < ?
       RETURNING worker_id, length(CAST(sample AS BLOB)) AS bytes`,
    ).all(before) as unknown as { worker_id: string; bytes: number }[];
    const freed = new Map<string, { bytes: number; rows: number }>();
    for (const row of rows) {
      const entry = freed.get(row.worker_id) ?? { bytes: 0, rows: 0 };
      entry.bytes += Number(row.bytes);
      entry.rows++;
      freed.set(row.worker_id, entry);
    }
    for (const [workerId, entry] of freed) this.#quota?.add(workerId, -entry.bytes, -entry.rows);
    return rows.length;
  }

  /** Forgets what is counted for `workerId` (its samples were deleted with it). */
  forgetWorker(workerId: string): void {
    this.#quota?.forget(workerId);
  }
}

/** UTF-8 length of `text` without encoding it. */
function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff) i++; // a pair: 4 bytes for 2 units
    else bytes += 2;
  }
  return bytes;
}

/** A stored sample with every known field present; a damaged row reads as `{}`. */
function readSample(text: string): Record<string, unknown> {
  const raw = parseColumn<unknown>(text, {});
  const parsed = ShownSampleSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  return raw !== null && typeof raw === "object" ? raw as Record<string, unknown> : {};
}
