/**
 * What clients without a key cost the control plane (issue 10), measured on a real process:
 *
 * 1. 1,100 idle half-header connections (`GET … HTTP/1.1\r\nHost: x\r\n`, never finished)
 *    against a control plane started under `ulimit -n 1024`: does it survive, does it answer
 *    during the hold, how many of the connections are still open after 15 s, and does it serve
 *    afterwards.
 * 2. 400 unauthenticated `POST /api/workers/register` uploads declaring 1 MiB and sending
 *    1 MiB less a byte as fast as the server takes it, never finishing: RSS of the server before,
 *    at its peak, and 10 s after the clients hung up.
 *
 * Self-contained (it starts `../src/control_plane/main.ts` relative to this file, with default
 * flags and the admin token in `FTL_ADMIN_TOKEN`), so the same file measures an older checkout
 * too. Linux only (`/proc`). `deno run -A bench/hostile_clients_bench.ts`. Prints a table.
 */
const MAIN = new URL("../src/control_plane/main.ts", import.meta.url).pathname;
const PERMISSIONS = ["--allow-net", "--allow-read", "--allow-write", "--allow-env", "--allow-sys"];
const encoder = new TextEncoder();
const TOKEN = "adm_bench_hostile_clients_0123456789";

interface Server {
  port: number;
  pid: number;
  exited: () => number | undefined;
  output: () => string;
  stop(): Promise<void>;
}

async function startServer(openFiles?: number): Promise<Server> {
  const dataDir = await Deno.makeTempDir({ prefix: "ftl-bench-hostile-" });
  const args = ["run", "--quiet", ...PERMISSIONS, MAIN, "--port", "0", "--data-dir", dataDir];
  const child = new Deno.Command(openFiles ? "sh" : Deno.execPath(), {
    args: openFiles
      ? ["-c", `ulimit -n ${openFiles} && exec "$0" "$@"`, Deno.execPath(), ...args]
      : args,
    env: { FTL_ADMIN_TOKEN: TOKEN, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let log = "";
  let code: number | undefined;
  child.status.then((s) => code = s.code);
  const port = Promise.withResolvers<number>();
  for (const stream of [child.stdout, child.stderr]) {
    (async () => {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        log = (log + chunk).slice(-200_000);
        const m = /listening on http:\/\/[^:\s]+:(\d+)/.exec(log);
        if (m) port.resolve(Number(m[1]));
      }
    })();
  }
  const timer = setTimeout(() => port.reject(new Error(`no listening line:\n${log}`)), 20_000);
  const bound = await port.promise.finally(() => clearTimeout(timer));
  return {
    port: bound,
    pid: child.pid,
    exited: () => code,
    output: () => log,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* exited */ }
      await child.status;
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}

async function rssMiB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`).catch(() => "");
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) / 1024;
}

/** Status of an admin call, or the error when nothing answered within 5 s. */
async function adminStatus(port: number): Promise<string> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/api/workers`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
      signal: AbortSignal.timeout(5000),
    });
    await res.body?.cancel();
    return String(res.status);
  } catch (error) {
    return (error as Error).name === "TimeoutError" ? "no answer in 5 s" : "connection failed";
  }
}

/** Whether `conn` is still open (no EOF or error within 100 ms). */
async function stillOpen(conn: Deno.Conn): Promise<boolean> {
  const buffer = new Uint8Array(4096);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const result = await Promise.race([
    (async () => {
      try {
        while (true) if (await conn.read(buffer) === null) return false;
      } catch {
        return false;
      }
    })(),
    new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(true), 100)),
  ]);
  clearTimeout(timer);
  return result;
}

function closeAll(conns: Deno.Conn[]): void {
  for (const conn of conns) {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

const rows: string[][] = [];

// 1. idle half headers at the fd limit
{
  const server = await startServer(1024);
  const conns: Deno.Conn[] = [];
  let refusedConnects = 0;
  for (let i = 0; i < 1100 && server.exited() === undefined; i++) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
      conns.push(conn);
      await conn.write(encoder.encode("GET /api/workers HTTP/1.1\r\nHost: x\r\n")).catch(() => 0);
    } catch {
      refusedConnects++;
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const during = server.exited() === undefined ? await adminStatus(server.port) : "-";
  await new Promise((resolve) => setTimeout(resolve, 14_000));
  let open = 0;
  for (const conn of conns) if (await stillOpen(conn)) open++;
  const after = server.exited() === undefined ? await adminStatus(server.port) : "-";
  const code = server.exited();
  rows.push([
    "1,100 idle half-header connections, ulimit -n 1024",
    code === undefined ? "alive" : `exited ${code}`,
    during,
    `${open} of ${conns.length} (${refusedConnects} connects failed)`,
    after,
  ]);
  if (code !== undefined) console.error(server.output().slice(-1500));
  closeAll(conns);
  await server.stop();
}

// 2. slow unauthenticated uploads
{
  const server = await startServer();
  await adminStatus(server.port);
  const before = await rssMiB(server.pid);
  const header = encoder.encode(
    `POST /api/workers/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${1024 * 1024}\r\n\r\n{"hostname":"`,
  );
  const chunk = encoder.encode("a".repeat(16 * 1024));
  const conns: Deno.TcpConn[] = [];
  const writers: Promise<void>[] = [];
  for (let i = 0; i < 400; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    conns.push(conn);
    writers.push((async () => {
      try {
        await conn.write(header);
        let sent = header.length;
        while (sent + chunk.length < 1024 * 1024) sent += await conn.write(chunk);
      } catch { /* cut off */ }
    })());
  }
  let peak = before;
  for (let i = 0; i < 20; i++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    peak = Math.max(peak, await rssMiB(server.pid));
  }
  const during = await adminStatus(server.port);
  closeAll(conns);
  await Promise.all(writers);
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  const after = await rssMiB(server.pid);
  rows.push([
    "400 unauthenticated 1 MiB register uploads",
    server.exited() === undefined ? "alive" : `exited ${server.exited()}`,
    during,
    `RSS ${before.toFixed(0)} → peak ${peak.toFixed(0)} MiB (+${(peak - before).toFixed(0)})`,
    `RSS ${after.toFixed(0)} MiB 10 s after hang-up`,
  ]);
  await server.stop();
}

console.log(`Hostile clients without a key, deno ${Deno.version.deno}, ${MAIN}\n`);
console.log("| attack | server | admin call during | held / memory | after |");
console.log("| --- | --- | --- | --- | --- |");
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
