/**
 * PostgreSQL drivers compared for the control plane's adapter: `postgres` against `pg`, simple
 * `SELECT $1::int` round trips over a pool of 10, with 10 and with 100 queries in flight, three
 * rounds each, alternating. Prints a table. Needs a PostgreSQL server (FTL_TEST_DATABASE_URL, default the
 * machine's 127.0.0.1:5432 as user postgres).
 *
 * ```sh
 * deno run -A bench/pg_driver_bench.ts [seconds per round, default 3]
 * ```
 */
import postgres from "postgres";
import pg from "npm:pg@^8.23.1";
import { testDatabaseUrl } from "../tests/_helpers/test_services.ts";

const SECONDS = Number(Deno.args[0] ?? 3);
const POOL = 10;
/** Queries in flight at once: as many as the pool, and a crowd (many agents at once). */
const IN_FLIGHT = [10, 100];
const url = testDatabaseUrl();

async function measure(inFlight: number, query: (n: number) => Promise<unknown>): Promise<number> {
  const end = performance.now() + SECONDS * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async (_, lane) => {
      while (performance.now() < end) {
        await query(lane);
        done++;
      }
    }),
  );
  return done / SECONDS;
}

const porsager = postgres(url, { max: POOL, onnotice: () => {} });
const nodePg = new pg.Pool({ connectionString: url, max: POOL });
const drivers: [string, (n: number) => Promise<unknown>][] = [
  ["postgres", (n) => porsager`SELECT ${n}::int AS n`],
  ["pg", (n) => nodePg.query("SELECT $1::int AS n", [n])],
];
// Warm both pools up.
for (const [, query] of drivers) await measure(IN_FLIGHT[0]!, query);

console.log(
  `| driver | in flight | queries/s (3 rounds of ${SECONDS} s, pool ${POOL}, alternating) |`,
);
console.log("|---|---|---|");
for (const inFlight of IN_FLIGHT) {
  const rates = new Map<string, number[]>();
  for (let round = 0; round < 3; round++) {
    for (const [name, query] of drivers) {
      rates.set(name, [...(rates.get(name) ?? []), await measure(inFlight, query)]);
    }
  }
  for (const [name, list] of rates) {
    const shown = list.map((r) => Math.round(r).toLocaleString("en")).join(", ");
    console.log(`| ${name} | ${inFlight} | ${shown} |`);
  }
}
await porsager.end();
await nodePg.end();
