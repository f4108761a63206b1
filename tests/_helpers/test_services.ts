/**
 * The machine services tests use, each through one variable: `FTL_TEST_DATABASE_URL`
 * (PostgreSQL) and `FTL_TEST_NATS_URL` (NATS). `.ci/run` sets both, starting the services
 * when they are missing; a developer running `deno task test` without them gets the machine's
 * standard addresses below. A test that needs a service it cannot reach fails with a message
 * naming the variable.
 */
import { listening } from "./private_nats.ts";

/** PostgreSQL when `FTL_TEST_DATABASE_URL` is unset. */
export const DEFAULT_TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
/** NATS when `FTL_TEST_NATS_URL` is unset. */
export const DEFAULT_TEST_NATS_URL = "nats://127.0.0.1:4222";

/** The PostgreSQL server tests create their databases on. */
export function testDatabaseUrl(): string {
  return Deno.env.get("FTL_TEST_DATABASE_URL") || DEFAULT_TEST_DATABASE_URL;
}

/** The NATS server tests use. */
export function testNatsUrl(): string {
  return Deno.env.get("FTL_TEST_NATS_URL") || DEFAULT_TEST_NATS_URL;
}

/** `url`'s host and port (default `port`). */
function hostPort(url: string, port: number): { hostname: string; port: number } {
  const parsed = new URL(url);
  return { hostname: parsed.hostname || "127.0.0.1", port: Number(parsed.port || port) };
}

/** {@linkcode testNatsUrl}, after checking that it accepts connections (else a clear error). */
export async function requireTestNats(): Promise<string> {
  const url = testNatsUrl();
  const { hostname, port } = hostPort(url, 4222);
  if (!await listening(port, hostname)) {
    throw new Error(
      `NATS is not reachable at ${url}: set FTL_TEST_NATS_URL (.ci/run starts one when missing)`,
    );
  }
  return url;
}

/** {@linkcode testDatabaseUrl}, after checking that it accepts connections (else a clear error). */
export async function requireTestDatabase(): Promise<string> {
  const url = testDatabaseUrl();
  const { hostname, port } = hostPort(url, 5432);
  if (!await listening(port, hostname)) {
    throw new Error(
      `PostgreSQL is not reachable at ${url.replace(/\/\/[^/@]*@/, "//***@")}: set ` +
        `FTL_TEST_DATABASE_URL (.ci/run starts one when missing)`,
    );
  }
  return url;
}
