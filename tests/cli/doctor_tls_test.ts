/**
 * `doctor`'s TLS and clock checks against a local HTTPS server whose certificate is signed
 * by a throwaway CA made with openssl: trusted through `ca_file`, refused without it.
 */
import { deepStrictEqual as assertEquals, match as assertMatch } from "node:assert/strict";
import { runDoctor } from "../../src/cli/doctor.ts";
import { SAMPLE_KEY } from "./_main_process.ts";

function hasOpenssl(): boolean {
  try {
    return new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

async function openssl(cwd: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd, stdout: "null", stderr: "piped" })
    .output();
  if (!out.success) throw new Error(`openssl ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
}

/** A CA and a certificate for 127.0.0.1 signed by it. */
async function makeCertificates(dir: string): Promise<void> {
  await openssl(
    dir,
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "1",
    "-subj",
    "/CN=doctor test CA",
  );
  await openssl(
    dir,
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=127.0.0.1",
  );
  await Deno.writeTextFile(
    `${dir}/ext.cnf`,
    "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n",
  );
  await openssl(
    dir,
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "1",
    "-extfile",
    "ext.cnf",
  );
}

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
        cert: await makeCertificates(dir).then(() => Deno.readTextFile(`${dir}/server.pem`)),
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
