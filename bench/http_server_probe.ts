/**
 * What Deno's HTTP servers do with hostile connections, measured (the reason the control plane
 * has its own connection guard; docs/control-plane.md, "Connection hygiene"):
 *
 * 1. `Deno.serve`: connections that sent half a header, still open after 12 s?
 * 2. `node:http` with `headersTimeout` 2 s and `requestTimeout` 3 s: the same, after 6 s?
 * 3. `node:http` `keepAliveTimeout` 1 s: when is an idle keep-alive connection closed?
 * 4. `node:http` `connection` event: does `socket.destroy()` on a 1 s timer close a half header?
 * 5. `Deno.serve` in a child under `ulimit -n 64` given 100 connections: does the process end?
 *
 * `deno run -A bench/http_server_probe.ts` (about 25 s). Prints a table; asserts nothing.
 */
import http from "node:http";
import type { Socket } from "node:net";

const HALF = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n");
const rows: [string, string][] = [];

/** Ms until the peer closes `conn` (reading whatever it sends), or undefined within `ms`. */
async function closesWithin(conn: Deno.Conn, ms: number): Promise<number | undefined> {
  const started = Date.now();
  const buffer = new Uint8Array(4096);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const closed = await Promise.race([
    (async () => {
      try {
        while (await conn.read(buffer) !== null) { /* keep reading */ }
      } catch { /* reset */ }
      return true;
    })(),
    new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms)),
  ]);
  clearTimeout(timer);
  return closed ? Date.now() - started : undefined;
}

async function halfHeaders(port: number, n: number): Promise<Deno.Conn[]> {
  const conns: Deno.Conn[] = [];
  for (let i = 0; i < n; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(HALF);
    conns.push(conn);
  }
  return conns;
}

function closeAll(conns: Deno.Conn[]): void {
  for (const conn of conns) {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

// 1. Deno.serve and half headers
{
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("ok"),
  );
  const conns = await halfHeaders(server.addr.port, 20);
  await new Promise((resolve) => setTimeout(resolve, 12_000));
  const open = (await Promise.all(conns.map((c) => closesWithin(c, 100))))
    .filter((t) => t === undefined).length;
  rows.push(["Deno.serve: half-header connections open after 12 s", `${open} of 20`]);
  closeAll(conns);
  await server.shutdown();
}

async function nodeServer(setup: (server: http.Server) => void): Promise<http.Server> {
  const server = http.createServer((_req, res) => res.end("ok"));
  setup(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return server;
}

function portOf(server: http.Server): number {
  return (server.address() as { port: number }).port;
}

// 2. node:http headersTimeout
{
  const server = await nodeServer((s) => {
    s.headersTimeout = 2000;
    s.requestTimeout = 3000;
  });
  const [conn] = await halfHeaders(portOf(server), 1);
  const closed = await closesWithin(conn!, 6000);
  rows.push([
    "node:http headersTimeout 2 s, requestTimeout 3 s: half header",
    closed === undefined ? "still open after 6 s" : `closed after ${closed} ms`,
  ]);
  closeAll([conn!]);
  server.closeAllConnections();
  server.close();
}

// 3. node:http keepAliveTimeout
{
  const server = await nodeServer((s) => s.keepAliveTimeout = 1000);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: portOf(server) });
  await conn.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  const closed = await closesWithin(conn, 6000);
  rows.push([
    "node:http keepAliveTimeout 1 s: idle keep-alive connection",
    closed === undefined ? "still open after 6 s" : `closed after ${closed} ms`,
  ]);
  closeAll([conn]);
  server.closeAllConnections();
  server.close();
}

// 4. node:http connection event + destroy
{
  const server = await nodeServer((s) =>
    s.on("connection", (socket: Socket) => setTimeout(() => socket.destroy(), 1000))
  );
  const [conn] = await halfHeaders(portOf(server), 1);
  const closed = await closesWithin(conn!, 6000);
  rows.push([
    "node:http `connection` socket destroyed after 1 s: half header",
    closed === undefined ? "still open after 6 s" : `closed after ${closed} ms`,
  ]);
  closeAll([conn!]);
  server.closeAllConnections();
  server.close();
}

// 5. Deno.serve out of file descriptors
{
  const script =
    `Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: (a) => console.log(a.port) },
    () => new Response("ok"));`;
  const child = new Deno.Command("sh", {
    args: ["-c", `ulimit -n 64 && exec "$0" eval "$1"`, Deno.execPath(), script],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const port = Number((await reader.read()).value?.trim());
  const conns: Deno.Conn[] = [];
  for (let i = 0; i < 100; i++) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(HALF).catch(() => 0);
      conns.push(conn);
    } catch { /* refused once it is gone */ }
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const status = await Promise.race([
    child.status,
    new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), 3000)),
  ]);
  clearTimeout(timer);
  const stderr = status ? (await new Response(child.stderr).text()).split("\n")[0] ?? "" : "";
  rows.push([
    "Deno.serve under ulimit -n 64, 100 connections",
    status ? `exited ${status.code}: ${stderr}` : "still running",
  ]);
  closeAll(conns);
  if (!status) {
    child.kill("SIGKILL");
    await child.status;
  }
  await reader.cancel().catch(() => {});
}

console.log(`HTTP servers and hostile connections, deno ${Deno.version.deno}\n`);
console.log("| probe | result |");
console.log("| --- | --- |");
for (const [probe, result] of rows) console.log(`| ${probe} | ${result} |`);
Deno.exit(0);
