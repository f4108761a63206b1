/**
 * The machine services tests use: PostgreSQL and NATS, each through one variable.
 *
 * - `FTL_TEST_DATABASE_URL`: a PostgreSQL URL with the right to create databases
 *   (default `postgres://postgres@127.0.0.1:5432/postgres`). Each suite makes a fresh
 *   database `ftl_test_<random>` through it and drops it at the end.
 * - `FTL_TEST_NATS_URL`: a NATS server (default `nats://127.0.0.1:4222`).
 *
 * `.ci/run` sets both (starting the services when missing). A developer running
 * `deno task test` without them gets the machine's standard addresses; a test whose service
 * does not answer fails with a message naming the variable.
 *
 * @module
 */
import { createDatabase, type CreatedDatabase } from "../../src/demo/local_services.ts";
import { listening } from "./private_nats.ts";

/** The default of `FTL_TEST_DATABASE_URL`. */
export const DEFAULT_TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
/** The default of `FTL_TEST_NATS_URL`. */
export const DEFAULT_TEST_NATS_URL = "nats://127.0.0.1:4222";

/** The PostgreSQL server URL tests use (`FTL_TEST_DATABASE_URL`, else the default). */
export function testDatabaseUrl(): string {
  const url = Deno.env.get("FTL_TEST_DATABASE_URL")?.trim();
  return url ? url : DEFAULT_TEST_DATABASE_URL;
}

/** The NATS URL tests use (`FTL_TEST_NATS_URL`, else the default). */
export function testNatsUrl(): string {
  const url = Deno.env.get("FTL_TEST_NATS_URL")?.trim();
  return url ? url : DEFAULT_TEST_NATS_URL;
}

/** A database made for one suite (`ftl_test_…`); `drop()` removes it (and ends its connections). */
export type FreshDatabase = CreatedDatabase;

/**
 * Creates an empty database `ftl_test_<random>` on the server of {@linkcode testDatabaseUrl}
 * (or on `serverUrl`, e.g. a private server's).
 * Throws, naming `FTL_TEST_DATABASE_URL`, when the server does not answer.
 */
export async function freshDatabase(
  serverUrl: string = testDatabaseUrl(),
): Promise<FreshDatabase> {
  try {
    return await createDatabase(serverUrl, "ftl_test_");
  } catch (error) {
    throw new Error(
      `PostgreSQL for tests is not reachable through FTL_TEST_DATABASE_URL ` +
        `(${serverUrl.replace(/:[^:@/]*@/, ":***@")}): ${(error as Error)?.message ?? error}. ` +
        "Set FTL_TEST_DATABASE_URL to a server where this user may create databases " +
        "(.ci/run starts one).",
      { cause: error },
    );
  }
}

/** True when something accepts TCP connections at `url`'s host and port. */
async function reachable(url: string, defaultPort: number): Promise<boolean> {
  const parsed = new URL(url);
  return await listening(Number(parsed.port || defaultPort), parsed.hostname || "127.0.0.1");
}

/** {@linkcode testNatsUrl}, after checking that it accepts connections (else a clear error). */
export async function requireTestNats(): Promise<string> {
  const url = testNatsUrl();
  if (!await reachable(url, 4222)) {
    throw new Error(
      `NATS is not reachable at ${url.replace(/\/\/[^/@]*@/, "//***@")}: set FTL_TEST_NATS_URL ` +
        "(.ci/run starts one when missing)",
    );
  }
  return url;
}
