/**
 * `doctor`'s TLS and clock checks against a local HTTPS server whose certificate is signed
 * by a throwaway CA made with openssl: trusted through `ca_file`, refused without it.
 */
import { deepStrictEqual as assertEquals, match as assertMatch } from "node:assert/strict";
import { runDoctor } from "../../src/cli/doctor.ts";
import { SAMPLE_KEY } from "../_helpers/main_process.ts";
import { hasOpenssl, makeTestCertificates } from "../_helpers/tls_proxy.ts";

Deno.test({
  name:
    "doctor trusts a private control plane through ca_file, refuses it without, and flags clock skew",
  ignore: !hasOpenssl(),
  fn: async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "ftl-tls-" });
    const skewMs = 10 * 60_000;
    const server = Deno.serve(
      {
        hostname: "127.0.0.1",
        port: 0,
        cert: await makeTestCertificates(dir).then((c) => Deno.readTextFile(c.certFile)),
        key: await Deno.readTextFile(`${dir}/server.key`),
        onListen: () => {},
      },
      () =>
        Response.json({
          worker_id: "wkr_000000000000000000000001",
          server_time: Date.now() + skewMs,
        }),
    );
    try {
      const port = server.addr.port;
      const write = (name: string, extra: string) =>
        Deno.writeTextFile(
          `${dir}/${name}.yaml`,
          `api_key: ${SAMPLE_KEY}\nbase_url: https://127.0.0.1:${port}\nstate_dir: ${dir}/state\n${extra}`,
        );
      await write("with_ca", `ca_file: ${dir}/ca.pem\n`);
      await write("without_ca", "");
      const env = () => undefined;

      await t.step(
        "with ca_file: TLS passes, the key is accepted, the clock is 10 minutes off",
        async () => {
          const results = await runDoctor({
            load: { path: `${dir}/with_ca.yaml`, env: {} },
            env,
            timeoutMs: 5000,
          });
          const byName = new Map(results.map((r) => [r.name, r]));
          assertEquals(byName.get("TLS")?.ok, true, JSON.stringify(byName.get("TLS")));
          assertMatch(byName.get("TLS")!.detail, /CA from .*ca\.pem/);
          assertEquals(byName.get("key accepted")?.ok, true);
          assertEquals(byName.get("clock skew")?.ok, false);
          assertMatch(byName.get("clock skew")!.detail, /^\+600\.0 s against the server/);
          assertEquals(byName.get("WebSocket")?.ok, null);
        },
      );
      await t.step("without ca_file: the TLS check fails and points at ca_file", async () => {
        const results = await runDoctor({
          load: { path: `${dir}/without_ca.yaml`, env: {} },
          env,
          timeoutMs: 5000,
        });
        const tls = results.find((r) => r.name === "TLS")!;
        assertEquals(tls.ok, false);
        assertMatch(tls.hint!, /set ca_file/);
        assertEquals(results.find((r) => r.name === "TCP")?.ok, true);
      });
    } finally {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
