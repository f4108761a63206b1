import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { FORCE_AFTER_MS, stopSignals } from "../../src/agent/stop_signals.ts";

function fakeSignals() {
  const listeners = new Map<string, () => void>();
  return {
    add: (name: Deno.Signal, listener: () => void) => listeners.set(name, listener),
    remove: (name: Deno.Signal) => listeners.delete(name),
    send: (name: string) => listeners.get(name)?.(),
    listeners,
  };
}

Deno.test("stopSignals() takes a second signal within 1 s as the same stop, and a later one as force", async () => {
  const os = fakeSignals();
  let now = 0;
  const early: string[] = [];
  const stop = stopSignals({
    os: "linux",
    now: () => now,
    addSignalListener: os.add,
    removeSignalListener: os.remove,
    onEarlySecond: (reason) => early.push(reason),
  });
  // One Ctrl-C under `deno task`: the terminal's SIGINT and the one deno task forwards.
  os.send("SIGINT");
  now += 5;
  os.send("SIGINT");
  assertEquals(await stop.drainRequested, "SIGINT");
  assert(!stop.forceSignal.aborted, "a doubled Ctrl-C is not a force");
  assertEquals(early, ["SIGINT"]);
  now += FORCE_AFTER_MS;
  os.send("SIGTERM");
  assert(stop.forceSignal.aborted, "a second signal 1 s later forces");
  stop.dispose();
  assertEquals(os.listeners.size, 0);
});

Deno.test("stopSignals() never forces on internal requests, and an outside signal after one forces", async () => {
  const os = fakeSignals();
  const stop = stopSignals({
    os: "linux",
    now: () => 0,
    addSignalListener: os.add,
    removeSignalListener: os.remove,
  });
  stop.requestDrain("restart_agent");
  stop.requestDrain("internal");
  assertEquals(await stop.drainRequested, "restart_agent");
  assert(!stop.forceSignal.aborted);
  os.send("SIGTERM");
  assert(stop.forceSignal.aborted);
  stop.dispose();
});
