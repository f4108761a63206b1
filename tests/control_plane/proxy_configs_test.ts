/**
 * The shipped reverse-proxy configs parse with the real tools, where they are installed
 * (`caddy`, `nginx` and `openssl` on the PATH; Debian: `apt-get install caddy nginx`). Each test
 * is skipped, not passed, where its tool is missing.
 */
import { ok as assert } from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Where `tool` is: on the PATH, or in /usr/sbin or /sbin (where Debian puts nginx). */
function which(tool: string): string | undefined {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin", "/sbin"];
  for (const dir of dirs.filter((d) => d !== "")) {
    try {
      if (Deno.statSync(`${dir}/${tool}`).isFile) return `${dir}/${tool}`;
    } catch { /* not here */ }
  }
  return undefined;
}

const CADDY = which("caddy");
const NGINX = which("nginx");
const OPENSSL = which("openssl");

async function run(cmd: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { ok: out.success, out: text };
}

Deno.test({
  name: "configs/caddy/Caddyfile is a valid Caddy configuration",
  ignore: CADDY === undefined,
  async fn() {
    const { ok, out } = await run(CADDY!, [
      "validate",
      "--adapter",
      "caddyfile",
      "--config",
      `${ROOT}configs/caddy/Caddyfile`,
    ]);
    assert(ok && out.includes("Valid configuration"), out);
  },
});

Deno.test({
  name: "configs/nginx/control-plane.conf is a valid nginx configuration",
  ignore: NGINX === undefined || OPENSSL === undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ftl-nginx-conf-" });
    try {
      const made = await run(OPENSSL!, [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=cp.example.com",
        "-keyout",
        `${dir}/cert.key`,
        "-out",
        `${dir}/cert.pem`,
      ]);
      assert(made.ok, made.out);
      const site = (await Deno.readTextFile(`${ROOT}configs/nginx/control-plane.conf`))
        .replace("/etc/ssl/cp.example.com.pem", `${dir}/cert.pem`)
        .replace("/etc/ssl/cp.example.com.key", `${dir}/cert.key`);
      await Deno.writeTextFile(`${dir}/site.conf`, site);
      await Deno.writeTextFile(
        `${dir}/nginx.conf`,
        `pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents {}\n` +
          `http {\n  access_log off;\n  include ${dir}/site.conf;\n}\n`,
      );
      const { ok, out } = await run(NGINX!, ["-t", "-c", `${dir}/nginx.conf`, "-p", dir]);
      assert(ok && out.includes("test is successful"), out);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
