import { deepStrictEqual as assertEquals, ok as assert, rejects, throws } from "node:assert/strict";
import type { CommandHandler, HandlerOutcome } from "../../src/executor/command_handler.ts";
import { Executor } from "../../src/executor/executor.ts";
import { MAX_RESULT_DATA_BYTES, MAX_RESULT_TEXT } from "../../src/executor/redact_and_truncate.ts";
import { createLogger } from "../../src/log/logger.ts";
import { CommandResultSchema, generateApiKey } from "../../src/protocol/mod.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { commandOf, gate } from "./_command.ts";

const logger = createLogger({ level: "error", write: () => {} });
const done: HandlerOutcome = { status: "completed", output: "ok" };

Deno.test("Executor.submit() resolves with a complete result stamped by the injected clock", async () => {
  let clock = 1_764_000_000_123;
  const executor = new Executor({
    handlers: {
      ping: () => {
        clock += 250;
        return Promise.resolve({ status: "completed", output: "pong", data: { n: 1 } });
      },
    },
    maxConcurrency: 1,
    logger,
    now: () => clock,
  });
  const command = commandOf("ping");
  const result = await executor.submit(command);
  assertEquals(result, {
    command_id: command.id,
    status: "completed",
    output: "pong",
    data: { n: 1 },
    started_at: 1_764_000_000_123,
    finished_at: 1_764_000_000_373,
    timestamp: 1_764_000_000,
  });
  assert(CommandResultSchema.safeParse(result).success);
});

Deno.test("Executor runs at most maxConcurrency commands and queues the rest in order", async () => {
  const gates = new Map<string, ReturnType<typeof gate<HandlerOutcome>>>();
  const startOrder: string[] = [];
  let active = 0;
  let peak = 0;
  const slow: CommandHandler = async (command) => {
    startOrder.push(command.id);
    active++;
    peak = Math.max(peak, active);
    const g = gate<HandlerOutcome>();
    gates.set(command.id, g);
    const outcome = await g.promise;
    active--;
    return outcome;
  };
  const executor = new Executor({ handlers: { ping: slow }, maxConcurrency: 2, logger });
  const commands = Array.from({ length: 5 }, () => commandOf("ping"));
  const results = commands.map((c) => executor.submit(c));
  await waitFor(() => gates.size === 2);
  assertEquals([executor.running, executor.queued], [2, 3]);

  gates.get(commands[0]!.id)!.open(done);
  await waitFor(() => gates.size === 3);
  assertEquals([executor.running, executor.queued], [2, 2]);

  executor.setMaxConcurrency(3);
  await waitFor(() => gates.size === 4);
  assertEquals([executor.running, executor.queued], [3, 1]);
  for (const c of commands.slice(1, 4)) gates.get(c.id)!.open(done);
  await waitFor(() => gates.size === 5);
  gates.get(commands[4]!.id)!.open(done);

  const settled = await Promise.all(results);
  assertEquals(settled.map((r) => r.status), Array(5).fill("completed"));
  assertEquals(startOrder, commands.map((c) => c.id));
  assertEquals(peak, 3);
  assertEquals([executor.running, executor.queued], [0, 0]);
});

Deno.test("Executor.setMaxConcurrency() refuses anything but a whole number of at least 1", async (t) => {
  const executor = new Executor({ handlers: {}, maxConcurrency: 1, logger });
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    await t.step(`${bad}`, () => {
      let error: unknown;
      try {
        executor.setMaxConcurrency(bad);
      } catch (e) {
        error = e;
      }
      assert(error instanceof RangeError);
    });
  }
});

Deno.test("Executor reports timeout and aborts the handler's signal when timeout_seconds pass", async () => {
  let sawAbort = false;
  const executor = new Executor({
    handlers: {
      collect_diagnostics: (_command, { signal }) =>
        new Promise((resolve) => {
          signal.addEventListener("abort", () => {
            sawAbort = true;
            resolve(done);
          });
        }),
    },
    maxConcurrency: 1,
    logger,
  });
  const result = await executor.submit(
    commandOf("collect_diagnostics", {}, { timeout_seconds: 1 }),
  );
  assertEquals(result.status, "timeout");
  assertEquals(result.error_code, "timeout");
  assert(sawAbort);
  assert(result.finished_at! - result.started_at! >= 950);
});

Deno.test("Executor turns a throwing handler into failed/handler_error without leaking secrets", async () => {
  const key = generateApiKey();
  const executor = new Executor({
    handlers: { ping: () => Promise.reject(new Error(`boom with ${key}`)) },
    maxConcurrency: 1,
    logger,
  });
  const result = await executor.submit(commandOf("ping"));
  assertEquals(result.status, "failed");
  assertEquals(result.error_code, "handler_error");
  assert(result.error?.includes("boom"));
  assert(!JSON.stringify(result).includes(key.slice(8)));
});

Deno.test("Executor refuses commands it cannot run, without calling a handler", async (t) => {
  let called = 0;
  const count: CommandHandler = () => {
    called++;
    return Promise.resolve(done);
  };
  const executor = new Executor({
    handlers: { ping: count, stop_trading: count },
    maxConcurrency: 1,
    logger,
  });
  await t.step("a known type without a handler", async () => {
    const result = await executor.submit(commandOf("restart_agent"));
    assertEquals([result.status, result.error_code], ["failed", "unknown_command"]);
  });
  // The executor takes only a VerifiedCommand, which only verifyCommand makes (its refusals of
  // these, unknown_command and invalid_params, are tested in verify_command_test.ts). An
  // unknown type or params that do not parse cannot even be written down: each line below
  // must fail to compile (`deno test` type-checks this file), and the schema refuses it too.
  await t.step("an unknown command type", () => {
    // @ts-expect-error: not a command type of protocol 4
    throws(() => commandOf("format_disk", {}));
  });
  await t.step("params of the wrong type", () => {
    // @ts-expect-error: force is a boolean
    throws(() => commandOf("stop_trading", { force: "yes" }));
  });
  await t.step("extra params", () => {
    // @ts-expect-error: ping takes no params
    throws(() => commandOf("ping", { loud: true }));
  });
  assertEquals(called, 0);
});

Deno.test("Executor keeps results small, plain and redacted", async (t) => {
  const key = generateApiKey();
  const submitWith = (outcome: HandlerOutcome) =>
    new Executor({
      handlers: { ping: () => Promise.resolve(outcome) },
      maxConcurrency: 1,
      logger,
    }).submit(commandOf("ping"));
  await t.step("long output is cut", async () => {
    const result = await submitWith({ status: "completed", output: "x".repeat(100_000) });
    assert(result.output!.length <= MAX_RESULT_TEXT);
    assert(result.output!.includes("more characters cut"));
  });
  await t.step("oversized data is replaced by its size", async () => {
    const result = await submitWith({
      status: "completed",
      data: { blob: "y".repeat(MAX_RESULT_DATA_BYTES) },
    });
    assertEquals(result.data?.truncated, true);
    assert((result.data?.original_bytes as number) > MAX_RESULT_DATA_BYTES);
  });
  await t.step("a key anywhere in output or data is redacted", async () => {
    const result = await submitWith({
      status: "completed",
      output: `key ${key}`,
      data: { nested: [{ note: `Bearer ${key}` }], api_key: key },
    });
    assert(!JSON.stringify(result).includes(key.slice(8)));
  });
  await t.step("an invalid error_code becomes handler_error", async () => {
    const result = await submitWith({ status: "failed", error_code: "Not-Snake" });
    assertEquals(result.error_code, "handler_error");
  });
});

Deno.test("Executor.drain() refuses new commands and waits for running and queued ones", async () => {
  const first = gate<HandlerOutcome>();
  const executor = new Executor({
    handlers: { ping: () => first.promise },
    maxConcurrency: 1,
    logger,
  });
  const running = executor.submit(commandOf("ping"));
  const queued = executor.submit(commandOf("ping"));
  await waitFor(() => executor.running === 1);
  let drained = false;
  const draining = executor.drain().then(() => drained = true);
  const refused = await executor.submit(commandOf("ping"));
  assertEquals([refused.status, refused.error_code], ["failed", "draining"]);
  assert(!drained);
  first.open(done);
  await draining;
  assertEquals((await running).status, "completed");
  assertEquals((await queued).status, "completed");
});

Deno.test("Executor.drain(signal) aborts running commands and answers queued ones when the signal fires", async () => {
  let handlerSignal: AbortSignal | undefined;
  let calls = 0;
  const executor = new Executor({
    handlers: {
      ping: (_c, { signal }) => {
        calls++;
        handlerSignal = signal;
        return new Promise(() => {}); // never finishes by itself
      },
    },
    maxConcurrency: 1,
    logger,
  });
  const running = executor.submit(commandOf("ping"));
  const queued = executor.submit(commandOf("ping"));
  await waitFor(() => executor.running === 1);
  const force = new AbortController();
  const draining = executor.drain(force.signal);
  force.abort(new Error("second signal"));
  await rejects(draining, /second signal/);
  assert(handlerSignal?.aborted);
  assertEquals((await running).error_code, "aborted");
  assertEquals((await queued).error_code, "aborted");
  assertEquals(calls, 1);
});
