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

function install(base: string, home: string, env: Record<string, string> = {}) {
  return new Deno.Command("sh", {
    args: [script],
    env: {
      HOME: home,
      WORKER_AGENT_DOWNLOAD_URL: `file://${base}`,
      PATH: Deno.env.get("PATH")!,
      // A developer's own cosign must not decide the checksum tests; the cosign tests clear it.
      WORKER_AGENT_SKIP_COSIGN: "1",
      ...env,
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
}

/**
 * A `cosign` on PATH that records its arguments and exits with `code`: the installer's
 * decision on cosign's verdict is what is tested (the real cosign is not packaged for
 * Debian 12 or npm; ci.yml does not need it either).
 */
async function cosignStub(root: string, code: number): Promise<{ path: string; args: string }> {
  const bin = `${root}/cosign-bin`;
  await Deno.mkdir(bin, { recursive: true });
  await Deno.writeTextFile(
    `${bin}/cosign`,
    `#!/bin/sh\nprintf '%s\\n' "$@" > "${root}/cosign-args"\nexit ${code}\n`,
    { mode: 0o755 },
  );
  return { path: `${bin}:${Deno.env.get("PATH")!}`, args: `${root}/cosign-args` };
}

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function installed(home: string): Promise<boolean> {
  return await Deno.stat(`${home}/.local/bin/worker-agent`).then(() => true, () => false);
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

Deno.test({
  name: "install.sh says plainly that it did not check the signature when cosign is missing",
  ignore: Deno.build.os === "windows",
  async fn() {
    const { root, base, home } = await release(false);
    try {
      const out = await install(base, home, {
        PATH: "/usr/bin:/bin",
        WORKER_AGENT_SKIP_COSIGN: "",
      });
      assertEquals(out.code, 0, decode(out.stderr));
      assert(decode(out.stdout).includes("cosign is not installed: SHA256SUMS was NOT checked"));
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "install.sh verifies SHA256SUMS with cosign against the release workflow's identity, and installs nothing when that fails",
  ignore: Deno.build.os === "windows",
  async fn() {
    const { root, base, home } = await release(false);
    try {
      await Deno.writeTextFile(`${base}/SHA256SUMS.cosign.bundle`, "{}");
      const good = await cosignStub(root, 0);
      const ok = await install(base, home, { PATH: good.path, WORKER_AGENT_SKIP_COSIGN: "" });
      assertEquals(ok.code, 0, decode(ok.stderr));
      assert(decode(ok.stdout).includes("Verified SHA256SUMS with cosign"));
      const args = (await Deno.readTextFile(good.args)).trim().split("\n");
      assertEquals(args[0], "verify-blob");
      assert(args.includes("--certificate-oidc-issuer"));
      assert(
        args.includes(
          "^https://github.com/finetunelab/worker-agent/\\.github/workflows/release\\.yml@refs/tags/v",
        ),
        args.join(" "),
      );
      assert(args.at(-1)!.endsWith("/SHA256SUMS"));

      await Deno.remove(`${home}/.local/bin/worker-agent`);
      const bad = await cosignStub(root, 1);
      const refused = await install(base, home, { PATH: bad.path, WORKER_AGENT_SKIP_COSIGN: "" });
      assertEquals(refused.code, 1);
      assert(decode(refused.stderr).includes("cosign could not verify SHA256SUMS"));
      assert(!(await installed(home)), "installed despite a failed signature check");

      await Deno.remove(`${base}/SHA256SUMS.cosign.bundle`);
      const noBundle = await install(base, home, { PATH: good.path, WORKER_AGENT_SKIP_COSIGN: "" });
      assertEquals(noBundle.code, 1);
      assert(decode(noBundle.stderr).includes("no SHA256SUMS.cosign.bundle"));
      assert(!(await installed(home)));
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "install.sh refuses a binary the release marks unsigned unless WORKER_AGENT_ALLOW_UNSIGNED=1",
  ignore: Deno.build.os === "windows",
  async fn() {
    const { root, base, home } = await release(false);
    try {
      await Deno.rename(`${base}/${file}`, `${base}/${file}-unsigned`);
      const sums = await Deno.readTextFile(`${base}/SHA256SUMS`);
      await Deno.writeTextFile(`${base}/SHA256SUMS`, sums.replace(file, `${file}-unsigned`));
      const refused = await install(base, home);
      assertEquals(refused.code, 1);
      assert(decode(refused.stderr).includes("is unsigned"), decode(refused.stderr));
      assert(!(await installed(home)));
      const allowed = await install(base, home, { WORKER_AGENT_ALLOW_UNSIGNED: "1" });
      assertEquals(allowed.code, 0, decode(allowed.stderr));
      assert(decode(allowed.stdout).includes("UNSIGNED"));
      assert(await installed(home));
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
