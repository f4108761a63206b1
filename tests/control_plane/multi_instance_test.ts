/**
 * Two control planes in one process over one PostgreSQL database (a fresh one per run,
 * through FTL_TEST_DATABASE_URL), each with its own connection pool, joined by an in-memory
 * bus: cross-instance push, 4008 on a reconnect elsewhere, revocation across instances, no
 * double delivery, polling without the bus, and the sweeper's leader taking over.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { ClusterBus, ClusterEvent } from "../../src/control_plane/cluster/cluster_bus.ts";
import {
  connectPostgresStorage,
  type PostgresEngine,
} from "../../src/control_plane/storage/postgres/pg_storage.ts";
import { CloseCode } from "../../src/protocol/mod.ts";
import { freshDatabase } from "../_helpers/test_services.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { ManualClock, servedPlane } from "./_fixtures.ts";
import { ProtocolClient } from "./_protocol_client.ts";

/** An in-memory bus hub: what one member publishes reaches every other member, later. */
class TestHub {
  #members = new Set<TestBus>();
  /** When false, every event is lost (the bus is down). */
  up = true;

  member(): TestBus {
    const bus = new TestBus(this);
    this.#members.add(bus);
    return bus;
  }

  deliver(from: TestBus, event: ClusterEvent): void {
    if (!this.up) return;
    for (const member of this.#members) {
      if (member !== from) queueMicrotask(() => member.receive(event));
    }
  }
}

class TestBus implements ClusterBus {
  #hub: TestHub;
  #handlers: ((event: ClusterEvent) => void)[] = [];
  constructor(hub: TestHub) {
    this.#hub = hub;
  }
  publish(event: ClusterEvent): void {
    this.#hub.deliver(this, structuredClone(event));
  }
  subscribe(handler: (event: ClusterEvent) => void): void {
    this.#handlers.push(handler);
  }
  receive(event: ClusterEvent): void {
    for (const handler of this.#handlers) handler(event);
  }
  ready(): boolean {
    return this.#hub.up;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Two served instances over one fresh database. */
async function twoInstances() {
  const database = await freshDatabase();
  const engines: PostgresEngine[] = [];
  const hub = new TestHub();
  const clock = new ManualClock();
  clock.time = Date.now();
  const start = async (instanceId: string) => {
    const engine = await connectPostgresStorage(database.url, { poolSize: 4 });
    engines.push(engine);
    return servedPlane({ storage: engine, bus: hub.member(), instanceId, now: clock.now });
  };
  const a = await start("cp_a");
  const b = await start("cp_b");
  return {
    a,
    b,
    hub,
    clock,
    engines,
    async [Symbol.asyncDispose]() {
      await a[Symbol.asyncDispose]();
      await b[Symbol.asyncDispose]();
      for (const engine of engines) await engine.close();
      await database.drop();
    },
  };
}

async function adminPost(baseUrl: string, token: string, path: string, body: unknown) {
  const res = await fetch(`${baseUrl}${path}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function workerOn(baseUrl: string, token: string): Promise<ProtocolClient> {
  const created = await adminPost(baseUrl, token, "/api/admin/keys", { name: "w" });
  assertEquals(created.status, 201);
  const client = new ProtocolClient(baseUrl, created.body.key);
  await client.register();
  return client;
}

Deno.test("multi-instance: a command created on A is pushed over B's WebSocket", async () => {
  await using cluster = await twoInstances();
  const { a, b } = cluster;
  const onB = await workerOn(b.baseUrl, b.plane.adminToken);
  const channel = await onB.connect();
  await channel.next("welcome");
  const created = await adminPost(a.baseUrl, a.plane.adminToken, "/api/workers/commands", {
    worker_id: onB.workerId,
    command_type: "ping",
  });
  assertEquals(created.status, 201);
  const frame = await channel.next("command", 2000);
  assertEquals((frame.command as { id: string }).id, created.body.command_id);
  assert(!a.plane.cp.sessions.has(onB.workerId));
  await channel.close();
});

Deno.test("multi-instance: reconnecting from A to B closes A's session with 4008", async () => {
  await using cluster = await twoInstances();
  const { a, b } = cluster;
  const client = await workerOn(a.baseUrl, a.plane.adminToken);
  const onA = await client.connect();
  await onA.next("welcome");
  const viaB = new ProtocolClient(b.baseUrl, client.key);
  viaB.workerId = client.workerId;
  const onB = await viaB.connect();
  await onB.next("welcome");
  const closed = await onA.closed;
  assertEquals(closed.code, CloseCode.replaced);
  await waitFor(() => !a.plane.cp.sessions.has(client.workerId), { message: "A forgets it" });
  assert(b.plane.cp.sessions.has(client.workerId), "exactly one live session, on B");
  assertEquals(a.plane.cp.sessions.size + b.plane.cp.sessions.size, 1);
  // A late event about an older session elsewhere does not close the newer one here.
  b.plane.cp.sessions.replacedElsewhere(client.workerId, `cp_x:9:${cluster.clock.time - 5000}`);
  assert(b.plane.cp.sessions.has(client.workerId), "the newer session stays");
  assertEquals(onB.socket.readyState, WebSocket.OPEN);
  await onB.close();
});

Deno.test("multi-instance: revoking a key on A closes the session on B", async () => {
  await using cluster = await twoInstances();
  const { a, b } = cluster;
  const onB = await workerOn(b.baseUrl, b.plane.adminToken);
  const channel = await onB.connect();
  await channel.next("welcome");
  const keyId = (await b.plane.cp.storage.workers.get(onB.workerId))!.key_id;
  const revoked = await adminPost(
    a.baseUrl,
    a.plane.adminToken,
    `/api/admin/keys/${keyId}/revoke`,
    {},
  );
  assertEquals(revoked.status, 200);
  const closed = await channel.closed;
  assertEquals(closed.code, CloseCode.unauthorized);
});

Deno.test("multi-instance: deleting a worker on A closes its session on B", async () => {
  await using cluster = await twoInstances();
  const { a, b } = cluster;
  const onB = await workerOn(b.baseUrl, b.plane.adminToken);
  const channel = await onB.connect();
  await channel.next("welcome");
  const res = await fetch(`${a.baseUrl}/api/workers/${onB.workerId}`, {
    method: "DELETE",
    headers: { Authorization: `Bearer ${a.plane.adminToken}` },
  });
  assertEquals(res.status, 200);
  await res.body?.cancel();
  const closed = await channel.closed;
  assertEquals(closed.code, 1000);
});

Deno.test("multi-instance: heartbeats on both instances at once never get one command twice", async () => {
  await using cluster = await twoInstances();
  const { a, b } = cluster;
  const client = await workerOn(a.baseUrl, a.plane.adminToken);
  const viaB = new ProtocolClient(b.baseUrl, client.key);
  viaB.workerId = client.workerId;
  const ids = new Set<string>();
  for (let i = 0; i < 30; i++) {
    const created = await adminPost(a.baseUrl, a.plane.adminToken, "/api/workers/commands", {
      worker_id: client.workerId,
      command_type: "ping",
    });
    ids.add(created.body.command_id);
  }
  const received: string[] = [];
  for (let round = 0; round < 4; round++) {
    const answers = await Promise.all(
      [client, viaB, client, viaB].map((c) => c.heartbeat()),
    );
    for (const answer of answers) {
      for (const command of answer.pending_commands as { id: string }[]) {
        received.push(command.id);
      }
    }
  }
  assertEquals(new Set(received).size, received.length, "a command was delivered twice");
  assertEquals(new Set(received), ids);
});

Deno.test("multi-instance: with the bus down, heartbeat polling still delivers", async () => {
  await using cluster = await twoInstances();
  const { a, b, hub } = cluster;
  hub.up = false;
  const ready = await fetch(`${b.baseUrl}/readyz`);
  assertEquals(ready.status, 503);
  assertEquals((await ready.json()).bus, false);
  const client = await workerOn(b.baseUrl, b.plane.adminToken);
  const created = await adminPost(a.baseUrl, a.plane.adminToken, "/api/workers/commands", {
    worker_id: client.workerId,
    command_type: "ping",
  });
  const answer = await client.heartbeat();
  assertEquals(
    (answer.pending_commands as { id: string }[]).map((c) => c.id),
    [created.body.command_id],
  );
  hub.up = true;
  assertEquals((await fetch(`${b.baseUrl}/readyz`)).status, 200);
});

Deno.test("multi-instance: one sweeper leader; when it stops the other takes over", async () => {
  await using cluster = await twoInstances();
  const { a, b, engines } = cluster;
  assert(await a.plane.cp.sweepAsLeader());
  assertEquals(await b.plane.cp.sweepAsLeader(), false);
  assertEquals(await b.plane.cp.sweepAsLeader(), false);
  // The leader's process goes away: its pool (and the lock's connection) closes.
  await engines[0]!.close();
  assert(await b.plane.cp.sweepAsLeader(), "B leads on its next sweep");
});
