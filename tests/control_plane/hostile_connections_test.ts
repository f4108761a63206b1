/**
 * What a client without a key can do to a real control plane process over raw sockets:
 * hold idle half-header connections at the file-descriptor limit, and start many slow
 * uploads. Each must cost the server little, and it must go on serving.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Paths } from "../../src/protocol/mod.ts";
import { startControlPlane } from "../_helpers/control_plane_process.ts";
import { waitFor } from "../_helpers/wait_for.ts";

const encoder = new TextEncoder();

/** Resident memory of process `pid` in bytes (Linux). */
async function rssOf(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) * 1024;
}

/** Whether the peer closed `conn` within `timeoutMs` (reading whatever it sent first). */
async function closedBy(conn: Deno.Conn, timeoutMs: number): Promise<boolean> {
  const buffer = new Uint8Array(4096);
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) return true;
    }
  } catch {
    return false; // closed by the timer here
  } finally {
    clearTimeout(timer);
  }
}

Deno.test({
  name: "1,100 idle half-header connections under ulimit -n 1024 neither end nor stall the server",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using cp = await startControlPlane({
      openFileLimit: 1024,
      args: ["--header-timeout", "2", "--max-connections-per-address", "0"],
    });
    const conns: Deno.TcpConn[] = [];
    try {
      for (let i = 0; i < 1100; i++) {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: cp.port });
        conns.push(conn);
        await conn.write(encoder.encode("GET /api/workers HTTP/1.1\r\nHost: x\r\n")).catch(() => 0);
      }
      // Saturated: a new client is answered at once (503, Retry-After), not left hanging.
      const busy = await cp.admin("/api/workers");
      const body = await busy.json();
      assert([200, 503].includes(busy.status), `${busy.status} ${JSON.stringify(body)}`);
      if (busy.status === 503) assertEquals(busy.headers.get("retry-after"), "5");
      // The half headers time out; then everyone is served again.
      const closed = await Promise.all(conns.map((c) => closedBy(c, 8000)));
      assertEquals(closed.filter((c) => !c).length, 0, "every idle connection was closed");
      const res = await waitFor(async () => {
        const r = await cp.admin("/api/workers");
        if (r.status === 200) return r;
        await r.body?.cancel();
        return undefined;
      }, { timeoutMs: 10_000, message: "the server serves again" });
      assertEquals((await res.json()).workers, []);
      const out = cp.output();
      assert(!/Too many open files|Uncaught/i.test(out), out.slice(-2000));
      const refusals = out.split("\n").filter((l) => l.includes("connection limit reached"));
      assertEquals(refusals.length, 1, "the refusals are logged once, not once per connection");
    } finally {
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed already */ }
      }
    }
  },
});

Deno.test({
  name: "400 slow unauthenticated register uploads add little memory and are cut off",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using cp = await startControlPlane();
    await (await cp.admin("/api/workers")).body?.cancel();
    const before = await rssOf(cp.pid);
    const header = encoder.encode(
      `POST ${Paths.register} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${1024 * 1024}\r\n\r\n{"hostname":"`,
    );
    const chunk = encoder.encode("a".repeat(16 * 1024));
    const conns: Deno.TcpConn[] = [];
    const writers: Promise<number>[] = [];
    try {
      for (let i = 0; i < 400; i++) {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: cp.port });
        conns.push(conn);
        // Up to 1 MiB less a byte, as fast as the server takes it; never finished.
        writers.push((async () => {
          let sent = 0;
          try {
            await conn.write(header);
            while (sent + chunk.length < 1024 * 1024 - header.length) {
              sent += await conn.write(chunk);
            }
          } catch { /* cut off by the server */ }
          return sent;
        })());
      }
      // Everything the server was willing to read has arrived once the writers stall or end.
      let last = -1;
      const peak = await waitFor(async () => {
        const rss = await rssOf(cp.pid);
        const stable = Math.abs(rss - last) < 2 * 1024 * 1024;
        last = rss;
        return stable ? rss : undefined;
      }, { timeoutMs: 20_000, intervalMs: 500, message: "memory to settle" });
      const grown = peak - before;
      assert(
        grown < 100 * 1024 * 1024,
        `RSS grew ${(grown / 1024 / 1024).toFixed(0)} MiB (before the fix: about 440 MiB)`,
      );
      const answered = await Promise.all(conns.map((c) => closedBy(c, 3000)));
      assert(answered.every((c) => c), "every upload was answered (413) and closed");
      const res = await cp.admin("/api/workers");
      assertEquals(res.status, 200);
      await res.body?.cancel();
    } finally {
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed already */ }
      }
      await Promise.all(writers);
    }
  },
});
