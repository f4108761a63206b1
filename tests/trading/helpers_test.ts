import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { parseActiveTrades } from "../../src/trading/active_trades.ts";
import { parseProcStat, processGroupAlive } from "../../src/trading/process_group.ts";
import { readLines } from "../../src/trading/read_lines.ts";
import { restartDelayMs } from "../../src/trading/restart_backoff.ts";

Deno.test("parseActiveTrades() reads only a whole FTL_ACTIVE_TRADES line", async (t) => {
  const cases: [string, number | undefined][] = [
    ["FTL_ACTIVE_TRADES=3", 3],
    ["  FTL_ACTIVE_TRADES=0  ", 0],
    ["FTL_ACTIVE_TRADES=123456789", 123456789],
    ["FTL_ACTIVE_TRADES=1234567890", undefined],
    ["FTL_ACTIVE_TRADES=-1", undefined],
    ["FTL_ACTIVE_TRADES=2.5", undefined],
    ["FTL_ACTIVE_TRADES=", undefined],
    ["opened trade; FTL_ACTIVE_TRADES=4", undefined],
    ["ftl_active_trades=4", undefined],
  ];
  for (const [line, expected] of cases) {
    await t.step(JSON.stringify(line), () => assertEquals(parseActiveTrades(line), expected));
  }
});

Deno.test("restartDelayMs() doubles from the base up to the cap", async (t) => {
  const cases: [number, number][] = [[1, 1_000], [2, 2_000], [3, 4_000], [7, 60_000], [
    1_000,
    60_000,
  ]];
  for (const [crashes, expected] of cases) {
    await t.step(`crash ${crashes} → ${expected} ms`, () => {
      assertEquals(restartDelayMs(crashes), expected);
    });
  }
  await t.step("custom base and cap", () => {
    assertEquals(restartDelayMs(3, { baseMs: 50, capMs: 150 }), 150);
  });
  await t.step("crash counts below 1 are refused", () => {
    throws(() => restartDelayMs(0), RangeError);
  });
});

Deno.test("readLines() splits chunks on line breaks, whatever the chunk borders", async () => {
  const encoder = new TextEncoder();
  const euro = encoder.encode("€"); // three bytes, split across chunks below
  const chunks = [
    encoder.encode("first\r\nsec"),
    encoder.encode("ond\n"),
    euro.slice(0, 1),
    euro.slice(1),
    encoder.encode("\n\nlast without break"),
  ];
  const lines: string[] = [];
  await readLines(ReadableStream.from(chunks), (line) => lines.push(line));
  assertEquals(lines, ["first", "second", "€", "", "last without break"]);
});

Deno.test("readLines() hands over an overlong line in pieces", async () => {
  const lines: string[] = [];
  await readLines(
    ReadableStream.from([new TextEncoder().encode("a".repeat(25) + "\n")]),
    (line) => lines.push(line),
    { maxLineLength: 10 },
  );
  assertEquals(lines, ["a".repeat(10), "a".repeat(10), "a".repeat(5)]);
});

/** A byte stream (as a child's stdout is) handing out `chunks`, each copied on enqueue. */
function byteStream(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    type: "bytes",
    pull(controller) {
      const chunk = chunks[i++];
      if (chunk === undefined) {
        controller.close();
        // A BYOB read waiting when the stream closes is answered with no bytes.
        controller.byobRequest?.respond(0);
      } else controller.enqueue(chunk.slice());
    },
  });
}

Deno.test("readLines() reads a byte stream through one small buffer, whatever the borders", async () => {
  const encoder = new TextEncoder();
  const chunks = [
    encoder.encode("first\r\nsec"),
    encoder.encode("ond\n€\n"),
    encoder.encode("\nlast without break"),
  ];
  const lines: string[] = [];
  // 3 bytes a read: every line and the three-byte "€" cross read borders.
  await readLines(byteStream(chunks), (line) => lines.push(line), { bufferBytes: 3 });
  assertEquals(lines, ["first", "second", "€", "", "last without break"]);
});

Deno.test("readLines() reads a child's stdout through its BYOB reader", async () => {
  const child = new Deno.Command("/bin/sh", {
    args: ["-c", 'i=0; while [ $i -lt 2000 ]; do i=$((i+1)); echo "line $i"; done'],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const lines: string[] = [];
  await readLines(child.stdout, (line) => lines.push(line), { bufferBytes: 64 });
  await child.status;
  assertEquals(lines.length, 2000);
  assertEquals(lines[0], "line 1");
  assertEquals(lines.at(-1), "line 2000");
  assertEquals(lines.every((line, i) => line === `line ${i + 1}`), true);
});

Deno.test("parseProcStat() finds state and process group even when the name has parentheses", () => {
  const stat = "4242 (my (odd) bot) S 1 4240 4240 0 -1 4194560 100 0 0 0";
  assertEquals(parseProcStat(stat), { pid: 4242, state: "S", ppid: 1, pgrp: 4240 });
  assertEquals(parseProcStat("garbage"), undefined);
});

Deno.test("processGroupAlive() refuses group ids that would reach other processes", async () => {
  for (const bad of [0, 1, -5, 2.5]) {
    let error: unknown;
    try {
      await processGroupAlive(bad);
    } catch (e) {
      error = e;
    }
    assertEquals(error instanceof RangeError, true, `pgid ${bad}`);
  }
});
