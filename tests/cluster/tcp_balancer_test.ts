/**
 * scripts/tcp_balancer.ts: round robin across backends, a backend that refuses is skipped,
 * bytes pass unchanged both ways (half-close included), both sides close cleanly.
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
  throws as assertThrows,
} from "node:assert/strict";
import { parseBackend, startTcpBalancer } from "../../scripts/tcp_balancer.ts";
import { freePort, waitFor } from "../_helpers/wait_for.ts";

/** A TCP server that answers each connection with `tag:` and then echoes until EOF. */
function echoServer(tag: string) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const tasks = new Set<Promise<void>>();
  let closedByPeer = 0;
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        const task = (async () => {
          try {
            await conn.write(new TextEncoder().encode(`${tag}:`));
            const buffer = new Uint8Array(65536);
            for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) {
              for (let i = 0; i < n;) i += await conn.write(buffer.subarray(i, n));
            }
            closedByPeer++;
            conn.close();
          } catch { /* reset */ }
        })().finally(() => tasks.delete(task));
        tasks.add(task);
      }
    } catch { /* closed */ }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    get closedByPeer() {
      return closedByPeer;
    },
    async close() {
      listener.close();
      await accepting;
      await Promise.allSettled([...tasks]);
    },
  };
}

/** Connects, sends `bytes`, half-closes, reads everything until EOF. */
async function roundTrip(port: number, bytes: Uint8Array): Promise<Uint8Array> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const reading = new Response(conn.readable).bytes();
  for (let i = 0; i < bytes.length;) i += await conn.write(bytes.subarray(i));
  await conn.closeWrite(); // half-close: the backend sees EOF and ends the echo
  return await reading;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("parseBackend", () => {
  assertEquals(parseBackend("127.0.0.1:8080"), { hostname: "127.0.0.1", port: 8080 });
  assertEquals(parseBackend("[::1]:1"), { hostname: "::1", port: 1 });
  assertThrows(() => parseBackend("127.0.0.1"), RangeError);
  assertThrows(() => parseBackend("h:70000"), RangeError);
});

Deno.test("the balancer alternates backends, skips a dead one, pipes bytes both ways", async () => {
  const a = echoServer("a");
  const b = echoServer("b");
  const dead = freePort();
  await using balancer = startTcpBalancer({
    backends: [
      { hostname: "127.0.0.1", port: a.port },
      { hostname: "127.0.0.1", port: dead },
      { hostname: "127.0.0.1", port: b.port },
    ],
  });
  try {
    const tags: string[] = [];
    for (let i = 0; i < 6; i++) tags.push(text(await roundTrip(balancer.port, new Uint8Array())));
    // Round robin over three, the dead one skipped to the next: a, (dead→b), b, a, (dead→b)…
    assert(tags.every((t) => t === "a:" || t === "b:"), tags.join(" "));
    assert(tags.includes("a:") && tags.includes("b:"), tags.join(" "));
    const stats = balancer.stats();
    assertEquals(stats.unrouted, 0);
    assert(stats.connectFailures[`127.0.0.1:${dead}`]! >= 1);
    assertEquals(stats.perBackend[`127.0.0.1:${dead}`], 0);

    // 4 MiB each way, unchanged.
    const big = crypto.getRandomValues(new Uint8Array(65536));
    const payload = new Uint8Array(4 * 1024 * 1024);
    for (let i = 0; i < payload.length; i += big.length) payload.set(big, i);
    const echoed = await roundTrip(balancer.port, payload);
    assertEquals(echoed.length, payload.length + 2);
    assertEquals(echoed.subarray(2), payload);

    // A client that closes: the backend sees its connection end.
    const before = a.closedByPeer + b.closedByPeer;
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: balancer.port });
    await conn.read(new Uint8Array(8));
    conn.close();
    await waitFor(() => a.closedByPeer + b.closedByPeer > before, { message: "backend closed" });
    await waitFor(() => balancer.stats().open === 0, { message: "no open connections" });
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("the balancer closes a client when no backend answers, and its clients when it closes", async () => {
  const a = echoServer("a");
  const balancer = startTcpBalancer({
    backends: [{ hostname: "127.0.0.1", port: freePort() }, {
      hostname: "127.0.0.1",
      port: a.port,
    }],
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: balancer.port });
  const reading = new Response(conn.readable).bytes();
  await waitFor(() => balancer.stats().perBackend[`127.0.0.1:${a.port}`] === 1);
  await balancer.close(); // closes both sides: the client reads what came, then EOF
  assertEquals(text(await reading), "a:");
  await waitFor(() => a.closedByPeer === 1, { message: "the backend saw the end" });
  await a.close();

  await using none = startTcpBalancer({ backends: [{ hostname: "127.0.0.1", port: freePort() }] });
  const refused = await roundTrip(none.port, new TextEncoder().encode("hello"));
  assertEquals(refused.length, 0);
  assertEquals(none.stats().unrouted, 1);
});
