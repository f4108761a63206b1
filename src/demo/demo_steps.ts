/**
 * The steps both demos (`deno task demo`, `deno task fleet-demo`) share: the control plane's
 * command line, and putting one agent on it: create a worker key through the admin API, write
 * the agent's config (`worker-agent init`), and read the permission flags
 * `worker-agent permissions` prints for it.
 *
 * @module
 */
import { updateConfigFile } from "../config/update_config_file.ts";

const root = new URL("../../", import.meta.url);
/** A path in the repository. */
export const repoPath = (p: string): string => new URL(p, root).pathname;
const deno = Deno.execPath();

/**
 * `deno` arguments that run the control plane on 127.0.0.1:`port` with `dataDir`, then `extra`
 * flags. Heartbeats and samples are quicker than the defaults (30 s, 10 s), so the dashboard
 * moves while you watch. The admin token goes through `FTL_ADMIN_TOKEN`, never argv (which every
 * user sees in ps).
 */
export function controlPlaneArgs(port: number, dataDir: string, extra: string[] = []): string[] {
  return [
    "run",
    "--quiet",
    "--allow-net",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-sys",
    repoPath("src/control_plane/main.ts"),
    "--hostname",
    "127.0.0.1",
    "--port",
    String(port),
    "--data-dir",
    dataDir,
    "--heartbeat-interval",
    "10",
    "--metrics-interval",
    "5",
    ...extra,
  ];
}

/** Runs `deno args…` in the repository and returns its stdout; throws when it fails. */
export async function denoOutput(args: string[]): Promise<string> {
  const out = await new Deno.Command(deno, { args, cwd: root.pathname, stderr: "inherit" })
    .output();
  if (!out.success) throw new Error(`deno ${args.join(" ")} failed with code ${out.code}`);
  return new TextDecoder().decode(out.stdout);
}

/** Creates a worker key named `name` through `baseUrl`'s admin API; returns the key. */
export async function createWorkerKey(
  baseUrl: string,
  adminToken: string,
  name: string,
): Promise<string> {
  const created = await fetch(`${baseUrl}/api/admin/keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  if (created.status !== 201) throw new Error(`key creation answered ${created.status}`);
  const { key } = await created.json() as { key: string };
  return key;
}

/**
 * Writes `${dir}/agent/config.yaml` for `key` at `baseUrl` (state in `${dir}/agent/state`,
 * plus `settings`) and returns the config path and the `deno` arguments that run the agent
 * under the flags `worker-agent permissions` prints.
 */
export async function prepareAgent(
  dir: string,
  key: string,
  baseUrl: string,
  settings: Record<string, unknown> = {},
): Promise<{ configPath: string; runArgs: string[] }> {
  const configPath = `${dir}/agent/config.yaml`;
  const main = repoPath("main.ts");
  await denoOutput([
    "run",
    "-A",
    main,
    "init",
    "--config",
    configPath,
    "--api-key",
    key,
    "--base-url",
    baseUrl,
  ]);
  await updateConfigFile(configPath, { state_dir: `${dir}/agent/state`, ...settings });
  const flags = (await denoOutput(["run", "-A", main, "permissions", "--config", configPath]))
    .trim().split(/\s+/).filter((f) => f.startsWith("--"));
  return { configPath, runArgs: ["run", ...flags, main, "run", "--config", configPath] };
}
