import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";

const script = new URL("../../installer/install.sh", import.meta.url).pathname;
const arch = Deno.build.arch === "aarch64" ? "arm64" : "x64";
const os = Deno.build.os === "darwin" ? "darwin" : "linux";
const file = `worker-agent-${os}-${arch}`;

async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>),
  );
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A release folder with a stand-in binary that prints a version, and its SHA256SUMS. */
async function release(corrupt: boolean): Promise<{ root: string; base: string; home: string }> {
  const root = await Deno.makeTempDir({ prefix: "install_sh_" });
  const base = `${root}/release`;
  await Deno.mkdir(base);
  const binary = new TextEncoder().encode('#!/bin/sh\necho "worker-agent 9.9.9 (test)"\n');
  await Deno.writeFile(`${base}/${file}`, binary);
  const sum = corrupt ? "0".repeat(64) : await sha256Hex(binary);
  await Deno.writeTextFile(`${base}/SHA256SUMS`, `${sum}  ${file}\n`);
  return { root, base, home: `${root}/home` };
}

function install(base: string, home: string) {
  return new Deno.Command("sh", {
    args: [script],
    env: { HOME: home, WORKER_AGENT_DOWNLOAD_URL: `file://${base}`, PATH: Deno.env.get("PATH")! },
    stdout: "piped",
    stderr: "piped",
  }).output();
}

Deno.test({
  name: "install.sh installs a binary whose checksum matches and prints the next steps",
  ignore: Deno.build.os === "windows",
  async fn() {
    const { root, base, home } = await release(false);
    try {
      const out = await install(base, home);
      const stdout = new TextDecoder().decode(out.stdout);
      assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
      const installed = `${home}/.local/bin/worker-agent`;
      assertEquals((await Deno.stat(installed)).mode! & 0o777, 0o755);
      assert(stdout.includes("worker-agent 9.9.9 (test)"), stdout);
      assert(stdout.includes("worker-agent init"), stdout);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "install.sh refuses a binary whose checksum does not match and installs nothing",
  ignore: Deno.build.os === "windows",
  async fn() {
    const { root, base, home } = await release(true);
    try {
      const out = await install(base, home);
      assertEquals(out.code, 1);
      assert(new TextDecoder().decode(out.stderr).includes("checksum mismatch"));
      await Deno.stat(`${home}/.local/bin/worker-agent`).then(
        () => assert(false, "a binary was installed"),
        (e) => assert(e instanceof Deno.errors.NotFound),
      );
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
