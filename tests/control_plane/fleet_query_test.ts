/**
 * The worker list of the admin API for large fleets: `q`, `sort`, `cursor`, `status`,
 * `trading` and the summary counts, called in process.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { FLEET_SORT_KEYS, type FleetRow } from "../../src/control_plane/admin_api.ts";
import { Paths } from "../../src/protocol/mod.ts";
import { seededWorkerId, seedFleetInto } from "../_helpers/simulated_fleet.ts";
import { registerBody, testPlane } from "./_fixtures.ts";

interface Page {
  workers: FleetRow[];
  next_cursor: string | null;
  total: number;
  summary: { total: number; online: number; offline: number; error: number; trading: number };
}

type Plane = ReturnType<typeof testPlane>;

async function list(plane: Plane, query: string): Promise<Page> {
  const res = await plane.admin(`/api/workers?${query}`);
  const body = await res.json();
  assertEquals(res.status, 200, JSON.stringify(body));
  return body;
}

/** Every row of a query, page by page through `next_cursor`. */
async function allPages(plane: Plane, query: string, limit: number): Promise<FleetRow[]> {
  const rows: FleetRow[] = [];
  let cursor: string | null = "";
  for (let pages = 0; cursor !== null; pages++) {
    assert(pages < 1000, "pagination ends");
    const page: Page = await list(
      plane,
      `${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    rows.push(...page.workers);
    cursor = page.next_cursor;
  }
  return rows;
}

/** A value of a row for comparing, as the column shows it. */
function valueOf(row: FleetRow, key: typeof FLEET_SORT_KEYS[number]): string | number {
  switch (key) {
    case "hostname":
      return row.hostname.toLowerCase();
    case "worker_id":
      return row.worker_id;
    case "key_name":
      return (row.key_name ?? "").toLowerCase();
    case "platform":
      return row.platform;
    case "version":
      return row.version;
    case "status":
      return row.status;
    case "last_seen":
      return row.last_heartbeat ?? row.registered_at;
    case "cpu":
      return row.cpu_percent ?? -1;
    case "memory":
      return row.memory_percent ?? -1;
    case "disk":
      return row.disk_percent ?? -1;
    case "trading":
      return row.trading_status ?? "";
  }
}

Deno.test("the worker list sorts by every column, in both directions, across pages", async (t) => {
  using plane = testPlane();
  seedFleetInto(plane.db, { count: 57, now: plane.clock.time });
  for (const key of FLEET_SORT_KEYS) {
    for (const descending of [false, true]) {
      await t.step(`sort=${descending ? "-" : ""}${key}`, async () => {
        const rows = await allPages(plane, `sort=${descending ? "-" : ""}${key}`, 10);
        assertEquals(rows.length, 57, "every worker once");
        assertEquals(new Set(rows.map((r) => r.worker_id)).size, 57, "no worker twice");
        for (let i = 1; i < rows.length; i++) {
          const a = valueOf(rows[i - 1]!, key);
          const b = valueOf(rows[i]!, key);
          assert(descending ? a >= b : a <= b, `${key}: ${a} then ${b} at ${i}`);
        }
      });
    }
  }
});

Deno.test("the worker list searches hostname, worker id and key name, and filters", async (t) => {
  using plane = testPlane();
  seedFleetInto(plane.db, { count: 200, prefix: "rack", now: plane.clock.time });
  await t.step("q matches a hostname", async () => {
    const page = await list(plane, "q=rack-00042");
    assertEquals(page.workers.map((w) => w.hostname), ["rack-00042"]);
    assertEquals(page.total, 1);
  });
  await t.step("q matches a worker id", async () => {
    const page = await list(plane, `q=${seededWorkerId(7).slice(0, 13)}`);
    assertEquals(page.workers.map((w) => w.worker_id), [seededWorkerId(7)]);
  });
  await t.step("q matches a key name, case-insensitively", async () => {
    const page = await list(plane, "q=RACK-KEY-00199");
    assertEquals(page.workers.map((w) => w.key_name), ["rack-key-00199"]);
  });
  await t.step("q treats % and _ as text", async () => {
    assertEquals((await list(plane, "q=%25")).total, 0);
    assertEquals((await list(plane, "q=rack_0")).total, 0);
  });
  await t.step("status and trading filter, and the summary counts the whole fleet", async () => {
    const offline = await list(plane, "status=offline&limit=1000");
    assertEquals(offline.total, 20);
    assert(offline.workers.every((w) => w.status === "offline"));
    const trading = await list(plane, "trading=running&limit=1000");
    assert(trading.workers.every((w) => w.trading_status === "running" && w.is_online));
    assertEquals(offline.summary.total, 200);
    assertEquals(offline.summary.offline, 20);
    assertEquals(offline.summary.trading, trading.total);
    assertEquals(
      offline.summary.online + offline.summary.offline + offline.summary.error,
      200,
      "every worker is online, offline or in error here",
    );
  });
});

Deno.test("a fleet row carries the key, and CPU, memory and disk from the latest heartbeat", async () => {
  using plane = testPlane();
  const { key, keyId, workerId } = await plane.registerWorker();
  await plane.call(Paths.heartbeat(workerId), {
    key,
    json: {
      status: "online",
      metrics: {
        cpu_percent: 42.5,
        memory_used_mb: 4096,
        memory_total_mb: 16384,
        disk_used_gb: 250,
        disk_total_gb: 1000,
        trading_status: "running",
        active_trades: 3,
      },
    },
  });
  await plane.admin(`/api/admin/keys/${keyId}/revoke`, { method: "POST" });
  const [row] = (await list(plane, "")).workers;
  assertEquals(
    [
      row!.cpu_percent,
      row!.memory_percent,
      row!.disk_percent,
      row!.trading_status,
      row!.active_trades,
    ],
    [42.5, 25, 25, "running", 3],
  );
  assertEquals([row!.key_name, row!.key_active, typeof row!.key_revoked_at], [
    "k",
    false,
    "number",
  ]);
  const detail = await (await plane.admin(`/api/workers/${workerId}`)).json();
  assertEquals([detail.key.name, detail.key.active], ["k", false]);
});

Deno.test("the worker list refuses a bad sort or cursor with 400 and names the field", async (t) => {
  using plane = testPlane();
  seedFleetInto(plane.db, { count: 5, now: plane.clock.time });
  const first = await list(plane, "sort=cpu&limit=2");
  const cases: [string, string][] = [
    ["an unknown sort key", "sort=color"],
    ["a cursor that is not one", "cursor=bm90IGEgY3Vyc29y"],
    ["a cursor of another sort", `sort=hostname&cursor=${first.next_cursor}`],
    ["a query over 100 characters", `q=${"x".repeat(101)}`],
  ];
  for (const [name, query] of cases) {
    await t.step(name, async () => {
      const res = await plane.admin(`/api/workers?${query}`);
      const body = await res.json();
      assertEquals(res.status, 400);
      assertEquals(body.code, "invalid_request");
    });
  }
});

Deno.test("the worker list pages through 10,000 workers", async () => {
  using plane = testPlane();
  seedFleetInto(plane.db, { count: 10_000, now: plane.clock.time });
  const first = await list(plane, "sort=-cpu&limit=100");
  assertEquals(first.total, 10_000);
  assertEquals(first.summary.total, 10_000);
  assertEquals(first.workers.length, 100);
  const second = await list(plane, `sort=-cpu&limit=100&cursor=${first.next_cursor}`);
  assert(
    (first.workers.at(-1)!.cpu_percent ?? -1) >= (second.workers[0]!.cpu_percent ?? -1),
    "the next page continues the order",
  );
  const ids = new Set([...first.workers, ...second.workers].map((w) => w.worker_id));
  assertEquals(ids.size, 200);
  const found = await list(plane, "q=fleet-09999");
  assertEquals(found.workers.map((w) => w.hostname), ["fleet-09999"]);
});

Deno.test("without sort the list keeps its old order: last seen first", async () => {
  using plane = testPlane();
  const a = await plane.registerWorker();
  plane.clock.advance(1000);
  const b = await plane.registerWorker();
  await plane.call(Paths.register, { key: b.key, json: registerBody() });
  const page = await list(plane, "");
  assertEquals(page.workers.map((w) => w.worker_id), [b.workerId, a.workerId]);
});
