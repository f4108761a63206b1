/**
 * A private nats-server (JetStream on, store in a temp dir) on a free loopback port, for tests
 * that stop and restart NATS: they stop only this one, never the machine's.
 *
 * @example
 * ```ts
 * await using nats = await startPrivateNats();
 * await nats.stop();   // NATS down
 * await nats.start();  // back, same port
 * ```
 */
import { freePort, waitFor } from "./wait_for.ts";

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
export interface PrivateNats {
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

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export async function listening(port: number, hostname = "127.0.0.1"): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname, port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/** Starts a private nats-server and resolves once it accepts connections. */
export async function startPrivateNats(options: { port?: number } = {}): Promise<PrivateNats> {
  const binary = natsServerBinary();
  if (!binary) {
    throw new Error(
      "nats-server is not installed (apt-get install nats-server, or set FTL_NATS_SERVER)",
    );
  }
  const port = options.port ?? freePort();
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
      await waitFor(async () => {
        if (exited) throw new Error(`nats-server exited:\n${log}`);
        return await listening(port);
      }, { timeoutMs: 15_000, message: `nats-server on port ${port}` });
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
