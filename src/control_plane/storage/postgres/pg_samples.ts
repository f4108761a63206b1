/** Metric samples on PostgreSQL (see `SampleRepository`). */
import type { IncomingSample } from "../../_deps.ts";
import type { SampleRepository, SampleUsage } from "../repositories.ts";
import type { Sql } from "./pg_types.ts";

/** Rows read per batch of {@linkcode PgSamples.scan}. */
const SCAN_BATCH = 4000;
/** Attempts of {@linkcode PgSamples.appendToStream} when another writer took the seq. */
const APPEND_ATTEMPTS = 5;

/** Sample storage on PostgreSQL. */
export class PgSamples implements SampleRepository {
  #sql: Sql;
  #now: () => number;

  /** Creates the repository. */
  constructor(sql: Sql, options: { now: () => number }) {
    this.#sql = sql;
    this.#now = options.now;
  }

  async insert(
    workerId: string,
    samples: readonly IncomingSample[],
  ): Promise<{ accepted: number; duplicates: number; bytes: number }> {
    if (samples.length === 0) return { accepted: 0, duplicates: 0, bytes: 0 };
    const now = this.#now();
    const texts = samples.map((sample) => JSON.stringify(sample));
    // One statement for the batch (arrays unnested server-side); a resent sample is skipped.
    const rows = await this.#sql<{ bytes: number }[]>`
      INSERT INTO metric_samples (worker_id, stream, seq, ts, received_at, sample)
      SELECT ${workerId}, s.stream, s.seq, s.ts, ${now}::bigint, s.sample
      FROM unnest(${samples.map((s) => s.stream)}::text[], ${
      samples.map((s) => String(s.seq))
    }::bigint[], ${samples.map((s) => String(s.ts))}::bigint[], ${texts}::text[])
        AS s(stream, seq, ts, sample)
      ON CONFLICT DO NOTHING
      RETURNING octet_length(sample) AS bytes`;
    let bytes = 0;
    for (const row of rows) bytes += Number(row.bytes);
    return { accepted: rows.length, duplicates: samples.length - rows.length, bytes };
  }

  async appendToStream(
    workerId: string,
    stream: string,
    ts: number,
    fields: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    for (let attempt = 1;; attempt++) {
      const [row] = await this.#sql<{ last: number | null }[]>`
        SELECT MAX(seq) AS last FROM metric_samples
        WHERE worker_id = ${workerId} AND stream = ${stream}`;
      const seq = (row?.last ?? 0) + 1;
      const sample = { ...fields, stream, seq, ts };
      const inserted = await this.#sql`
        INSERT INTO metric_samples (worker_id, stream, seq, ts, received_at, sample)
        VALUES (${workerId}, ${stream}, ${seq}, ${ts}, ${this.#now()}, ${JSON.stringify(sample)})
        ON CONFLICT DO NOTHING`;
      // Another writer took this seq between the read and the write: read again.
      if (inserted.count > 0 || attempt >= APPEND_ATTEMPTS) return sample;
    }
  }

  async list(
    workerId: string,
    options: { since?: number; until?: number; limit: number },
  ): Promise<string[]> {
    const rows = await this.#sql<{ sample: string }[]>`
      SELECT sample FROM metric_samples
      WHERE worker_id = ${workerId} AND ts >= ${options.since ?? 0}::bigint
        AND ts <= ${options.until ?? Number.MAX_SAFE_INTEGER}::bigint
      ORDER BY ts DESC, stream, seq DESC LIMIT ${options.limit}`;
    return rows.map((r) => r.sample).reverse();
  }

  async *scan(
    workerId: string,
    since: number,
    until: number,
  ): AsyncIterable<{ ts: number; sample: string }[]> {
    let after: [number, string, number] = [Number.MIN_SAFE_INTEGER, "", 0];
    for (;;) {
      const rows = await this.#sql<{ ts: number; stream: string; seq: number; sample: string }[]>`
        SELECT ts, stream, seq, sample FROM metric_samples
        WHERE worker_id = ${workerId} AND ts >= ${since}::bigint AND ts < ${until}::bigint
          AND (ts, stream, seq) > (${after[0]}::bigint, ${after[1]}::text, ${after[2]}::bigint)
        ORDER BY ts, stream, seq LIMIT ${SCAN_BATCH}`;
      if (rows.length > 0) yield rows.map((row) => ({ ts: row.ts, sample: row.sample }));
      if (rows.length < SCAN_BATCH) return;
      const last = rows.at(-1)!;
      after = [last.ts, last.stream, last.seq];
    }
  }

  async prune(before: number): Promise<Map<string, SampleUsage>> {
    const rows = await this.#sql<{ worker_id: string; bytes: number; rows: number }[]>`
      WITH gone AS (
        DELETE FROM metric_samples WHERE received_at < ${before}::bigint
        RETURNING worker_id, octet_length(sample) AS bytes
      )
      SELECT worker_id, SUM(bytes)::bigint AS bytes, COUNT(*)::bigint AS rows
      FROM gone GROUP BY worker_id`;
    return new Map(rows.map((r) => [r.worker_id, { bytes: r.bytes, rows: r.rows }]));
  }

  async usage(workerId: string): Promise<SampleUsage> {
    const [row] = await this.#sql<{ bytes: number; rows: number }[]>`
      SELECT COALESCE(SUM(octet_length(sample)), 0)::bigint AS bytes, COUNT(*)::bigint AS rows
      FROM metric_samples WHERE worker_id = ${workerId}`;
    return { bytes: row?.bytes ?? 0, rows: row?.rows ?? 0 };
  }
}
