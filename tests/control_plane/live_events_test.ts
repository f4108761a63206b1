/**
 * Live updates for the dashboard: the event hub on its own, and `GET /api/admin/events`
 * reporting what the stores change (worker status, heartbeats and samples, command status,
 * keys), called in process.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { LiveEvent } from "../../src/control_plane/admin_api.ts";
import { LiveEvents } from "../../src/control_plane/live_events.ts";
import { Paths } from "../../src/protocol/mod.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { sample, testPlane } from "./_fixtures.ts";

/** Reads SSE frames from a stream into `events`; returns a function that stops reading. */
function collect(
  stream: ReadableStream<Uint8Array>,
  events: LiveEvent[],
  raw: string[] = [],
): () => Promise<void> {
  const reader = (stream as ReadableStream<BufferSource>).pipeThrough(new TextDecoderStream())
    .getReader();
  let buffer = "";
  const done = (async () => {
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        raw.push(value);
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = frame.split("\n").find((l) => l.startsWith("data: "));
          if (data) events.push(JSON.parse(data.slice(6)));
        }
      }
    } catch { /* cancelled */ }
  })();
  return async () => {
    await reader.cancel().catch(() => {});
    await done;
  };
}

Deno.test("LiveEvents sends events as SSE frames and coalesces activity", async () => {
  const hub = new LiveEvents({ activityIntervalMs: 20, keepaliveIntervalMs: 60_000 });
  const events: LiveEvent[] = [];
  const raw: string[] = [];
  const stop = collect(hub.subscribe()!, events, raw);
  try {
    hub.emit({ type: "key", key_id: "key_1", active: false });
    for (let i = 0; i < 50; i++) hub.touch(i % 2 === 0 ? "wkr_a" : "wkr_b");
    await waitFor(() => events.length === 2, { message: "two events" });
    assertEquals(events[0], { type: "key", key_id: "key_1", active: false });
    assertEquals(events[1], { type: "activity", worker_ids: ["wkr_a", "wkr_b"], all: false });
    assert(raw.join("").startsWith("retry: 2000\n"), "the browser is told when to reconnect");
    assert(raw.join("").includes("event: key\ndata: {"));
  } finally {
    await stop();
  }
  assertEquals(hub.subscriberCount, 0, "a cancelled stream is forgotten");
});

Deno.test("LiveEvents lists at most maxActivityIds workers, then says all", async () => {
  const hub = new LiveEvents({ activityIntervalMs: 10, maxActivityIds: 3 });
  const events: LiveEvent[] = [];
  const stop = collect(hub.subscribe()!, events);
  try {
    for (const id of ["a", "b", "c", "d"]) hub.touch(id);
    await waitFor(() => events.length === 1);
    assertEquals(events[0], { type: "activity", worker_ids: [], all: true });
  } finally {
    await stop();
  }
});

Deno.test("LiveEvents refuses subscribers beyond its cap, drops one that does not read, and closes", async () => {
  const hub = new LiveEvents({ maxSubscribers: 2, maxQueuedBytes: 4096 });
  const slow = hub.subscribe()!; // never read
  const events: LiveEvent[] = [];
  const stop = collect(hub.subscribe()!, events);
  assertEquals(hub.subscribe(), undefined, "a third is refused");
  for (let i = 0; i < 100; i++) {
    hub.emit({ type: "key", key_id: `key_${i}`, active: true });
    await waitFor(() => events.length === i + 1, { intervalMs: 1, message: "every event" });
  }
  assertEquals(hub.subscriberCount, 1, "the one that does not read was dropped");
  hub.close();
  await stop();
  assertEquals(hub.subscribe(), undefined, "closed: no new streams");
  await slow.cancel();
});

Deno.test("GET /api/admin/events reports workers, activity, commands and keys as they change", async (t) => {
  using plane = testPlane({ heartbeatIntervalSeconds: 5 });
  const { key, keyId, workerId } = await plane.registerWorker();
  const signIn = await plane.call("/api/admin/session", { json: { token: plane.adminToken } });
  await signIn.body?.cancel();
  const cookie = signIn.headers.get("set-cookie")!.split(";")[0]!;

  const refused = await plane.call("/api/admin/events");
  assertEquals(refused.status, 401, "the stream needs the session");
  await refused.body?.cancel();

  const res = await plane.call("/api/admin/events", { headers: { cookie } });
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
  const events: LiveEvent[] = [];
  const stop = collect(res.body!, events);
  const next = (match: (e: LiveEvent) => boolean, message: string) =>
    waitFor(() => events.find(match), { message, timeoutMs: 5000 });
  try {
    await t.step("a heartbeat and a sample are activity", async () => {
      await plane.call(Paths.heartbeat(workerId), { key, json: { status: "online" } });
      await plane.call(Paths.metrics(workerId), { key, json: { samples: [sample("s", 1)] } });
      const activity = await next((e) => e.type === "activity", "activity");
      assertEquals(activity, { type: "activity", worker_ids: [workerId], all: false });
    });
    await t.step("a command's life: pending, delivered, completed", async () => {
      const created = await plane.admin("/api/workers/commands", {
        json: { worker_id: workerId, command_type: "ping" },
      });
      const { command_id: commandId } = await created.json();
      await plane.call(Paths.heartbeat(workerId), { key, json: { status: "online" } });
      await plane.call(Paths.result(commandId), {
        key,
        json: { status: "completed", output: "pong" },
      });
      await next((e) => e.type === "command" && e.status === "completed", "completed");
      const statuses = events.filter((e) => e.type === "command").map((e) =>
        e.type === "command" && e.status
      );
      assertEquals(statuses, ["pending", "delivered", "completed"]);
    });
    await t.step("going offline by heartbeat and by silence are worker events", async () => {
      await plane.call(Paths.heartbeat(workerId), { key, json: { status: "offline" } });
      await next((e) => e.type === "worker" && e.status === "offline", "offline");
      await plane.call(Paths.heartbeat(workerId), { key, json: { status: "online" } });
      await next((e) => e.type === "worker" && e.status === "online", "online again");
      events.splice(0);
      plane.clock.advance(16_000);
      await plane.cp.sweep();
      await next((e) => e.type === "worker" && e.status === "offline", "offline by silence");
    });
    await t.step("revoking the key is a key event", async () => {
      await plane.admin(`/api/admin/keys/${keyId}/revoke`, { method: "POST" });
      await next((e) => e.type === "key" && !e.active, "revoked");
    });
  } finally {
    await stop();
  }
});
