/**
 * A private PostgreSQL server in a temp dir on a free loopback port, for tests that stop,
 * restart or kill the database (they touch only this one, never the machine's). PostgreSQL
 * refuses to run as root, so under root the server runs as `nobody` (`setpriv`), in a dir
 * handed to that user.
 *
 * @example
 * ```ts
 * await using pg = await startPrivatePostgres();
 * // pg.url is postgres://postgres@127.0.0.1:<port>/postgres (trust auth, loopback only)
 * await pg.stop(); await pg.start(); await pg.kill();
 * ```
 */
import { join } from "node:path";
import { freePort, waitFor } from "./wait_for.ts";
import { listening } from "./private_nats.ts";

/** Where the PostgreSQL server programs are looked for: `FTL_PG_BIN`, then these. */
const BIN_DIRS = [
  "/usr/lib/postgresql/17/bin",
  "/usr/lib/postgresql/16/bin",
  "/usr/lib/postgresql/15/bin",
  "/usr/lib/postgresql/14/bin",
  "/usr/local/pgsql/bin",
  "/usr/local/bin",
  "/usr/bin",
];

/** The folder holding `initdb` and `pg_ctl`, or undefined when PostgreSQL is not installed. */
export function postgresBinDir(): string | undefined {
  const dirs = [Deno.env.get("FTL_PG_BIN"), ...BIN_DIRS].filter((d): d is string => !!d);
  for (const dir of dirs) {
    try {
      if (Deno.statSync(join(dir, "initdb")).isFile && Deno.statSync(join(dir, "pg_ctl")).isFile) {
        return dir;
      }
    } catch { /* not there */ }
  }
  return undefined;
}

/** A private PostgreSQL server. */
export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  readonly port: number;
  /** The data dir. */
  readonly dataDir: string;
  /** The server log so far (for failure messages). */
  log(): Promise<string>;
  /** `url` with another database name. */
  urlFor(database: string): string;
  /** Starts it (again) on the same port and data dir; waits until it accepts connections. */
  start(): Promise<void>;
  /** Fast shutdown (`pg_ctl stop -m fast`). */
  stop(): Promise<void>;
  /** Immediate shutdown, as a crash (`pg_ctl stop -m immediate`: no checkpoint). */
  kill(): Promise<void>;
  /** Stops it and removes its dir. */
  [Symbol.asyncDispose](): Promise<void>;
}

const NOBODY = 65534;

/** Runs `program` as the server's user; throws with its output on failure. */
async function run(program: string, args: string[], asNobody: boolean): Promise<string> {
  const [cmd, prefix] = asNobody
    ? ["setpriv", [
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      "--clear-groups",
      "--reset-env",
      program,
    ]]
    : [program, []];
  const output = await new Deno.Command(cmd, {
    args: [...prefix, ...args],
    env: { LC_ALL: "C", LANG: "C", PATH: "/usr/bin:/bin" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  if (!output.success) {
    throw new Error(`${program} ${args.join(" ")} failed (${output.code}):\n${text}`);
  }
  return text;
}

/** initdb in a temp dir, then start; resolves once the server accepts connections. */
export async function startPrivatePostgres(
  options: { port?: number } = {},
): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  if (!bin) {
    throw new Error(
      "PostgreSQL server programs not found (apt-get install postgresql, or set FTL_PG_BIN)",
    );
  }
  const asNobody = Deno.uid() === 0;
  const root = await Deno.makeTempDir({ prefix: "ftl-pg-" });
  const dataDir = join(root, "data");
  const socketDir = join(root, "run");
  const logFile = join(root, "server.log");
  const port = options.port ?? freePort();
  await Deno.mkdir(socketDir);
  if (asNobody) {
    for (const path of [root, socketDir]) await Deno.chown(path, NOBODY, NOBODY);
  }
  const pgCtl = join(bin, "pg_ctl");
  try {
    await run(join(bin, "initdb"), [
      "-D",
      dataDir,
      "-U",
      "postgres",
      "--auth=trust",
      "-E",
      "UTF8",
      "--locale=C",
      "--no-sync",
    ], asNobody);
  } catch (error) {
    await Deno.remove(root, { recursive: true }).catch(() => {});
    throw error;
  }
  let running = false;

  async function start(): Promise<void> {
    if (running) return;
    await run(pgCtl, [
      "-D",
      dataDir,
      "-l",
      logFile,
      "-w",
      "-t",
      "30",
      "-o",
      `-p ${port} -k ${socketDir} -c listen_addresses=127.0.0.1 -c fsync=off ` +
      `-c max_connections=200`,
      "start",
    ], asNobody);
    running = true;
    await waitFor(() => listening(port), { timeoutMs: 15_000, message: `PostgreSQL on ${port}` });
  }

  async function halt(mode: "fast" | "immediate"): Promise<void> {
    if (!running) return;
    running = false;
    await run(pgCtl, ["-D", dataDir, "-m", mode, "-w", "-t", "30", "stop"], asNobody);
  }

  try {
    await start();
  } catch (error) {
    await Deno.remove(root, { recursive: true }).catch(() => {});
    throw error;
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    dataDir,
    log: () => Deno.readTextFile(logFile).catch(() => ""),
    urlFor: (database) => `postgres://postgres@127.0.0.1:${port}/${encodeURIComponent(database)}`,
    start,
    stop: () => halt("fast"),
    kill: () => halt("immediate"),
    async [Symbol.asyncDispose]() {
      await halt("immediate").catch(() => {});
      await Deno.remove(root, { recursive: true }).catch(() => {});
    },
  };
}
