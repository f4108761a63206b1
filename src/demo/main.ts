/**
 * `deno task demo`: the whole system on one machine. Starts the reference control plane on a
 * free loopback port with a fresh data dir, creates a worker key, writes an agent config for
 * it, starts the agent under the permission flags `worker-agent permissions` prints, and
 * prints the dashboard URL and admin token. Ctrl-C stops both cleanly.
 *
 * Flags: `--keep` keeps the temp dir (config, state, database) after exit.
 */
import { toHex } from "../protocol/encoding.ts";
import { controlPlaneArgs, createWorkerKey, prepareAgent, repoPath as path } from "./demo_steps.ts";

const root = new URL("../../", import.meta.url);
const deno = Deno.execPath();
const keep = Deno.args.includes("--keep");

function spawn(
  args: string[],
  stdout: "piped" | "inherit" = "inherit",
  env: Record<string, string> = {},
): Deno.ChildProcess {
  return new Deno.Command(deno, {
    args,
    cwd: root.pathname,
    stdin: "null",
    stdout,
    stderr: "inherit",
    env: { NO_COLOR: Deno.env.get("NO_COLOR") ?? "", ...env },
    // Own process group: a terminal Ctrl-C reaches only the demo, which then sends each
    // child exactly one SIGTERM (a second signal would make the agent skip its drain).
    detached: true,
  }).spawn();
}

/** Reads the child's stdout line by line, echoing it, until `match` finds something. */
async function waitForLine(
  child: Deno.ChildProcess,
  match: RegExp,
  timeoutMs: number,
): Promise<RegExpExecArray> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const deadline = setTimeout(() => reader.cancel("timeout"), timeoutMs);
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the control plane stopped before printing ${match}`);
      buffer += value;
      const found = match.exec(buffer);
      if (found) {
        // Keep echoing the rest of its output.
        (async () => {
          for (let r = await reader.read(); !r.done; r = await reader.read()) {
            await Deno.stdout.write(new TextEncoder().encode(r.value));
          }
        })().catch(() => {});
        return found;
      }
    }
  } finally {
    clearTimeout(deadline);
  }
}

const dir = await Deno.makeTempDir({ prefix: "worker-agent-demo-" });
const adminToken = `adm_${toHex(crypto.getRandomValues(new Uint8Array(16)))}`;
const controlPlane = spawn(controlPlaneArgs(0, `${dir}/control-plane`), "piped", {
  FTL_ADMIN_TOKEN: adminToken,
});
let agent: Deno.ChildProcess | undefined;

async function stopAll(): Promise<void> {
  // The agent drains first (offline heartbeat, WebSocket closed), then the server stops.
  if (agent) {
    try {
      agent.kill("SIGTERM");
    } catch { /* already gone */ }
    await agent.status;
  }
  try {
    controlPlane.kill("SIGTERM");
  } catch { /* already gone */ }
  await controlPlane.status;
  if (!keep) await Deno.remove(dir, { recursive: true }).catch(() => {});
}

let stopping: Promise<void> | undefined;
function onSignal() {
  if (stopping) return;
  console.log("\ndemo: stopping the agent and the control plane …");
  stopping = stopAll();
}
Deno.addSignalListener("SIGINT", onSignal);
if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", onSignal);

try {
  const [, baseUrl] = await waitForLine(controlPlane, /listening on (http:\/\/\S+)/, 30_000);
  const key = await createWorkerKey(baseUrl!, adminToken, "demo");
  // A stand-in trading workload the dashboard can start and stop.
  const workload = [deno, "run", "--quiet", path("src/demo/demo_workload.ts")];
  const { configPath, runArgs } = await prepareAgent(dir, key, baseUrl!, {
    trading_enabled: true,
    "trading.command": workload,
    "trading.stop_timeout_seconds": 5,
  });
  agent = spawn(runArgs);

  console.log(`
demo: the control plane and one agent are running.

  dashboard    ${baseUrl}/
  admin token  ${adminToken}
  agent config ${configPath}

Open the dashboard, paste the admin token, and send the worker a command (try ping,
start_trading, collect_diagnostics). Press Ctrl-C to stop both.
`);
  const first = await Promise.race([
    agent.status.then((s) => ["agent", s.code] as const),
    controlPlane.status.then((s) => ["control plane", s.code] as const),
  ]);
  if (!stopping) {
    console.error(`demo: the ${first[0]} exited with code ${first[1]}; stopping.`);
    stopping = stopAll();
  }
  await stopping;
} catch (error) {
  console.error(`demo: ${(error as Error).message}`);
  await stopAll();
  Deno.exitCode = 1;
}
