/** The connection guard's request framer on byte strings, one case per framing rule. */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  type FramerEvent,
  HttpRequestFramer,
} from "../../src/control_plane/_http_request_framer.ts";

function run(framer: HttpRequestFramer, ...chunks: string[]): string[] {
  const out: string[] = [];
  for (const chunk of chunks) {
    for (const event of framer.push(new TextEncoder().encode(chunk))) out.push(describe(event));
  }
  return out;
}

function describe(event: FramerEvent): string {
  switch (event.kind) {
    case "header_end":
      return `header_end${event.hasBody ? " body" : ""}${event.upgrade ? " upgrade" : ""}`;
    case "body":
      return `body ${event.bytes}`;
    case "error":
      return `error ${event.status}`;
    default:
      return event.kind;
  }
}

Deno.test("HttpRequestFramer finds request boundaries", async (t) => {
  const cases: [string, string[], string[]][] = [
    ["a body in the header's chunk counts as body", [
      "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhel",
      "lo",
    ], ["header_start", "header_end body", "body 3", "body 2", "request_end"]],
    ["a header split anywhere, even inside CRLF CRLF", [
      "GET / HTTP/1.1\r\nHost: x\r",
      "\n\r",
      "\n",
    ], [
      "header_start",
      "header_end",
      "request_end",
    ]],
    ["bare LF line ends and leading empty lines", ["\r\n\nGET / HTTP/1.1\nHost: x\n\n"], [
      "header_start",
      "header_end",
      "request_end",
    ]],
    ["a chunked body with an extension and a trailer", [
      "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n4;x=y\r\nabcd\r\n0\r\nT: 1\r\n\r\n",
    ], ["header_start", "header_end body", "body 4", "request_end"]],
    ["two pipelined requests", ["GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"], [
      "header_start",
      "header_end",
      "request_end",
      "header_start",
      "header_end",
      "request_end",
    ]],
    ["conflicting Content-Length", [
      "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    ], [
      "header_start",
      "error 400",
    ]],
    ["a transfer coding that does not end in chunked", [
      "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
    ], ["header_start", "error 400"]],
    ["a malformed chunk size", ["POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"], [
      "header_start",
      "header_end body",
      "error 400",
    ]],
  ];
  for (const [name, chunks, expected] of cases) {
    await t.step(name, () => assertEquals(run(new HttpRequestFramer(), ...chunks), expected));
  }
  await t.step("a header over the limit is a 431", () => {
    const framer = new HttpRequestFramer({ maxHeaderBytes: 64 });
    assertEquals(run(framer, "GET / HTTP/1.1\r\nX: " + "a".repeat(100)), [
      "header_start",
      "error 431",
    ]);
  });
  await t.step("after an upgrade request it pauses, and resume() parses what was held", () => {
    const framer = new HttpRequestFramer();
    assertEquals(
      run(
        framer,
        "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\r\n",
        "GET /n",
      ),
      ["header_start", "header_end upgrade"],
    );
    assertEquals(framer.paused, true);
    assertEquals(framer.resume().map(describe), ["header_start"]);
    assertEquals(run(framer, " HTTP/1.1\r\n\r\n"), ["header_end", "request_end"]);
  });
});
