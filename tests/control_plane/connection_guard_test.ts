/**
 * The connection guard over raw sockets: header, body and idle timeouts, connection caps,
 * request framing across keep-alive and pipelining, WebSocket tunnels, and the peer address
 * it hands to the HTTP server. Timeouts are short here; the defaults are in
 * docs/control-plane.md.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { createLogger } from "../../src/log/logger.ts";
import { ConnectionGuard } from "../../src/control_plane/connection_guard.ts";
import {
  type ConnectionLimits,
  defaultConnectionLimits,
} from "../../src/control_plane/connection_limits.ts";
import { waitFor } from "../_helpers/wait_for.ts";

interface Served extends AsyncDisposable {
  port: number;
  guard: ConnectionGuard;
  logs: string[];
  /** Peer addresses the HTTP server saw, per request path. */
  peers: Map<string, string | undefined>;
  upstreamPort: number;
}

/** An echo server behind a guard: `POST` answers the body length, `/ws` upgrades. */
function guarded(limits: Partial<ConnectionLimits> = {}): Served {
  const logs: string[] = [];
  const peers = new Map<string, string | undefined>();
  const holder: { guard?: ConnectionGuard } = {};
  const upstream = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request, info) => {
      const path = new URL(request.url).pathname;
      peers.set(path, holder.guard?.peerOf(info.remoteAddr.port));
      if (path === "/ws") {
        const { socket, response } = Deno.upgradeWebSocket(request);
        socket.onmessage = (event) => socket.send(`echo ${event.data}`);
        return response;
      }
      const body = new Uint8Array(await request.arrayBuffer().catch(() => new ArrayBuffer(0)));
      return new Response(`${request.method} ${path} ${body.length}`);
    },
  );
  const guard = new ConnectionGuard({
    hostname: "127.0.0.1",
    port: 0,
    upstreamPort: upstream.addr.port,
    limits: {
      ...defaultConnectionLimits(1024),
      headerTimeoutMs: 300,
      bodyTimeoutMs: 2000,
      bodyMinBytesPerSecond: 1000,
      idleTimeoutMs: 400,
      tunnelIdleTimeoutMs: 600,
      ...limits,
    },
    logger: createLogger({ level: "debug", format: "json", write: (line) => logs.push(line) }),
  });
  holder.guard = guard;
  return {
    port: guard.addr.port,
    guard,
    logs,
    peers,
    upstreamPort: upstream.addr.port,
    async [Symbol.asyncDispose]() {
      await guard.close();
      await upstream.shutdown();
    },
  };
}

const encoder = new TextEncoder();

async function connect(port: number): Promise<Deno.TcpConn> {
  return await Deno.connect({ hostname: "127.0.0.1", port });
}

async function send(conn: Deno.Conn, text: string): Promise<void> {
  const bytes = encoder.encode(text);
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

/** Reads until `done(text)` holds or the peer closes; returns what arrived and whether it closed. */
async function readUntil(
  conn: Deno.Conn,
  done: (text: string) => boolean = () => false,
  timeoutMs = 5000,
): Promise<{ text: string; closed: boolean }> {
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(65536);
  let text = "";
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    while (!done(text)) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) return { text, closed: true };
      text += decoder.decode(buffer.subarray(0, n), { stream: true });
    }
    return { text, closed: false };
  } finally {
    clearTimeout(timer);
  }
}

/** Responses in `text` that are complete (header plus `Content-Length` bytes). */
function responses(text: string): string[] {
  const out: string[] = [];
  let rest = text;
  while (true) {
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) return out;
    const length = Number(/content-length: (\d+)/i.exec(rest.slice(0, end))?.[1] ?? 0);
    if (rest.length < end + 4 + length) return out;
    out.push(rest.slice(end + 4, end + 4 + length));
    rest = rest.slice(end + 4 + length);
  }
}

Deno.test("a connection that sends half a header is answered 408 and closed, and the server keeps serving", async () => {
  await using s = guarded();
  const slow = await connect(s.port);
  await send(slow, "GET /half HTTP/1.1\r\nHost: x\r\n");
  const started = Date.now();
  const { text, closed } = await readUntil(slow);
  slow.close();
  assert(closed, "closed");
  assert(text.startsWith("HTTP/1.1 408 "), text);
  assert(text.includes('"code":"invalid_request"'), text);
  const took = Date.now() - started;
  assert(took >= 250 && took < 3000, `closed after the header timeout, took ${took} ms`);
  assertEquals(s.peers.has("/half"), false, "the HTTP server never saw it");
  const res = await fetch(`http://127.0.0.1:${s.port}/after`);
  assertEquals(await res.text(), "GET /after 0");
});

Deno.test("a header trickled byte by byte is cut at the header timeout, not reset by each byte", async () => {
  await using s = guarded();
  const conn = await connect(s.port);
  const request = "GET /trickle HTTP/1.1\r\nHost: x\r\nX-Pad: " + "a".repeat(100);
  let closedEarly = false;
  const started = Date.now();
  for (const char of request) {
    try {
      await send(conn, char);
    } catch {
      closedEarly = true;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (Date.now() - started > 1500) break;
  }
  const { closed } = await readUntil(conn);
  conn.close();
  assert(closedEarly || closed, "the connection was closed");
  assert(Date.now() - started < 2000, "within the header timeout, plus some slack");
});

Deno.test("keep-alive requests, pipelined requests and chunked bodies are framed correctly", async () => {
  await using s = guarded();
  const conn = await connect(s.port);
  await send(
    conn,
    "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" +
      "POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\n\r\n" +
      "GET /c HTTP/1.1\r\nHost: x\r\n\r\n",
  );
  const { text } = await readUntil(conn, (t) => responses(t).length >= 3);
  assertEquals(responses(text), ["POST /a 5", "POST /b 7", "GET /c 0"]);
  // Idle between requests is fine below the idle timeout; a new header restarts the clock.
  await new Promise((resolve) => setTimeout(resolve, 200));
  await send(conn, "GET /d HTTP/1.1\r\nHost: x\r\n\r\n");
  const again = await readUntil(conn, (t) => responses(t).length >= 1);
  assertEquals(responses(again.text), ["GET /d 0"]);
  conn.close();
});

Deno.test("an idle keep-alive connection is closed after the idle timeout", async () => {
  await using s = guarded();
  const conn = await connect(s.port);
  await send(conn, "GET /idle HTTP/1.1\r\nHost: x\r\n\r\n");
  const started = Date.now();
  const { text, closed } = await readUntil(conn);
  conn.close();
  assertEquals(responses(text), ["GET /idle 0"]);
  assert(closed);
  const took = Date.now() - started;
  assert(took >= 350 && took < 3000, `closed after about the idle timeout, took ${took} ms`);
});

Deno.test("a body slower than the minimum rate is cut; one at a fair rate gets through", async () => {
  await using s = guarded({ headerTimeoutMs: 200, bodyMinBytesPerSecond: 1000 });
  const slow = await connect(s.port);
  await send(slow, "POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
  const started = Date.now();
  let cut = false;
  for (let i = 0; i < 40 && !cut; i++) {
    await send(slow, "x".repeat(10)).catch(() => cut = true); // 100 bytes/s
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const { closed } = await readUntil(slow, () => false, 2000);
  slow.close();
  assert(cut || closed, "the slow body's connection was closed");
  assert(Date.now() - started < 4000, "well before the body could have finished");

  const fair = await connect(s.port);
  await send(fair, "POST /fair HTTP/1.1\r\nHost: x\r\nContent-Length: 6000\r\n\r\n");
  for (let i = 0; i < 6; i++) {
    await send(fair, "y".repeat(1000)); // about 5,000 bytes/s
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const { text } = await readUntil(fair, (t) => responses(t).length >= 1);
  fair.close();
  assertEquals(responses(text), ["POST /fair 6000"]);
});

Deno.test("connections beyond the per-address cap get 429 and beyond the total cap 503", async (t) => {
  await t.step("per address", async () => {
    await using s = guarded({ maxConnections: 100, maxConnectionsPerAddress: 3 });
    const held = await Promise.all([1, 2, 3].map(() => connect(s.port)));
    await waitFor(() => s.guard.openConnections === 3, { message: "3 connections open" });
    const extra = await connect(s.port);
    const { text, closed } = await readUntil(extra);
    extra.close();
    assert(closed);
    assert(text.startsWith("HTTP/1.1 429 "), text);
    assert(/retry-after: 5/i.test(text), text);
    for (const conn of held) conn.close();
    await waitFor(() => s.guard.openConnections === 0, { message: "all closed" });
    const res = await fetch(`http://127.0.0.1:${s.port}/free`);
    assertEquals(await res.text(), "GET /free 0", "slots come back when connections close");
    assert(s.logs.some((l) => l.includes("per-address connection limit reached")));
  });
  await t.step("in total", async () => {
    await using s = guarded({ maxConnections: 2, maxConnectionsPerAddress: 0 });
    const held = await Promise.all([1, 2].map(() => connect(s.port)));
    await waitFor(() => s.guard.openConnections === 2, { message: "2 connections open" });
    const extra = await connect(s.port);
    const { text } = await readUntil(extra);
    extra.close();
    assert(text.startsWith("HTTP/1.1 503 "), text);
    for (const conn of held) conn.close();
  });
});

Deno.test("an oversized header is refused with 431", async () => {
  await using s = guarded({ maxHeaderBytes: 1024 });
  const conn = await connect(s.port);
  await send(conn, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(2000) + "\r\n\r\n")
    .catch(() => {});
  const { text } = await readUntil(conn);
  conn.close();
  assert(text.startsWith("HTTP/1.1 431 "), text);
});

Deno.test("the HTTP server learns each request's peer; a direct connection is unknown", async () => {
  await using s = guarded();
  await (await fetch(`http://127.0.0.1:${s.port}/through`)).text();
  assertEquals(s.peers.get("/through"), "127.0.0.1");
  await (await fetch(`http://127.0.0.1:${s.upstreamPort}/direct`)).text();
  assertEquals(s.peers.get("/direct"), undefined);
});

Deno.test("a WebSocket passes through the guard and outlives the HTTP idle timeout while it talks", async () => {
  await using s = guarded({ idleTimeoutMs: 200, tunnelIdleTimeoutMs: 600 });
  const socket = new WebSocket(`ws://127.0.0.1:${s.port}/ws`);
  const messages: string[] = [];
  const closed = Promise.withResolvers<void>();
  socket.onmessage = (event) => messages.push(String(event.data));
  socket.onclose = () => closed.resolve();
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  let lastSent = 0;
  for (let i = 0; i < 5; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 150)); // 600 ms in all
    socket.send(`m${i}`);
    lastSent = Date.now();
  }
  await waitFor(() => messages.length === 5, { message: "5 echoes" });
  assertEquals(messages, ["echo m0", "echo m1", "echo m2", "echo m3", "echo m4"]);
  assertEquals(socket.readyState, WebSocket.OPEN, "talking keeps it open past both timeouts");
  const started = lastSent;
  await closed.promise;
  const took = Date.now() - started;
  assert(took >= 500 && took < 3000, `a silent tunnel closes after its idle timeout (${took} ms)`);
});

Deno.test("a refused upgrade goes back to HTTP framing on the same connection", async () => {
  await using s = guarded();
  const conn = await connect(s.port);
  await send(
    conn,
    "GET /not-ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
  );
  const first = await readUntil(conn, (t) => responses(t).length >= 1);
  assertEquals(responses(first.text), ["GET /not-ws 0"]);
  await send(conn, "GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
  const second = await readUntil(conn, (t) => responses(t).length >= 1);
  assertEquals(responses(second.text), ["GET /next 0"]);
  conn.close();
});
