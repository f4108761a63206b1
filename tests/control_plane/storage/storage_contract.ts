/**
 * The storage contract: what every adapter must do, written once and run against each
 * (`sqlite_contract_test.ts`, `postgres_contract_test.ts`).
 */
import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { InvalidInputError, NotFoundError } from "../../../src/control_plane/storage/errors.ts";
import type { Storage, StorageEngine } from "../../../src/control_plane/storage/repositories.ts";
import { MAX_METADATA_BYTES } from "../../../src/control_plane/storage/records.ts";
import { registerBody, sample } from "../_fixtures.ts";

/** A clock the contract moves by hand. */
export class Clock {
  time = 1_764_000_000_000;
  now = (): number => this.time;
}

/** What a contract case gets: repositories over a database emptied for it, and the clock. */
export interface ContractContext {
  engine: StorageEngine;
  storage: Storage;
  clock: Clock;
  /** Opens another set of repositories over the same database (a second instance). */
  another(): Storage;
}

const TIMING = { deliveryWindowMs: 600_000, resultGraceMs: 60_000 };

let counter = 0;
function ids() {
  const n = () => `${++counter}`.padStart(6, "0");
  return {
    key: () => `key_${crypto.randomUUID().slice(0, 8)}${n()}`,
    worker: () => `wkr_${crypto.randomUUID().slice(0, 8)}${n()}`,
    command: () => crypto.randomUUID(),
  };
}

/** Repositories over `engine` with `clock`. */
export function openOn(engine: StorageEngine, clock: Clock): Storage {
  return engine.open({ now: clock.now, ids: ids(), timing: TIMING });
}

async function worker(storage: Storage, hostname = "host-a") {
  const { record, key } = await storage.keys.create("k", ["worker"]);
  const view = await storage.workers.register(record.id, registerBody({ hostname }) as never);
  return { key, keyId: record.id, workerId: view.worker_id };
}

type Case = [string, (ctx: ContractContext) => Promise<void>];

/** Every case of the contract. */
export const CONTRACT: Case[] = [
  ["keys: create, authenticate, list, revoke", async ({ storage }) => {
    const { record, key } = await storage.keys.create("laptop", ["worker", "read"]);
    assertEquals(record.scopes, ["worker", "read"]);
    assert(!key.includes(record.prefix) || key.startsWith(record.prefix));
    const found = await storage.keys.authenticate(key);
    assertEquals(found?.id, record.id);
    assertEquals(found?.signingKey, record.signingKey);
    // A different last character (a key ending in "x" made this pass 1 run in 62 otherwise).
    const tampered = `${key.slice(0, -1)}${key.endsWith("x") ? "y" : "x"}`;
    assertEquals(await storage.keys.authenticate(tampered), undefined);
    const listed = await storage.keys.list();
    assertEquals(listed.map((k) => [k.id, k.worker_id, k.active]), [[record.id, null, true]]);
    await storage.keys.revoke(record.id);
    assertEquals(await storage.keys.authenticate(key), undefined);
    assertEquals((await storage.keys.get(record.id))?.active, false);
    await rejects(storage.keys.revoke("key_nope"), NotFoundError);
  }],
  ["keys: last use is noted at most once a minute", async ({ storage, clock }) => {
    const { record, key } = await storage.keys.create("k");
    await storage.keys.authenticate(key);
    assertEquals((await storage.keys.get(record.id))?.lastUsedAt, clock.time);
    const first = clock.time;
    clock.time += 30_000;
    await storage.keys.authenticate(key);
    assertEquals((await storage.keys.get(record.id))?.lastUsedAt, first);
    clock.time += 30_000;
    await storage.keys.authenticate(key);
    assertEquals((await storage.keys.get(record.id))?.lastUsedAt, clock.time);
  }],
  ["workers: register is idempotent per key and records the holder", async ({ storage, clock }) => {
    const { keyId, workerId } = await worker(storage);
    clock.time += 1000;
    const again = await storage.workers.register(
      keyId,
      registerBody({ hostname: "renamed", instance_id: "other-instance-01" }) as never,
    );
    assertEquals(again.worker_id, workerId);
    assertEquals(again.hostname, "renamed");
    assertEquals(again.last_registered_at, clock.time);
    assertEquals(again.legacy, false);
    const holder = await storage.workers.holderOf(keyId);
    assertEquals(holder?.instance_id, "other-instance-01");
    assertEquals((await storage.workers.byKey(keyId))?.worker_id, workerId);
    const legacy = await storage.workers.register(
      keyId,
      registerBody({ instance_id: undefined }) as never,
    );
    assertEquals(legacy.legacy, true);
    assertEquals((await storage.keys.list())[0]?.worker_id, workerId);
  }],
  ["workers: heartbeat merges metadata, caps it, keeps the last metrics", async ({ storage }) => {
    const { workerId } = await worker(storage);
    const view = await storage.workers.heartbeat(workerId, {
      status: "draining",
      current_load: 1,
      metrics: { cpu_percent: 50 },
      metadata: { extra: "x" },
    } as never);
    assertEquals(view?.status, "draining");
    assertEquals(view?.current_load, 1);
    assertEquals(view?.metadata, { arch: "x86_64", cpu_count: 4, extra: "x" });
    assertEquals(view?.metrics, { cpu_percent: 50 });
    const plain = await storage.workers.heartbeat(workerId, {} as never);
    assertEquals(plain?.status, "online");
    assertEquals(plain?.current_load, 1);
    assertEquals(plain?.metrics, { cpu_percent: 50 });
    await rejects(
      storage.workers.heartbeat(workerId, {
        metadata: { big: "x".repeat(MAX_METADATA_BYTES) },
      } as never),
      (e: unknown) => e instanceof InvalidInputError && e.field === "metadata",
    );
    assertEquals(await storage.workers.heartbeat("wkr_gone", {} as never), undefined);
  }],
  ["workers: stale ones go offline; delete takes commands and samples along", async (ctx) => {
    const { storage, clock } = ctx;
    const a = await worker(storage, "a");
    clock.time += 100_000;
    const b = await worker(storage, "b");
    assertEquals(await storage.workers.markStaleOffline(clock.time - 50_000), [a.workerId]);
    assertEquals((await storage.workers.get(a.workerId))?.is_online, false);
    assertEquals(await storage.workers.markStaleOffline(clock.time - 50_000), []);
    await storage.commands.create({
      workerId: b.workerId,
      commandType: "ping",
      params: {},
      timeoutSeconds: 10,
    });
    await storage.samples.insert(b.workerId, [sample("s", 1)]);
    await storage.workers.noteMetricsPost(b.workerId);
    assertEquals((await storage.workers.get(b.workerId))?.metrics_posted_at, clock.time);
    await storage.workers.delete(b.workerId);
    assertEquals(await storage.workers.get(b.workerId), undefined);
    assertEquals(await storage.commands.list({ workerId: b.workerId, limit: 10 }), []);
    assertEquals((await storage.samples.usage(b.workerId)).rows, 0);
    await rejects(storage.workers.delete(b.workerId), NotFoundError);
  }],
  ["commands: claim, re-send after the ack timeout, ack, complete", async ({ storage, clock }) => {
    const { workerId } = await worker(storage);
    const first = await storage.commands.create({
      workerId,
      commandType: "ping",
      params: { n: 1 },
      timeoutSeconds: 10,
    });
    clock.time += 1;
    const second = await storage.commands.create({
      workerId,
      commandType: "ping",
      params: { n: 2 },
      timeoutSeconds: 10,
    });
    assertEquals(first.status, "pending");
    assertEquals(await storage.commands.workersWithDeliverable(30_000), [workerId]);
    const claimed = await storage.commands.claimDeliverable(workerId, 30_000, 10);
    assertEquals(claimed.map((c) => [c.command_id, c.status, c.delivery_count]), [
      [first.command_id, "delivered", 1],
      [second.command_id, "delivered", 1],
    ]);
    assertEquals(claimed[0]?.deadline_at, clock.time + 10_000 + 60_000);
    assertEquals(await storage.commands.claimDeliverable(workerId, 30_000, 10), []);
    assertEquals(await storage.commands.workersWithDeliverable(30_000), []);
    assert(await storage.commands.ack(workerId, first.command_id));
    assert(!(await storage.commands.ack(workerId, first.command_id)));
    assert(!(await storage.commands.ack("wkr_other", second.command_id)));
    clock.time += 30_000;
    const again = await storage.commands.claimDeliverable(workerId, 30_000, 10);
    assertEquals(again.map((c) => [c.command_id, c.delivery_count]), [[second.command_id, 2]]);
    assertEquals(
      await storage.commands.complete(first.command_id, {
        command_id: first.command_id,
        status: "completed",
        output: "pong",
      } as never),
      "stored",
    );
    assertEquals(
      await storage.commands.complete(first.command_id, { status: "failed" } as never),
      "already",
    );
    const done = await storage.commands.get(first.command_id);
    assertEquals(done?.status, "completed");
    assertEquals(done?.result, { status: "completed", output: "pong" });
  }],
  ["commands: list filters and the timeout sweep", async ({ storage, clock }) => {
    const { workerId } = await worker(storage);
    const other = await worker(storage, "b");
    const a = await storage.commands.create({
      workerId,
      commandType: "ping",
      params: {},
      timeoutSeconds: 5,
    });
    clock.time += 1;
    const b = await storage.commands.create({
      workerId: other.workerId,
      commandType: "restart_agent",
      params: {},
      timeoutSeconds: 5,
    });
    assertEquals((await storage.commands.list({ limit: 10 })).map((c) => c.command_id), [
      b.command_id,
      a.command_id,
    ]);
    assertEquals(
      (await storage.commands.list({ workerId, limit: 10 })).map((c) => c.command_id),
      [a.command_id],
    );
    assertEquals(
      (await storage.commands.list({ commandType: "restart_agent", limit: 10 })).length,
      1,
    );
    assertEquals((await storage.commands.list({ status: "acked", limit: 10 })).length, 0);
    assertEquals((await storage.commands.list({ limit: 1 })).length, 1);
    await storage.commands.claimDeliverable(workerId, 30_000, 10);
    clock.time += 5_000 + 60_000 + 1;
    assertEquals(await storage.commands.sweepTimeouts(), [a.command_id]);
    const timedOut = await storage.commands.get(a.command_id);
    assertEquals(timedOut?.status, "timeout");
    assertEquals(timedOut?.result?.error_code, "deadline_exceeded");
    clock.time += 600_000;
    assertEquals(await storage.commands.sweepTimeouts(), [b.command_id]);
  }],
  ["commands: concurrent claims (two instances) never hand out one command twice", async (ctx) => {
    const { storage } = ctx;
    const other = ctx.another();
    const { workerId } = await worker(storage);
    const created = new Set<string>();
    for (let i = 0; i < 40; i++) {
      created.add(
        (await storage.commands.create({
          workerId,
          commandType: "ping",
          params: { i },
          timeoutSeconds: 10,
        })).command_id,
      );
    }
    const batches = await Promise.all(
      Array.from(
        { length: 16 },
        (_, i) => (i % 2 ? other : storage).commands.claimDeliverable(workerId, 30_000, 3),
      ),
    );
    const claimed = batches.flat().map((c) => c.command_id);
    assertEquals(new Set(claimed).size, claimed.length, "a command was claimed twice");
    for (const id of claimed) assert(created.has(id));
    const rest = await storage.commands.claimDeliverable(workerId, 30_000, 100);
    assertEquals(claimed.length + rest.length, 40);
    for (const c of [...batches.flat(), ...rest]) assertEquals(c.delivery_count, 1);
  }],
  ["samples: insert, duplicates, list, append, scan, usage, prune", async ({ storage, clock }) => {
    const { workerId } = await worker(storage);
    const other = await worker(storage, "b");
    const first = await storage.samples.insert(workerId, [sample("s", 1), sample("s", 2)]);
    assertEquals([first.accepted, first.duplicates], [2, 0]);
    assertEquals(first.bytes, JSON.stringify(sample("s", 1)).length * 2);
    const again = await storage.samples.insert(workerId, [sample("s", 2), sample("s", 3)]);
    assertEquals([again.accepted, again.duplicates], [1, 1]);
    assertEquals(await storage.samples.insert(workerId, []), {
      accepted: 0,
      duplicates: 0,
      bytes: 0,
    });
    const listed = (await storage.samples.list(workerId, { limit: 2 })).map((t) => JSON.parse(t));
    assertEquals(listed.map((s) => s.seq), [2, 3]);
    const appended = await storage.samples.appendToStream(workerId, "heartbeat", 5, { a: 1 });
    assertEquals(appended, { a: 1, stream: "heartbeat", seq: 1, ts: 5 });
    const next = await storage.samples.appendToStream(workerId, "heartbeat", 6, { a: 2 });
    assertEquals(next.seq, 2);
    const scanned: number[] = [];
    for await (const batch of storage.samples.scan(workerId, 0, Number.MAX_SAFE_INTEGER)) {
      for (const row of batch) {
        scanned.push(row.ts);
        assert(typeof JSON.parse(row.sample).stream === "string");
      }
    }
    assertEquals(scanned.length, 5);
    const usage = await storage.samples.usage(workerId);
    assertEquals(usage.rows, 5);
    clock.time += 10_000;
    await storage.samples.insert(other.workerId, [sample("s", 1)]);
    const freed = await storage.samples.prune(clock.time);
    assertEquals([...freed.keys()], [workerId]);
    assertEquals(freed.get(workerId), usage);
    assertEquals((await storage.samples.usage(workerId)).rows, 0);
    assertEquals((await storage.samples.usage(other.workerId)).rows, 1);
  }],
  ["samples: a scan longer than one batch returns every sample once", async ({ storage }) => {
    const { workerId } = await worker(storage);
    const total = 4_500;
    for (let start = 1; start <= total; start += 500) {
      const batch = Array.from({ length: 500 }, (_, i) => sample(i % 2 ? "a" : "b", start + i, 7));
      assertEquals((await storage.samples.insert(workerId, batch)).accepted, 500);
    }
    const seen = new Set<string>();
    let batches = 0;
    for await (const batch of storage.samples.scan(workerId, 0, 8)) {
      batches++;
      for (const row of batch) {
        const parsed = JSON.parse(row.sample);
        seen.add(`${parsed.stream}:${parsed.seq}`);
      }
    }
    assertEquals(seen.size, total);
    assert(batches > 1, "more than one batch");
    let none = 0;
    for await (const batch of storage.samples.scan(workerId, 8, 100)) none += batch.length;
    assertEquals(none, 0);
  }],
  ["fleet: search, sort, pages, summary, key of a worker", async ({ storage, clock }) => {
    const made: string[] = [];
    for (const [i, host] of ["Bravo", "alpha", "charlie", "delta_1"].entries()) {
      clock.time += 1000;
      const w = await worker(storage, host);
      made.push(w.workerId);
      await storage.workers.heartbeat(w.workerId, {
        metrics: { cpu_percent: 10 * (i + 1), trading_status: i % 2 ? "running" : "stopped" },
      } as never);
    }
    const byHost = await storage.fleet.page({
      sort: { key: "hostname", descending: false },
      limit: 3,
    });
    assertEquals(byHost.rows.map((r) => r.hostname), ["alpha", "Bravo", "charlie"]);
    assertEquals(byHost.total, 4);
    assert(byHost.nextCursor);
    const rest = await storage.fleet.page({
      sort: { key: "hostname", descending: false },
      cursor: byHost.nextCursor,
      limit: 3,
    });
    assertEquals(rest.rows.map((r) => r.hostname), ["delta_1"]);
    assertEquals(rest.nextCursor, null);
    const byCpu = await storage.fleet.page({ sort: { key: "cpu", descending: true }, limit: 2 });
    assertEquals(byCpu.rows.map((r) => r.cpu_percent), [40, 30]);
    const cpuRest = await storage.fleet.page({
      sort: { key: "cpu", descending: true },
      cursor: byCpu.nextCursor!,
      limit: 2,
    });
    assertEquals(cpuRest.rows.map((r) => r.cpu_percent), [20, 10]);
    const lastSeen = await storage.fleet.page({ limit: 10 });
    assertEquals(lastSeen.rows[0]?.worker_id, made[3]);
    assertEquals((await storage.fleet.page({ q: "ALPHA", limit: 10 })).total, 1);
    assertEquals((await storage.fleet.page({ q: "_", limit: 10 })).rows[0]?.hostname, "delta_1");
    assertEquals((await storage.fleet.page({ q: "%", limit: 10 })).total, 0);
    assertEquals((await storage.fleet.page({ trading: "running", limit: 10 })).total, 2);
    assertEquals(await storage.fleet.summary(), {
      total: 4,
      online: 4,
      offline: 0,
      error: 0,
      trading: 2,
    });
    const key = await storage.fleet.keyOf(made[0]!);
    assertEquals(key?.active, true);
    assertEquals(await storage.fleet.keyOf("wkr_none"), null);
  }],
  ["leadership: one leader at a time; a released lead is taken over", async (ctx) => {
    const a = ctx.storage;
    const b = ctx.another();
    const first = await a.leadership.tryLead();
    assert(first);
    assert(await a.leadership.tryLead(), "a leader stays leader");
    if (ctx.engine.engine === "sqlite") {
      assert(await b.leadership.tryLead(), "SQLite: every instance leads (one process)");
      return;
    }
    assertEquals(await b.leadership.tryLead(), false);
    await a.leadership.release();
    assert(await b.leadership.tryLead());
    assertEquals(await a.leadership.tryLead(), false);
    await b.leadership.release();
  }],
  ["ping answers while the database is up", async ({ storage }) => {
    await storage.ping();
  }],
];
