/**
 * The production transport end to end: the real agent talks HTTPS and `wss://` to the real
 * control plane through a loopback TLS proxy whose certificate is signed by a private CA made
 * at test time. With `ca_file` it registers, opens the WebSocket and runs a command; without
 * it the agent fails with a clear TLS error, keeps running, shows the failure in `status` and
 * backs off instead of spinning. `doctor` passes against the same endpoint with `ca_file`.
 */
import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import { stringify } from "yaml";
import { agentPermissionFlags } from "../../src/permissions/permission_flags.ts";
import { loadConfig } from "../../src/config/load_config.ts";
import { startAgent } from "../_helpers/agent_process.ts";
import { startControlPlane } from "../_helpers/control_plane_process.ts";
import { hasOpenssl, makeTestCertificates, startTlsProxy } from "../_helpers/tls_proxy.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { runMain } from "../_helpers/main_process.ts";
import { Admin, connectedWorkerId, FAST_CP_ARGS } from "./_e2e.ts";

/** Whether `promise` has settled (checked after one macrotask). */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  const pending = Symbol("pending");
  const timer = new Promise((resolve) => setTimeout(() => resolve(pending), 0));
  return (await Promise.race([promise.then(() => true, () => true), timer])) !== pending;
}

Deno.test({
  name:
    "TLS with a private CA: with ca_file the agent registers, opens wss and runs a ping; without it it fails clearly, keeps running and backs off; doctor passes",
  ignore: !hasOpenssl(),
  fn: async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "ftl-tls-e2e-" });
    try {
      const certs = await makeTestCertificates(dir);
      // Two TLS front doors of one control plane, so that each agent's connections can be
      // counted on its own; both present the same certificate.
      await using trusted = await startTlsProxy({ certs });
      await using untrusted = await startTlsProxy({ certs });
      const publicUrl = `https://localhost:${trusted.port}`;
      await using cp = await startControlPlane({
        args: [...FAST_CP_ARGS, "--public-url", publicUrl],
      });
      trusted.targetPort = cp.port;
      untrusted.targetPort = cp.port;
      const admin = new Admin(cp);
      const [goodKey, badKey, doctorKey] = await Promise.all([
        cp.createKey("tls"),
        cp.createKey("no-ca"),
        cp.createKey("doctor"),
      ]);

      // Both agents start together; each runs under exactly `worker-agent permissions`.
      const startedAt = Date.now();
      await using agent = await startAgent({
        baseUrl: publicUrl,
        apiKey: goodKey,
        config: { ca_file: certs.caFile },
      });
      await using blind = await startAgent({
        baseUrl: `https://localhost:${untrusted.port}`,
        apiKey: badKey,
        // The default level: the TLS failure must be visible without debug logging.
        config: { log_level: "info" },
      });

      await t.step(
        "with ca_file: registered, WebSocket open over wss, a ping completes",
        async () => {
          const workerId = await connectedWorkerId(agent, { websocket: "open" });
          assertMatch(agent.output(), /websocket=offered/);
          assert(trusted.upgrades >= 1, "the WebSocket upgrade went through the TLS proxy");
          assertEquals(trusted.failedHandshakes, 0);
          const status = await agent.status();
          assertEquals(status?.websocket, "open");
          assertEquals(status?.base_url, publicUrl);

          const commandId = await admin.command(workerId, "ping");
          const row = await admin.finished(workerId, commandId, 10_000);
          assertEquals(row.status, "completed", JSON.stringify(row));
          assertMatch(
            agent.output(),
            new RegExp(`command accepted command_id=${commandId} type=ping via=websocket`),
          );
        },
      );

      await t.step("doctor with ca_file passes every check, the wss upgrade included", async () => {
        const configPath = `${dir}/doctor.yaml`;
        await Deno.writeTextFile(
          configPath,
          stringify({
            api_key: doctorKey,
            base_url: publicUrl,
            state_dir: `${dir}/doctor-state`,
            ca_file: certs.caFile,
          }),
          { mode: 0o600 },
        );
        const { config } = await loadConfig({ path: configPath, env: {} });
        // Under the same narrow flags as `run`: doctor needs nothing more than the agent.
        const result = await runMain(["doctor", "--config", configPath], {
          permissions: agentPermissionFlags(config, configPath),
        });
        const text = result.stdout + result.stderr;
        assertEquals(result.code, 0, text);
        assertMatch(text, /✓ TLS: handshake ok .*CA from .*ca\.pem/);
        assertMatch(text, /✓ key accepted: registered as wkr_/);
        assertMatch(text, new RegExp(`✓ WebSocket: upgrade to wss://localhost:${trusted.port}/`));
        assertMatch(text, /all checks passed/);
        assert(!text.includes(doctorKey), "doctor never prints the key");
      });

      await t.step(
        "without ca_file: a clear TLS error, status shows it, no crash, no spinning",
        async () => {
          const failed = await waitFor(async () => {
            const s = await blind.status();
            return s?.last_error ? s : undefined;
          }, { timeoutMs: 15_000, message: `a failure in status.json:\n${blind.output()}` });
          assertMatch(failed.last_error!, /invalid peer certificate|UnknownIssuer|certificate/i);
          assertEquals(failed.worker_id, null);
          assert(failed.state === "reconnecting" || failed.state === "registering", failed.state);
          assert(failed.websocket !== "open");
          // At the default log level: one warning with the TLS reason, not one line per try.
          assertMatch(
            blind.output(),
            /WARN\s+cannot register with the control plane; retrying reason="network error: .*invalid peer certificate: UnknownIssuer"/,
          );
          assertEquals(
            (blind.output().match(/cannot register with the control plane/g) ?? []).length,
            1,
          );
          assertEquals(untrusted.handshakes, 0, "no handshake ever completed");
          assert(untrusted.failedHandshakes >= 1);

          // A measurement window, not a wait for a condition: full-jitter backoff (1 s doubling,
          // capped at 60 s) makes a handful of attempts; a retry loop without backoff makes
          // hundreds.
          const windowMs = 5_000;
          const before = untrusted.connections;
          await new Promise((resolve) => setTimeout(resolve, windowMs));
          const during = untrusted.connections - before;
          const total = untrusted.connections;
          const elapsedS = (Date.now() - startedAt) / 1000;
          console.log(
            `no ca_file: ${during} connection(s) in a ${windowMs / 1000} s window, ${total} in ${
              elapsedS.toFixed(1)
            } s since start`,
          );
          assert(during <= 8, `${during} connections in ${windowMs} ms: the agent is spinning`);
          assert(total <= 15, `${total} connections in ${elapsedS} s: the agent is spinning`);
          assertEquals(await settled(blind.exited), false, "the agent is still running");

          const status = await runMain(["status", "--config", blind.configPath]);
          const text = status.stdout + status.stderr;
          assertEquals(status.code, 0, text);
          assertMatch(text, /agent:\s+running/);
          assertMatch(text, /worker id:\s+\(not registered yet\)/);
          assertMatch(text, /last error:\s+register: network error: .*invalid peer certificate/);
          assert(!text.includes(badKey), "status never prints the key");
        },
      );

      // Both drain cleanly: 0 is the exit code of a normal stop.
      assertEquals(await agent.stop(), 0);
      assertEquals(await blind.stop(), 0);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
