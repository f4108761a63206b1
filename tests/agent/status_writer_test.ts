import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { StatusWriter } from "../../src/agent/status_writer.ts";
import type { AgentStatus } from "../../src/state/agent_status.ts";

function statusWith(fields: Partial<AgentStatus>): AgentStatus {
  return {
    version: "0.1.0",
    pid: 1,
    state: "connected",
    worker_id: "wkr_1",
    base_url: "http://127.0.0.1:1",
    started_at: 0,
    updated_at: 0,
    last_heartbeat_at: 1000,
    websocket: "open",
    spool_depth: 0,
    dropped_samples: 0,
    pending_results: 0,
    trading_status: "stopped",
    last_error: null,
    next_retry_at: null,
    ...fields,
  };
}

/** A writer over a fake dir and fake timers. */
function harness() {
  const written: { status: AgentStatus; durable: boolean | undefined }[] = [];
  let current = statusWith({});
  let scheduled: { fn: () => void; ms: number } | undefined;
  const writer = new StatusWriter({
    dir: {
      writeJson: (_name, value, options) => {
        written.push({ status: value as AgentStatus, durable: options?.durable });
        return Promise.resolve();
      },
    },
    build: () => current,
    setTimer: (fn, ms) => {
      scheduled = { fn, ms };
      return 1;
    },
    clearTimer: () => scheduled = undefined,
  });
  return {
    writer,
    written,
    set(fields: Partial<AgentStatus>) {
      current = statusWith(fields);
    },
    get scheduledMs() {
      return scheduled?.ms;
    },
    /** The scheduled write comes due; resolves once it is done. */
    async due() {
      const s = scheduled;
      scheduled = undefined;
      s?.fn();
      await writer.settled();
    },
  };
}

Deno.test("StatusWriter: a change undone before the write is due writes nothing", async () => {
  const h = harness();
  h.writer.update();
  assertEquals(h.scheduledMs, 1000);
  await h.due();
  assertEquals(h.written.length, 1, "the first status is written");
  // A sample is queued (depth 1) and sent (depth 0) before the write is due.
  h.set({ spool_depth: 1 });
  h.writer.update();
  h.writer.update(); // joins the scheduled write
  h.set({ spool_depth: 0, updated_at: 5 });
  await h.due();
  assertEquals(h.written.length, 1, "only updated_at differs: no write");
});

Deno.test("StatusWriter writes a visible change once, without fsync; flush always writes", async () => {
  const h = harness();
  h.writer.update();
  await h.due();
  h.set({ last_heartbeat_at: 2000 });
  h.writer.update();
  h.set({ last_heartbeat_at: 3000 });
  h.writer.update();
  await h.due();
  assertEquals(h.written.map((w) => w.status.last_heartbeat_at), [1000, 3000]);
  assertEquals(h.written.every((w) => w.durable === false), true);
  h.writer.update();
  await h.writer.flush(); // cancels the scheduled write and writes at once
  assertEquals(h.scheduledMs, undefined);
  assertEquals(h.written.length, 3);
});
