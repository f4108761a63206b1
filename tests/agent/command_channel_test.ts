import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { AuthRetrySchedule, Backoff } from "../../src/shared/backoff.ts";
import { ClockJumpDetector } from "../../src/client/clock_jump.ts";
import { CommandChannel } from "../../src/client/command_channel.ts";
import type { WebSocketState } from "../../src/state/agent_status.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { memoryLogger } from "./_fixtures.ts";

const KEY = "wak_" + "w".repeat(32);

interface Seen {
  headers: Headers;
  frames: Record<string, unknown>[];
}

/** A WebSocket server for the channel's unit tests; `behave` scripts each session. */
function wsServer(behave: (socket: WebSocket, session: number) => void, status = 101) {
  const sessions: Seen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    if (status !== 101) return new Response("no", { status });
    const seen: Seen = { headers: new Headers(req.headers), frames: [] };
    const { socket, response } = Deno.upgradeWebSocket(req);
    sessions.push(seen);
    const n = sessions.length;
    socket.onmessage = (e) => seen.frames.push(JSON.parse(e.data as string));
    socket.onopen = () => behave(socket, n);
    return response;
  });
  return {
    url: `ws://127.0.0.1:${server.addr.port}/api/v1/workers/ws`,
    sessions,
    close: () => server.shutdown(),
  };
}

function channelFor(
  url: string,
  extra: Partial<ConstructorParameters<typeof CommandChannel>[0]> = {},
) {
  const states: WebSocketState[] = [];
  const commands: unknown[] = [];
  const channel = new CommandChannel({
    url,
    apiKey: KEY,
    workerId: "wkr_me",
    logger: memoryLogger().logger,
    backoff: new Backoff({ baseMs: 10, capMs: 20 }),
    onCommand: (raw) => {
      commands.push(raw);
      return Promise.resolve(true);
    },
    onState: (s) => states.push(s),
    ...extra,
  });
  return { channel, states, commands };
}

Deno.test("CommandChannel authenticates with headers (instance id included), answers pings and acks commands", async () => {
  const server = wsServer((socket) => {
    socket.send(
      JSON.stringify({
        type: "welcome",
        worker_id: "wkr_me",
        heartbeat_interval_seconds: 5,
        server_time: Date.now(),
      }),
    );
    socket.send(JSON.stringify({ type: "ping", ts: 42 }));
    socket.send(JSON.stringify({ type: "command", command: { id: "c-1" } }));
  });
  const stop = new AbortController();
  const { channel, commands } = channelFor(server.url, { instanceId: "inst-1" });
  const running = channel.run(stop.signal);
  try {
    await waitFor(() => server.sessions[0]?.frames.length === 2, { message: "pong and ack" });
    const seen = server.sessions[0]!;
    assertEquals(seen.headers.get("authorization"), `Bearer ${KEY}`);
    assertEquals(seen.headers.get("x-worker-id"), "wkr_me");
    assertEquals(seen.headers.get("x-instance-id"), "inst-1");
    assertEquals(seen.frames, [{ type: "pong", ts: 42 }, { type: "ack", command_id: "c-1" }]);
    assertEquals(commands, [{ id: "c-1" }]);
  } finally {
    stop.abort();
    await running;
    await server.close();
  }
});

Deno.test("CommandChannel reports unsupported when the upgrade answers 404", async () => {
  const server = wsServer(() => {}, 404);
  const stop = new AbortController();
  const { channel, states } = channelFor(server.url);
  const running = channel.run(stop.signal);
  try {
    await waitFor(() => states.includes("unsupported"), { message: "unsupported" });
  } finally {
    stop.abort();
    await running;
    await server.close();
  }
});

Deno.test("CommandChannel tells about an auth refusal (close 4001) and does not reconnect quickly", async () => {
  const server = wsServer((socket) => socket.close(4001, "unauthorized"));
  const stop = new AbortController();
  const reasons: string[] = [];
  const { channel } = channelFor(server.url, { onAuthFailure: (r) => reasons.push(r) });
  const running = channel.run(stop.signal);
  try {
    await waitFor(() => reasons.length === 1, { message: "auth failure" });
    assert(reasons[0]!.includes("4001"));
    assertEquals(server.sessions.length, 1);
  } finally {
    stop.abort();
    await running;
    await server.close();
  }
});

Deno.test("CommandChannel waits on the auth schedule after each refusal, doubling, and starts over once welcomed", async () => {
  // Sessions 1-3 are refused (close 4001, 4003, 4001); session 4 is welcomed; session 5 is
  // refused again.
  const server = wsServer((socket, n) => {
    if (n === 4) {
      socket.send(JSON.stringify({
        type: "welcome",
        worker_id: "wkr_me",
        heartbeat_interval_seconds: 30,
        server_time: Date.now(),
      }));
      setTimeout(() => socket.close(1000, "bye"), 20);
    } else socket.close(n === 2 ? 4003 : 4001, "refused");
  });
  const stop = new AbortController();
  const waits: number[] = [];
  const { channel } = channelFor(server.url, {
    authRetry: new AuthRetrySchedule({ firstMs: 20, maxMs: 60 }),
    onAuthFailure: (_reason, retryInMs) => waits.push(retryInMs),
  });
  const running = channel.run(stop.signal);
  try {
    // Refusals go on after the fourth (session 5 is refused again, and so on), so wait for at
    // least four and look at the first four: polling for exactly four can miss that moment.
    await waitFor(() => waits.length >= 4, { message: "four refusals" });
    assertEquals(waits.slice(0, 4), [20, 40, 60, 20]);
    assert(server.sessions.length >= 5, `${server.sessions.length} sessions`);
  } finally {
    stop.abort();
    await running;
    await server.close();
  }
});

Deno.test("CommandChannel reconnects after 2 missed pongs", async () => {
  // The server never answers pings.
  const closed: number[] = [];
  const server = wsServer((socket, n) => socket.onclose = () => closed.push(n));
  const stop = new AbortController();
  const { channel } = channelFor(server.url, { pingIntervalMs: 30 });
  const running = channel.run(stop.signal);
  try {
    await waitFor(() => server.sessions.length >= 2, { message: "a second session" });
    const pings = server.sessions[0]!.frames.filter((f) => f.type === "ping");
    assertEquals(pings.length, 2);
    // The dead session's socket is closed, not left open beside the new one.
    await waitFor(() => closed.includes(1), { message: "the first socket closed" });
  } finally {
    stop.abort();
    await running;
    await server.close();
  }
});

Deno.test("ClockJumpDetector reports a wall-clock jump the monotonic clock did not see", () => {
  let wall = 0;
  let mono = 0;
  const detector = new ClockJumpDetector({
    now: () => wall,
    monotonic: () => mono,
    thresholdMs: 1000,
  });
  wall += 500;
  mono += 500;
  assertEquals(detector.check(), 0);
  wall += 3_600_000; // resumed after an hour asleep
  mono += 20;
  assertEquals(detector.check(), 3_599_980);
  assertEquals(detector.check(), 0);
});

Deno.test("CommandChannel bounds a disconnect's retry_after_seconds instead of overflowing the timer", async () => {
  // 1e7 s does not fit a 32-bit timer: unbounded, it fires after 1 ms and the channel spins.
  const server = wsServer((socket) => {
    socket.send(JSON.stringify({ type: "disconnect", reason: "drain", retry_after_seconds: 1e7 }));
  });
  const stop = new AbortController();
  const { channel, states } = channelFor(server.url);
  const running = channel.run(stop.signal);
  try {
    await waitFor(() => states.at(-1) === "closed" && states.includes("open"), {
      message: "closed after the disconnect",
    });
    // An observation window for something that must not happen (a reconnect).
    const deadline = Date.now() + 500;
    await waitFor(() => server.sessions.length > 1 || Date.now() >= deadline, {
      message: "window",
    });
    assertEquals(server.sessions.length, 1);
  } finally {
    stop.abort();
    await running;
    await server.close();
  }
});

Deno.test("CommandChannel closes the socket on a frame over 256 KiB counted in bytes, not characters", async () => {
  const closes: string[] = [];
  // 100 000 three-byte characters: 300 000 bytes, but only 100 000 UTF-16 units.
  const big = JSON.stringify({ type: "ping", ts: 1, pad: "€".repeat(100_000) });
  const server = wsServer((socket, n) => {
    // A browser-style client may only send 1000 or 3000-4999: 1009 itself would throw.
    socket.onclose = (e) => closes.push(`${e.code} ${e.reason}`);
    if (n === 1) socket.send(big);
  });
  const stop = new AbortController();
  const { channel } = channelFor(server.url);
  const running = channel.run(stop.signal);
  try {
    await waitFor(() => closes.length > 0 || server.sessions[0]?.frames.length, {
      message: "a close or an answer",
    });
    assertEquals(server.sessions[0]!.frames, [], "the oversized ping was not answered");
    await waitFor(() => closes.length > 0, { message: "the close" });
    assertEquals(closes[0], "1000 frame too large");
  } finally {
    stop.abort();
    await running;
    await server.close();
  }
});

Deno.test("CommandChannel ends a session on an unusable frame and reconnects with backoff, one line each", async () => {
  const garbage = [
    "this is not JSON",
    `{"type":"ping","ts":${"[".repeat(1000)}${"]".repeat(1000)}}`,
    JSON.stringify({ type: "command", command: "not an object" }),
  ];
  const server = wsServer((socket, n) => {
    const frame = garbage[n - 1];
    if (frame !== undefined) socket.send(frame);
    else socket.send(JSON.stringify({ type: "command", command: { id: "c-after" } }));
  });
  const { logger, lines } = memoryLogger();
  const stop = new AbortController();
  const { channel, commands } = channelFor(server.url, { logger });
  const running = channel.run(stop.signal);
  try {
    await waitFor(() => commands.length === 1, { message: "a command after the garbage" });
    assertEquals(commands, [{ id: "c-after" }]);
    assertEquals(server.sessions.length, garbage.length + 1);
    const warnings = lines.filter((l) => l.includes("unusable WebSocket frame"));
    assertEquals(warnings.length, garbage.length, lines.join(""));
    assert(warnings[0]!.includes("not JSON") && warnings[1]!.includes("deeper than 64"));
  } finally {
    stop.abort();
    await running;
    await server.close();
  }
});

Deno.test("CommandChannel ignores a frame of a type it does not know (a newer server)", async () => {
  const server = wsServer((socket) => {
    socket.send(JSON.stringify({ type: "news", text: "hello" }));
    socket.send(JSON.stringify({ type: "ping", ts: 7 }));
  });
  const stop = new AbortController();
  const { channel } = channelFor(server.url);
  const running = channel.run(stop.signal);
  try {
    await waitFor(() => server.sessions[0]?.frames.length === 1, { message: "the pong" });
    assertEquals(server.sessions[0]!.frames, [{ type: "pong", ts: 7 }]);
    assertEquals(server.sessions.length, 1, "the session stayed up");
  } finally {
    stop.abort();
    await running;
    await server.close();
  }
});

Deno.test("CommandChannel tells about an upgrade refused with 409 (key in use) and does not fight", async () => {
  let upgrades = 0;
  const counting = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    upgrades++;
    return Response.json({ error: "in use", code: "key_in_use" }, { status: 409 });
  });
  const stop = new AbortController();
  const reasons: string[] = [];
  const { channel } = channelFor(
    `ws://127.0.0.1:${counting.addr.port}/api/v1/workers/ws`,
    { onKeyInUse: (r) => reasons.push(r) },
  );
  const running = channel.run(stop.signal);
  try {
    await waitFor(() => reasons.length === 1, { message: "the key-in-use report" });
    assert(reasons[0]!.includes("409"));
    // An observation window for something that must not happen (a quick retry).
    const deadline = Date.now() + 500;
    await waitFor(() => upgrades > 1 || Date.now() >= deadline, { message: "window" });
    assertEquals(upgrades, 1);
  } finally {
    stop.abort();
    await running;
    await counting.shutdown();
  }
});

Deno.test("CommandChannel backs off when its session is replaced (4008), with one warning per streak", async () => {
  const server = wsServer((socket) => socket.close(4008, "replaced"));
  const { logger, lines } = memoryLogger();
  const stop = new AbortController();
  const { channel } = channelFor(server.url, { logger });
  const running = channel.run(stop.signal);
  try {
    await waitFor(() => server.sessions.length >= 4, { message: "four replaced sessions" });
    const warnings = lines.filter((l) => l.includes("WARN") && l.includes("replaced"));
    assertEquals(warnings.length, 1, lines.join(""));
    assert(warnings[0]!.includes("same key used on another machine"));
  } finally {
    stop.abort();
    await running;
    await server.close();
  }
});
