/**
 * A private PostgreSQL server in a temp dir on a free loopback port, for tests that stop,
 * restart or crash the database (they touch only this one, never the machine's). Under root
 * it runs as `nobody`. The server is `src/demo/local_services.ts`'s, which
 * `deno task fleet-demo` uses too.
 *
 * @example
 * ```ts
 * await using pg = await startPrivatePostgres();
 * // pg.url is postgres://postgres@127.0.0.1:<port>/postgres (trust auth, loopback only)
 * await pg.stop(); await pg.start(); await pg.kill();
 * ```
 */
export {
  type LocalPostgres as PrivatePostgres,
  postgresBinDir,
  startLocalPostgres as startPrivatePostgres,
} from "../../src/demo/local_services.ts";
