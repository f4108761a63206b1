/**
 * The NATS cluster bus against real nats-servers: the machine's (FTL_TEST_NATS_URL) for event
 * flow and hostile payloads, and a private one that is stopped and restarted.
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
  throws as assertThrows,
} from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { createLogger } from "../../src/log/logger.ts";
import type { ClusterEvent } from "../../src/control_plane/cluster/cluster_bus.ts";
import { LocalBus } from "../../src/control_plane/cluster/cluster_bus.ts";
import {
  clusterOf,
  connectNatsBus,
  MAX_EVENT_BYTES,
  type NatsBus,
  natsSubject,
  parseNatsUrl,
} from "../../src/control_plane/cluster/nats_bus.ts";
import { startPrivateNats } from "../_helpers/private_nats.ts";
import { requireTestNats } from "../_helpers/test_services.ts";
import { freePort, waitFor } from "../_helpers/wait_for.ts";

const logLines: string[] = [];
const logger = createLogger({ level: "debug", write: (line) => logLines.push(line) });
const cluster = () => `t${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;

function collect(bus: NatsBus): ClusterEvent[] {
  const seen: ClusterEvent[] = [];
  bus.subscribe((event) => seen.push(event));
  return seen;
}

Deno.test("LocalBus: publish is a no-op, always ready", async () => {
  const bus = new LocalBus();
  let called = 0;
  bus.subscribe(() => called++);
  bus.publish({ kind: "key_revoked", key_id: "k" });
  assertEquals(called, 0);
  assert(bus.ready());
  await bus.close();
});

Deno.test("NATS URL, subject and redaction", () => {
  assertEquals(parseNatsUrl("nats://127.0.0.1:4223"), { server: "127.0.0.1:4223", tls: false });
  assertEquals(parseNatsUrl("nats://u:p%40ss@h"), {
    server: "h:4222",
    tls: false,
    user: "u",
    pass: "p@ss",
  });
  assertEquals(parseNatsUrl("tls://h:1").tls, true);
  assertThrows(() => parseNatsUrl("http://h:4222"), /nats:\/\//);
  assertThrows(() => parseNatsUrl("nats://u:secret@"), (e: Error) => !e.message.includes("secret"));
  assertEquals(clusterOf("postgres://u:p@db.example:5432/fleet_1"), "fleet_1");
  assertEquals(clusterOf("postgres://u:p@other-host/fleet_1"), "fleet_1");
  assertEquals(clusterOf("postgres://h/a.b%20c"), "a_b_c");
  assertEquals(clusterOf("postgres://h"), "default");
  assertEquals(natsSubject(), "ftl.cp.v1.default.events");
  assertThrows(() => natsSubject("a.b"), RangeError);
  assertThrows(() => natsSubject(""), RangeError);
});

Deno.test("NATS bus: events reach the other instances, not the sender; garbage is dropped and counted", async () => {
  const url = await requireTestNats();
  const name = cluster();
  const a = await connectNatsBus({ url, instanceId: "cp-a", logger, cluster: name });
  const b = await connectNatsBus({ url, instanceId: "cp-b", logger, cluster: name });
  const other = await connectNatsBus({ url, instanceId: "cp-c", logger, cluster: cluster() });
  const raw = await connect({ servers: parseNatsUrl(url).server });
  try {
    assert(a.ready() && b.ready());
    const atA = collect(a);
    const atB = collect(b);
    const atOther = collect(other);
    b.subscribe(() => {
      throw new Error("a subscriber that throws does not stop the bus");
    });
    const events: ClusterEvent[] = [
      { kind: "command_created", worker_id: "wkr_1", command_id: "c1" },
      { kind: "session_opened", worker_id: "wkr_1", session_id: "s1" },
      { kind: "key_revoked", key_id: "key_1" },
      { kind: "worker_deleted", worker_id: "wkr_2" },
    ];
    for (const event of events) a.publish(event);
    await waitFor(() => atB.length === 4, { message: "four events at B" });
    assertEquals(atB, events);
    // Hostile payloads straight onto the subject.
    const enc = new TextEncoder();
    const garbage = [
      "not json",
      JSON.stringify({ v: 1, origin: "x", sent_at: Date.now(), event: { kind: "nope" } }),
      JSON.stringify({ v: 2, origin: "x", sent_at: Date.now(), event: events[0] }),
      JSON.stringify({
        v: 1,
        origin: "x",
        sent_at: Date.now(),
        event: { kind: "key_revoked", key_id: "a\nb" },
      }),
      JSON.stringify({
        v: 1,
        origin: "x",
        sent_at: Date.now(),
        event: { kind: "key_revoked", key_id: "k", extra: 1 },
      }),
      JSON.stringify({ v: 1, origin: "x", sent_at: Date.now() - 3_600_000, event: events[2] }),
      JSON.stringify({
        v: 1,
        origin: "x",
        sent_at: Date.now(),
        event: events[2],
        pad: "x".repeat(MAX_EVENT_BYTES),
      }),
    ];
    for (const text of garbage) raw.publish(a.subject, enc.encode(text));
    raw.publish(a.subject, new Uint8Array([0xff, 0xfe, 0x00]));
    await raw.flush();
    b.publish({ kind: "key_revoked", key_id: "after-garbage" });
    await waitFor(() => atA.length === 1, { message: "B's event at A" });
    await waitFor(() => b.counters().rejected === garbage.length + 1, { message: "all rejected" });
    assertEquals(atA, [{ kind: "key_revoked", key_id: "after-garbage" }]);
    assertEquals(atB.length, 4); // nothing of the garbage, nothing of its own
    assertEquals(a.counters().rejected, garbage.length + 1);
    assert(b.counters().handlerErrors >= 4);
    assertEquals(atOther, []); // another cluster's bells are not heard
  } finally {
    await raw.close();
    await Promise.all([a.close(), b.close(), other.close()]);
  }
  assert(!a.ready());
  a.publish({ kind: "key_revoked", key_id: "closed" }); // never throws
});

Deno.test("NATS bus: NATS stopped (not ready, publish drops), restarted (events flow again)", async () => {
  await using nats = await startPrivateNats();
  const opts = { url: nats.url, logger, cluster: "default", reconnectWaitMs: 100 };
  const a = await connectNatsBus({ ...opts, instanceId: "cp-a" });
  const b = await connectNatsBus({ ...opts, instanceId: "cp-b" });
  try {
    const atB = collect(b);
    a.publish({ kind: "key_revoked", key_id: "before" });
    await waitFor(() => atB.length === 1, { message: "event before the stop" });

    await nats.stop();
    await waitFor(() => !a.ready() && !b.ready(), { message: "both not ready" });
    const dropped = a.counters().dropped;
    const started = performance.now();
    for (let i = 0; i < 1000; i++) a.publish({ kind: "key_revoked", key_id: `down-${i}` });
    assert(performance.now() - started < 1000, "publish does not block while NATS is down");
    assertEquals(a.counters().dropped, dropped + 1000);

    await nats.start();
    await waitFor(() => a.ready() && b.ready(), { message: "both ready again", timeoutMs: 15_000 });
    // The subscription came back with the connection.
    await waitFor(() => {
      a.publish({ kind: "key_revoked", key_id: "after" });
      return atB.some((e) => e.kind === "key_revoked" && e.key_id === "after");
    }, { message: "events after the restart", intervalMs: 100 });
    assert(!atB.some((e) => e.kind === "key_revoked" && e.key_id.startsWith("down-")));
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

Deno.test("NATS bus: NATS down at start returns a not-ready bus in bounded time, which connects later", async () => {
  const port = freePort();
  const started = performance.now();
  const bus = await connectNatsBus({
    url: `nats://127.0.0.1:${port}`,
    instanceId: "cp-late",
    logger,
    connectTimeoutMs: 500,
    reconnectWaitMs: 100,
  });
  try {
    assert(performance.now() - started < 5000);
    assert(!bus.ready());
    bus.publish({ kind: "worker_deleted", worker_id: "w" });
    assertEquals(bus.counters().dropped, 1);
    await using nats = await startPrivateNats({ port });
    await waitFor(() => bus.ready(), { message: "connected once NATS is up", timeoutMs: 15_000 });
    assert(nats.running);
  } finally {
    await bus.close();
  }
});
