/**
 * Starts the reference control plane (`src/control_plane/main.ts`) as a real subprocess on
 * 127.0.0.1 with a free port and a temporary data dir, for end-to-end tests.
 *
 * @example
 * ```ts
 * await using cp = await startControlPlane();
 * const key = await cp.createKey("test");
 * const res = await fetch(`${cp.baseUrl}/api/workers/register`, { … });
 * ```
 */
import { toHex } from "../../src/protocol/mod.ts";
import { denoRunArgs } from "./main_process.ts";

const REPO_ROOT = new URL("../../", import.meta.url);
const MAIN = new URL("src/control_plane/main.ts", REPO_ROOT);

/** Deno permission flags the control plane runs with (same as `deno task control-plane`). */
export const CONTROL_PLANE_PERMISSIONS = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys",
] as const;

/** Options of {@linkcode startControlPlane}. */
export interface StartControlPlaneOptions {
  /** Data dir to use; it is kept on stop. @default a new temp dir, removed on stop */
  dataDir?: string;
  /** Extra command-line arguments, e.g. `["--rate-limit", "5"]`. @default [] */
  args?: string[];
  /** Extra environment variables. @default {} */
  env?: Record<string, string>;
  /** How long to wait for the `listening on` line. @default 20000 */
  startTimeoutMs?: number;
  /**
   * Run under `ulimit -n` of this many open files (through `sh`, which then `exec`s deno, so
   * `pid` is still the control plane's). @default the test process's limit
   */
  openFileLimit?: number;
}

/** A running control plane subprocess. */
export interface ControlPlaneProcess {
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  /** The port it listens on (kept across {@linkcode ControlPlaneProcess.restart}). */
  readonly port: number;
  /** The admin token it was started with. */
  readonly adminToken: string;
  /** Its data dir. */
  readonly dataDir: string;
  /** The current process id. */
  readonly pid: number;
  /** Everything the process wrote to stdout and stderr so far (for failure messages). */
  output(): string;
  /** Creates a worker key through the admin API and returns the raw `wak_` key. */
  createKey(name?: string): Promise<string>;
  /** `fetch(baseUrl + path)` with the admin token. */
  admin(path: string, init?: RequestInit): Promise<Response>;
  /** Sends `signal` (default SIGKILL) and waits for the process to exit. */
  kill(signal?: Deno.Signal): Promise<void>;
  /** Stops the process (SIGTERM) and starts it again on the same data dir and port. */
  restart(): Promise<void>;
  /** SIGTERM, wait for exit, remove the data dir when this helper created it. */
  stop(): Promise<void>;
  /** Same as {@linkcode ControlPlaneProcess.stop}. */
  [Symbol.asyncDispose](): Promise<void>;
}

interface Running {
  child: Deno.ChildProcess;
  port: number;
  pumps: Promise<void>;
}

/** Starts the control plane on 127.0.0.1 and resolves once it is listening. */
export async function startControlPlane(
  options: StartControlPlaneOptions = {},
): Promise<ControlPlaneProcess> {
  const ownsDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? await Deno.makeTempDir({ prefix: "ftl-cp-" });
  const adminToken = `adm_${toHex(crypto.getRandomValues(new Uint8Array(16)))}`;
  const timeoutMs = options.startTimeoutMs ?? 20_000;
  let log = "";
  let current: Running | undefined;
  let stopped = false;

  async function pump(stream: ReadableStream<Uint8Array>, onLine?: (line: string) => void) {
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      log += text;
      if (log.length > 200_000) log = log.slice(-100_000);
      pending += text;
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        onLine?.(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    }
  }

  async function spawn(port: number): Promise<Running> {
    const limit = options.openFileLimit;
    const [program, prefix] = limit === undefined
      ? [Deno.execPath(), []]
      : ["sh", ["-c", `ulimit -n ${Math.floor(limit)} && exec "$0" "$@"`, Deno.execPath()]];
    const child = new Deno.Command(program, {
      args: [
        ...prefix,
        ...denoRunArgs(MAIN.pathname, {
          permissions: CONTROL_PLANE_PERMISSIONS,
          args: [
            "--hostname",
            "127.0.0.1",
            "--port",
            String(port),
            "--data-dir",
            dataDir,
            ...(options.args ?? []),
          ],
        }),
      ],
      cwd: REPO_ROOT.pathname,
      // The token goes through the environment: on the command line every user sees it in ps.
      env: { NO_COLOR: "1", FTL_ADMIN_TOKEN: adminToken, ...options.env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const listening = Promise.withResolvers<number>();
    const pumps = Promise.all([
      pump(child.stdout, (line) => {
        const m = /listening on http:\/\/[^:\s]+:(\d+)/.exec(line);
        if (m?.[1]) listening.resolve(Number(m[1]));
      }),
      pump(child.stderr),
    ]).then(() => {});
    child.status.then((s) =>
      listening.reject(new Error(`control plane exited with ${s.code} before listening:\n${log}`))
    );
    const timer = setTimeout(
      () => listening.reject(new Error(`control plane did not listen in ${timeoutMs} ms:\n${log}`)),
      timeoutMs,
    );
    try {
      const bound = await listening.promise;
      return { child, port: bound, pumps };
    } catch (error) {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await child.status;
      await pumps;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async function halt(signal: Deno.Signal): Promise<void> {
    const running = current;
    if (!running) return;
    current = undefined;
    try {
      running.child.kill(signal);
    } catch { /* already exited */ }
    await running.child.status;
    await running.pumps;
  }

  current = await spawn(0);
  const port = current.port;
  const baseUrl = `http://127.0.0.1:${port}`;

  async function admin(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("Authorization", `Bearer ${adminToken}`);
    if (init.body !== undefined && !headers.has("Content-Type")) {
      headers.set("Content-Type", "application/json");
    }
    return await fetch(`${baseUrl}${path}`, { ...init, headers });
  }

  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    await halt("SIGTERM");
    if (ownsDir) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }

  return {
    baseUrl,
    port,
    adminToken,
    dataDir,
    get pid() {
      if (!current) throw new Error("the control plane is not running");
      return current.child.pid;
    },
    output: () => log,
    async createKey(name = "test") {
      const res = await admin("/api/admin/keys", {
        method: "POST",
        body: JSON.stringify({ name }),
      });
      const body = await res.json();
      if (res.status !== 201 || typeof body.key !== "string") {
        throw new Error(`creating a key failed: ${res.status} ${JSON.stringify(body)}`);
      }
      return body.key as string;
    },
    admin,
    kill: (signal: Deno.Signal = "SIGKILL") => halt(signal),
    async restart() {
      await halt("SIGTERM");
      current = await spawn(port);
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
