/**
 * Private PostgreSQL and NATS servers on free loopback ports, in temp dirs: for
 * `deno task fleet-demo` when the machine runs none, and for tests that stop, restart or
 * crash a server (they touch only their own, never the machine's). PostgreSQL refuses to run
 * as root, so under root the server runs as `nobody` (`setpriv`), in a dir handed to that
 * user. The programs come from Debian's packages (`postgresql`, `nats-server`).
 *
 * @module
 */
import { join } from "node:path";
import postgres from "postgres";

/** A port on 127.0.0.1 that was free a moment ago. */
export function freeLoopbackPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** True when something accepts TCP connections on `hostname`:`port`. */
export async function listening(port: number, hostname = "127.0.0.1"): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname, port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/** Polls `probe` every 50 ms until it is true; throws `message` after `timeoutMs`. */
async function until(probe: () => Promise<boolean>, timeoutMs: number, message: string) {
  const deadline = Date.now() + timeoutMs;
  while (!await probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A database made on a PostgreSQL server; `drop()` removes it (and ends its connections). */
export interface CreatedDatabase extends AsyncDisposable {
  /** URL of the new database. */
  readonly url: string;
  /** Its name (`<prefix><16 hex digits>`). */
  readonly name: string;
  drop(): Promise<void>;
}

/**
 * Creates an empty database `<prefix><random>` on the server at `serverUrl` (a user that may
 * create databases), keeping one admin connection open for the drop.
 */
export async function createDatabase(serverUrl: string, prefix: string): Promise<CreatedDatabase> {
  const name = `${prefix}${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = postgres(serverUrl, { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } catch (error) {
    await admin.end({ timeout: 1 }).catch(() => {});
    throw error;
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    try {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await admin.end({ timeout: 5 });
    }
  };
  return { url: url.toString(), name, drop, [Symbol.asyncDispose]: drop };
}

/** Where nats-server is looked for: `FTL_NATS_SERVER`, then these, then `PATH`. */
const CANDIDATES = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"];

/** The nats-server binary, or undefined when none is installed. */
export function natsServerBinary(): string | undefined {
  const fromEnv = Deno.env.get("FTL_NATS_SERVER");
  if (fromEnv) return fromEnv;
  for (const path of CANDIDATES) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch { /* not there */ }
  }
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (dir && Deno.statSync(`${dir}/nats-server`).isFile) return `${dir}/nats-server`;
    } catch { /* not there */ }
  }
  return undefined;
}

/** A running (or stopped) private nats-server. */
export interface LocalNats {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** True while the process runs. */
  readonly running: boolean;
  /** Its output so far (for failure messages). */
  output(): string;
  /** Starts it again on the same port and store (no-op while running). */
  start(): Promise<void>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
  /** Stops it and removes its store. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts a private nats-server and resolves once it accepts connections. */
export async function startLocalNats(options: { port?: number } = {}): Promise<LocalNats> {
  const binary = natsServerBinary();
  if (!binary) {
    throw new Error(
      "nats-server is not installed (apt-get install nats-server, or set FTL_NATS_SERVER)",
    );
  }
  const port = options.port ?? freeLoopbackPort();
  const store = await Deno.makeTempDir({ prefix: "ftl-nats-" });
  let child: Deno.ChildProcess | undefined;
  let pumps: Promise<void> | undefined;
  let log = "";

  async function pump(stream: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      log += decoder.decode(chunk, { stream: true });
      if (log.length > 100_000) log = log.slice(-50_000);
    }
  }

  async function start(): Promise<void> {
    if (child) return;
    const process = new Deno.Command(binary!, {
      args: ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", store],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    child = process;
    pumps = Promise.all([pump(process.stdout), pump(process.stderr)]).then(() => {});
    let exited = false;
    process.status.then(() => (exited = true));
    try {
      await until(
        async () => {
          if (exited) throw new Error(`nats-server exited:\n${log}`);
          return await listening(port);
        },
        15_000,
        `nats-server on port ${port}`,
      );
    } catch (error) {
      await halt("SIGKILL");
      throw error;
    }
  }

  async function halt(signal: Deno.Signal): Promise<void> {
    const process = child;
    if (!process) return;
    child = undefined;
    try {
      process.kill(signal);
    } catch { /* already gone */ }
    await process.status;
    await pumps;
  }

  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    get running() {
      return child !== undefined;
    },
    output: () => log,
    start,
    stop: () => halt("SIGTERM"),
    kill: () => halt("SIGKILL"),
    async [Symbol.asyncDispose]() {
      await halt("SIGTERM");
      await Deno.remove(store, { recursive: true }).catch(() => {});
    },
  };
}

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
export interface LocalPostgres {
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
export async function startLocalPostgres(
  options: { port?: number } = {},
): Promise<LocalPostgres> {
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
  const port = options.port ?? freeLoopbackPort();
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
    await until(() => listening(port), 15_000, `PostgreSQL on ${port}`);
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
