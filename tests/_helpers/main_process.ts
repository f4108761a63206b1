/** Runs `main.ts` as a real subprocess and captures its output, for the CLI tests. */

const REPO_ROOT = new URL("../../", import.meta.url);
/** Path of the CLI entry. */
export const MAIN = new URL("main.ts", REPO_ROOT).pathname;
/** Path of the project's deno.json (import map). */
export const DENO_CONFIG = new URL("deno.json", REPO_ROOT).pathname;

/** Options of {@linkcode denoRunArgs}. */
export interface DenoRunArgsOptions {
  /** Deno permission flags. */
  permissions: readonly string[];
  /** Arguments for the script. @default [] */
  args?: readonly string[];
}

/**
 * The arguments of `deno run` for `entry` with the repo's import map, quiet and never
 * prompting for a permission (a missing one fails instead).
 */
export function denoRunArgs(entry: string, options: DenoRunArgsOptions): string[] {
  return [
    "run",
    "--quiet",
    "--no-prompt",
    "--config",
    DENO_CONFIG,
    ...options.permissions,
    entry,
    ...(options.args ?? []),
  ];
}

/** What one run of `main.ts` produced. */
export interface MainResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@linkcode runMain}. */
export interface RunMainOptions {
  /** Environment added to (and overriding) the test's own; FTL_* are cleared unless set here. */
  env?: Record<string, string>;
  /** Deno permission flags. @default {["-A"]} */
  permissions?: string[];
  /** Kill the process after this long. @default {30000} */
  timeoutMs?: number;
  /** Written to the process's stdin (a pipe), which is then closed. @default stdin is null */
  stdin?: string;
}

/**
 * `deno run <permissions> main.ts <args>` with the repo's import map; resolves with the exit
 * code and the captured output. HOME and the XDG dirs should point into a temp dir (`env`).
 */
export async function runMain(args: string[], options: RunMainOptions = {}): Promise<MainResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: denoRunArgs(MAIN, { permissions: options.permissions ?? ["-A"], args }),
    cwd: REPO_ROOT.pathname,
    env: {
      NO_COLOR: "1",
      FTL_CONFIG: "",
      FTL_API_KEY: "",
      FTL_BASE_URL: "",
      FTL_LOG_LEVEL: "",
      FTL_STATE_DIR: "",
      HTTPS_PROXY: "",
      HTTP_PROXY: "",
      https_proxy: "",
      http_proxy: "",
      ALL_PROXY: "",
      all_proxy: "",
      ...options.env,
    },
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin)).catch(() => {});
    await writer.close().catch(() => {});
  }
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** A temp home for one test: HOME, XDG_CONFIG_HOME and XDG_STATE_HOME inside it. */
export async function tempHome(): Promise<
  { dir: string; env: Record<string, string> } & AsyncDisposable
> {
  const dir = await Deno.makeTempDir({ prefix: "ftl-cli-" });
  return {
    dir,
    env: { HOME: dir, XDG_CONFIG_HOME: `${dir}/config`, XDG_STATE_HOME: `${dir}/state` },
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** A syntactically valid worker key that no server knows. */
export const SAMPLE_KEY = "wak_0123456789ABCDEFGHIJabcdefghijkl";
