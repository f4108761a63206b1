/**
 * `deno task fleet-demo` end to end: it starts two instances over a fresh PostgreSQL database
 * and NATS with the balancer in front, its agent comes online through the balancer, both
 * instances see it, losing one instance (SIGKILL of its printed pid) leaves the demo and the
 * agent running through the other, and Ctrl-C (SIGINT) stops everything with exit 0 and drops
 * the database.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import postgres from "postgres";
import { testDatabaseUrl, testNatsUrl } from "../_helpers/test_services.ts";
import { waitFor } from "../_helpers/wait_for.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test({
  name:
    "fleet-demo: two instances, a balancer, an agent online through it; one instance lost, the other serves on; Ctrl-C cleans up",
  sanitizeResources: false,
  async fn() {
    const demo = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "src/demo/fleet_demo.ts"],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      // The servers the tests use (FTL_TEST_*), so the check below looks at the same one.
      env: {
        NO_COLOR: "1",
        FTL_DEMO_DATABASE_URL: testDatabaseUrl(),
        FTL_DEMO_NATS_URL: testNatsUrl(),
      },
    }).spawn();
    let out = "";
    const decoder = new TextDecoder();
    const pumps = Promise.all([demo.stdout, demo.stderr].map(async (stream) => {
      for await (const chunk of stream) out += decoder.decode(chunk, { stream: true });
    }));
    let exited = false;
    const status = demo.status.then((s) => {
      exited = true;
      return s;
    });
    try {
      const banner = await waitFor(() => {
        if (exited) throw new Error(`the demo exited:\n${out}`);
        const balancer = /balancer \(agents, dashboard\)\s+(http:\S+?)\/?\s/.exec(out)?.[1];
        const a = /instance A\s+(http:\S+?)\/?\s/.exec(out)?.[1];
        const b = /instance B\s+(http:\S+?)\/?\s/.exec(out)?.[1];
        const bPid = /instance B\s+\S+\s+\(pid (\d+)\)/.exec(out)?.[1];
        const token = /admin token \(both\)\s+(adm_\w+)/.exec(out)?.[1];
        const database = /database\s+\S+\/(ftl_demo_\w+)/.exec(out)?.[1];
        if (!balancer || !a || !b || !bPid || !token || !database) return undefined;
        return { balancer, a, b, bPid: Number(bPid), token, database };
      }, { timeoutMs: 90_000, message: "the demo's banner" });
      const auth = { headers: { Authorization: `Bearer ${banner.token}` } };
      for (const base of [banner.a, banner.b, banner.balancer]) {
        await waitFor(async () => {
          const res = await fetch(`${base}/api/workers`, auth);
          const body = await res.json();
          return body.workers?.length === 1 && body.workers[0].is_online === true;
        }, { timeoutMs: 60_000, message: `the agent online as seen by ${base}` });
        const ready = await fetch(`${base}/readyz`);
        assertEquals((await ready.json()).ok, true);
      }
      // Lose instance B: the demo goes on, and the agent is online through A.
      Deno.kill(banner.bPid, "SIGKILL");
      await waitFor(() => {
        if (exited) throw new Error(`the demo exited:\n${out}`);
        return out.includes("cp-b exited with code 137; the other instance serves on");
      }, { timeoutMs: 30_000, message: "the demo reporting cp-b gone" });
      // A heartbeat stored after the loss went through the balancer to A, the one left.
      const lostAt = Date.now();
      await waitFor(async () => {
        const res = await fetch(`${banner.a}/api/workers`, auth);
        const body = await res.json();
        return (body.workers?.[0]?.last_heartbeat ?? 0) >= lostAt;
      }, { timeoutMs: 60_000, message: "a heartbeat through instance A after B was lost" });
      assertEquals(exited, false, out);
      demo.kill("SIGINT");
      const { code } = await status;
      assertEquals(code, 0, out);
      const sql = postgres(testDatabaseUrl(), { max: 1, onnotice: () => {} });
      try {
        const rows = await sql`SELECT 1 FROM pg_database WHERE datname = ${banner.database}`;
        assertEquals(rows.length, 0, "the demo's database is dropped");
      } finally {
        await sql.end({ timeout: 5 });
      }
      assert(out.includes("stopping"));
    } finally {
      if (!exited) {
        demo.kill("SIGINT");
        const timer = setTimeout(() => demo.kill("SIGKILL"), 30_000);
        await status;
        clearTimeout(timer);
      }
      await pumps;
    }
  },
});
