/**
 * installer/linux/build_deb.sh, checked the way Debian would: built around a stand-in ELF
 * binary (unstripped, like a `deno compile` binary), lintian-clean, installed with
 * `dpkg -i` into a scratch root (`--root`, with this machine's libc6 entry so the dependency
 * resolves), and removed with `dpkg -r` without leaving a file behind. Its systemd user unit
 * is the one `worker-agent service install` writes, and passes `systemd-analyze verify` and
 * an exposure threshold of `systemd-analyze security` that the unit fails without its
 * sandboxing directives.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { SYSTEMD_SANDBOX_DIRECTIVES, systemdUnit } from "../../src/cli/service_definitions.ts";
import { REPO_ROOT, requireTool, runTool } from "./_tools.ts";

const linux = Deno.build.os === "linux";
const UNIT_FILE = `${REPO_ROOT}installer/linux/finetunelab-worker-agent.service`;

/** A small unstripped ELF that answers like `worker-agent version`. */
async function standInBinary(dir: string): Promise<string> {
  const gcc = requireTool("gcc", "cc");
  await Deno.writeTextFile(
    `${dir}/standin.c`,
    '#include <stdio.h>\nint main(void) { puts("worker-agent 9.9.9 (stand-in)"); return 0; }\n',
  );
  const out = await runTool(gcc, ["-g", "-O1", "-o", `${dir}/worker-agent`, `${dir}/standin.c`]);
  assertEquals(out.code, 0, out.stderr);
  return `${dir}/worker-agent`;
}

async function filesUnder(root: string, skip: string): Promise<string[]> {
  const found: string[] = [];
  async function walk(dir: string) {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      if (path === skip) continue;
      found.push(path.slice(root.length));
      if (entry.isDirectory) await walk(path);
    }
  }
  await walk(root);
  return found.sort();
}

Deno.test({
  name:
    "build_deb.sh builds a lintian-clean package that dpkg installs and removes without a trace",
  ignore: !linux,
  async fn() {
    requireTool("dpkg-deb");
    const lintian = requireTool("lintian");
    const dpkg = requireTool("dpkg");
    if (Deno.uid() !== 0) throw new Error("dpkg -i needs root (CI runs as root)");
    const dir = await Deno.makeTempDir({ prefix: "ftl-deb-" });
    try {
      const binary = await standInBinary(dir);
      const built = await runTool("sh", [
        `${REPO_ROOT}installer/linux/build_deb.sh`,
        "--binary",
        binary,
        "--version",
        "1.2.3",
        "--arch",
        "amd64",
        "--out",
        `${dir}/out`,
      ], { env: { PATH: Deno.env.get("PATH")!, SOURCE_DATE_EPOCH: "1700000000" } });
      assertEquals(built.code, 0, built.stderr);
      const deb = `${dir}/out/worker-agent_1.2.3_amd64.deb`;
      assertEquals(built.stdout.trim(), deb);

      const contents = await runTool("dpkg-deb", ["--contents", deb]);
      for (
        const line of [
          /-rwxr-xr-x root\/root .* \.\/usr\/bin\/worker-agent$/m,
          /-rw-r--r-- root\/root .* \.\/usr\/lib\/systemd\/user\/finetunelab-worker-agent\.service$/m,
          /\.\/usr\/share\/doc\/worker-agent\/copyright$/m,
          /\.\/usr\/share\/doc\/worker-agent\/changelog\.gz$/m,
          /\.\/usr\/share\/man\/man1\/worker-agent\.1\.gz$/m,
        ]
      ) assert(line.test(contents.stdout), `${line} in\n${contents.stdout}`);

      const lint = await runTool(lintian, ["--fail-on", "error,warning", deb]);
      assertEquals(lint.code, 0, lint.stdout + lint.stderr);
      assert(!/^[EW]: /m.test(lint.stdout), lint.stdout);

      // dpkg -i into a scratch root that knows this machine's libc6.
      const root = `${dir}/root`;
      const admin = `${root}/var/lib/dpkg`;
      await Deno.mkdir(`${admin}/info`, { recursive: true });
      await Deno.mkdir(`${admin}/updates`);
      const libc = await runTool("dpkg-query", ["-s", `libc6:${"amd64"}`]);
      assertEquals(libc.code, 0, libc.stderr);
      await Deno.writeTextFile(`${admin}/status`, `${libc.stdout.trim()}\n\n`);
      await Deno.writeTextFile(`${admin}/available`, "");
      await Deno.writeTextFile(`${admin}/info/libc6:amd64.list`, "");
      const install = await runTool(dpkg, [`--root=${root}`, "-i", deb]);
      assertEquals(install.code, 0, install.stdout + install.stderr);
      const run = await runTool(`${root}/usr/bin/worker-agent`, []);
      assertEquals(run.stdout.trim(), "worker-agent 9.9.9 (stand-in)");
      assertEquals(
        await Deno.readTextFile(`${root}/usr/lib/systemd/user/finetunelab-worker-agent.service`),
        await Deno.readTextFile(UNIT_FILE),
      );
      const status = await runTool(dpkg, [`--root=${root}`, "-s", "worker-agent"]);
      assert(/^Status: install ok installed$/m.test(status.stdout), status.stdout);

      const remove = await runTool(dpkg, [`--root=${root}`, "-r", "worker-agent"]);
      assertEquals(remove.code, 0, remove.stdout + remove.stderr);
      assertEquals(await filesUnder(root, `${root}/var`), [], "dpkg -r left files behind");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "the packaged user unit is the one service install writes, with its sandboxing, and systemd accepts it",
  ignore: !linux,
  async fn() {
    const analyze = requireTool("systemd-analyze");
    const unit = await Deno.readTextFile(UNIT_FILE);
    assertEquals(
      unit,
      systemdUnit({ command: ["/usr/bin/worker-agent", "run"], workingDir: "%h" }),
    );
    for (const directive of SYSTEMD_SANDBOX_DIRECTIVES) {
      assert(unit.includes(`\n${directive}\n`), directive);
    }
    assert(!/MemoryDenyWriteExecute/.test(unit), "V8's JIT needs writable code pages");

    const dir = await Deno.makeTempDir({ prefix: "ftl-unit-" });
    try {
      await Deno.mkdir(`${dir}/run`, { mode: 0o700 });
      const env = {
        PATH: Deno.env.get("PATH")!,
        XDG_RUNTIME_DIR: `${dir}/run`,
        SYSTEMD_LOG_COLOR: "0",
      };
      // ExecStart must point at an executable for verify: check a copy with a real one.
      const unitPath = `${dir}/finetunelab-worker-agent.service`;
      await Deno.writeTextFile(unitPath, unit.replace("/usr/bin/worker-agent", "/bin/true"));
      const verify = await runTool(analyze, ["verify", "--user", unitPath], { env });
      assertEquals(verify.code, 0, verify.stderr);
      assertEquals(verify.stdout + verify.stderr, "", "systemd-analyze verify found problems");

      const security = (path: string) =>
        runTool(analyze, ["security", "--user", "--offline=yes", "--threshold=70", path], { env });
      const sandboxed = await security(unitPath);
      assertEquals(sandboxed.code, 0, sandboxed.stdout.split("\n").slice(-3).join("\n"));
      // Without the directives the same unit is above the threshold: the check can fail.
      const barePath = `${dir}/bare.service`;
      await Deno.writeTextFile(
        barePath,
        unit.replace("/usr/bin/worker-agent", "/bin/true").split("\n")
          .filter((line) => !SYSTEMD_SANDBOX_DIRECTIVES.includes(line)).join("\n"),
      );
      assert((await security(barePath)).code !== 0, "a bare unit passed the exposure threshold");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
