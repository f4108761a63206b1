/**
 * `deno task fleet-demo`: the scaled-out control plane on one machine. Uses the machine's
 * PostgreSQL (127.0.0.1:5432, user postgres) when it answers, else starts a private one in a
 * temp dir; NATS likewise (127.0.0.1:4222, else a private nats-server). Creates a fresh
 * database, starts two control-plane instances on it (`--database-url`, `--nats-url`, distinct
 * ports, one admin token), the TCP balancer (`scripts/tcp_balancer.ts`) in front of them,
 * creates a worker key and runs one agent through the balancer. Prints the URLs; Ctrl-C stops
 * everything and drops the database.
 *
 * Flags: `--keep` keeps the temp dir (configs, state, logs) and the database.
 * `FTL_DEMO_DATABASE_URL` / `FTL_DEMO_NATS_URL` name other servers.
 *
 * @module
 */
import { toHex } from "../protocol/encoding.ts";
import { controlPlaneArgs, createWorkerKey, prepareAgent, repoPath as path } from "./demo_steps.ts";
import {
  createDatabase,
  freeLoopbackPort,
  listening,
  type LocalNats,
  type LocalPostgres,
  startLocalNats,
  startLocalPostgres,
} from "./local_services.ts";

const root = new URL("../../", import.meta.url);
const deno = Deno.execPath();
const keep = Deno.args.includes("--keep");
const say = (line: string) => console.log(`fleet-demo: ${line}`);

/** Starts `deno args…` in its own process group, output prefixed with `tag`. */
function spawn(tag: string, args: string[], env: Record<string, string> = {}): Deno.ChildProcess {
  const child = new Deno.Command(deno, {
    args,
    cwd: root.pathname,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: Deno.env.get("NO_COLOR") ?? "1", ...env },
    // Own process group: Ctrl-C reaches only the demo, which sends each child one SIGTERM.
    detached: true,
  }).spawn();
  for (const stream of [child.stdout, child.stderr]) prefixLines(tag, stream).catch(() => {});
  return child;
}

/** Lines seen on each child's output so far, for waiting on one. */
const seen = new Map<string, string[]>();

async function prefixLines(tag: string, stream: ReadableStream<Uint8Array>): Promise<void> {
  let pending = "";
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      const lines = seen.get(tag) ?? [];
      if (lines.length < 1000) lines.push(line);
      seen.set(tag, lines);
      console.log(`[${tag}] ${line}`);
    }
  }
}

async function waitForLine(tag: string, match: RegExp, child: Deno.ChildProcess, ms: number) {
  let exited = false;
  child.status.then(() => (exited = true));
  const deadline = Date.now() + ms;
  while (!(seen.get(tag) ?? []).some((l) => match.test(l))) {
    if (exited) throw new Error(`${tag} exited before printing ${match}`);
    if (Date.now() > deadline) throw new Error(`${tag} did not print ${match} in ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const dir = await Deno.makeTempDir({ prefix: "worker-agent-fleet-demo-" });
const adminToken = `adm_${toHex(crypto.getRandomValues(new Uint8Array(16)))}`;
const children: { tag: string; child: Deno.ChildProcess }[] = [];
let privatePg: LocalPostgres | undefined;
let privateNats: LocalNats | undefined;
let dropDatabase: (() => Promise<void>) | undefined;

async function stopAll(): Promise<void> {
  // The agent first (it drains: offline heartbeat), then the balancer and the instances.
  for (const { child } of [...children].reverse()) {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
  }
  if (!keep) await dropDatabase?.().catch((e) => say(`dropping the database: ${e}`));
  await privateNats?.[Symbol.asyncDispose]();
  await privatePg?.[Symbol.asyncDispose]();
  if (!keep) await Deno.remove(dir, { recursive: true }).catch(() => {});
}

let stopping: Promise<void> | undefined;
function onSignal() {
  if (stopping) return;
  console.log("\nfleet-demo: stopping the agent, the balancer, both instances …");
  stopping = stopAll();
}
Deno.addSignalListener("SIGINT", onSignal);
Deno.addSignalListener("SIGTERM", onSignal);

try {
  // PostgreSQL: the machine's, else a private one.
  let serverUrl = Deno.env.get("FTL_DEMO_DATABASE_URL") ??
    "postgres://postgres@127.0.0.1:5432/postgres";
  if (!Deno.env.get("FTL_DEMO_DATABASE_URL") && !await listening(5432)) {
    say("no PostgreSQL on 127.0.0.1:5432; starting a private one (initdb in the temp dir)");
    privatePg = await startLocalPostgres();
    serverUrl = privatePg.url;
  }
  const created = await createDatabase(serverUrl, "ftl_demo_");
  dropDatabase = created.drop;
  const database = created.name;
  const databaseUrl = new URL(created.url);
  say(`database ${database} on ${databaseUrl.host}`);

  // NATS: the machine's, else a private one.
  let natsUrl = Deno.env.get("FTL_DEMO_NATS_URL") ?? "nats://127.0.0.1:4222";
  if (!Deno.env.get("FTL_DEMO_NATS_URL") && !await listening(4222)) {
    say("no NATS on 127.0.0.1:4222; starting a private nats-server");
    privateNats = await startLocalNats();
    natsUrl = privateNats.url;
  }

  const balancerPort = freeLoopbackPort();
  const balancerUrl = `http://127.0.0.1:${balancerPort}`;
  const instances: { tag: string; url: string; pid: number }[] = [];
  for (const tag of ["cp-a", "cp-b"]) {
    const port = freeLoopbackPort();
    const child = spawn(
      tag,
      controlPlaneArgs(port, `${dir}/${tag}`, [
        "--database-url",
        databaseUrl.toString(),
        "--nats-url",
        natsUrl,
        // Agents reach every instance through the balancer, WebSocket included.
        "--public-url",
        balancerUrl,
      ]),
      { FTL_ADMIN_TOKEN: adminToken },
    );
    children.push({ tag, child });
    // One at a time: the first creates the schema.
    await waitForLine(tag, /listening on http/, child, 60_000);
    instances.push({ tag, url: `http://127.0.0.1:${port}`, pid: child.pid });
  }
  const balancer = spawn("balancer", [
    "run",
    "--quiet",
    "--allow-net",
    path("scripts/tcp_balancer.ts"),
    "--port",
    String(balancerPort),
    ...instances.map((i) => i.url.replace("http://", "")),
  ]);
  children.push({ tag: "balancer", child: balancer });
  await waitForLine("balancer", /balancing on/, balancer, 30_000);

  const key = await createWorkerKey(balancerUrl, adminToken, "fleet-demo");
  const { runArgs } = await prepareAgent(dir, key, balancerUrl);
  const agent = spawn("agent", runArgs);
  children.push({ tag: "agent", child: agent });

  console.log(`
fleet-demo: two control-plane instances over PostgreSQL and NATS, a balancer, one agent.

  balancer (agents, dashboard)  ${balancerUrl}/
  instance A                    ${instances[0]!.url}/  (pid ${instances[0]!.pid})
  instance B                    ${instances[1]!.url}/  (pid ${instances[1]!.pid})
  admin token (both)            ${adminToken}
  database                      ${databaseUrl.host}/${database}
  NATS                          ${natsUrl}
  probes                        ${instances[0]!.url}/healthz  ${instances[0]!.url}/readyz

Open either instance's dashboard (or the balancer's), paste the admin token, send the worker a
command from one instance and watch it arrive through the other. Stop one instance
(kill -9 its pid, shown above) and the agent comes back through the balancer. Ctrl-C stops everything.
`);
  // Losing one instance is what the demo shows: the other serves on. The demo stops when the
  // agent, the balancer or the last instance is gone.
  const exits = children.map(({ tag, child }, index) =>
    child.status.then((s) => ({ tag, code: s.code, index }))
  );
  const gone = new Set<number>();
  while (!stopping) {
    const ended = await Promise.race(exits.filter((_, index) => !gone.has(index)));
    gone.add(ended.index);
    if (stopping) break;
    const instancesLeft = children.filter((c, i) => c.tag.startsWith("cp-") && !gone.has(i));
    if (ended.tag.startsWith("cp-") && instancesLeft.length > 0) {
      say(`${ended.tag} exited with code ${ended.code}; the other instance serves on.`);
      continue;
    }
    say(`${ended.tag} exited with code ${ended.code}; stopping.`);
    stopping = stopAll();
  }
  await stopping;
} catch (error) {
  console.error(`fleet-demo: ${(error as Error).message}`);
  if (!stopping) stopping = stopAll();
  await stopping;
  Deno.exitCode = 1;
}
