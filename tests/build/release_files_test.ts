/**
 * What `make installers` and the release's publish job write from a folder of binaries: a
 * reproducible .tar.gz per target, SHA256SUMS that `sha256sum -c` accepts, installer builds
 * named unsigned unless a certificate is there, and a title and notes that name every
 * unsigned platform. Compile steps come from the one flag set in src/build/compile_flags.ts.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { writeArchives } from "../../src/build/archives.ts";
import { writeChecksums } from "../../src/build/checksums.ts";
import { AGENT_BUNDLE, agentBundleArgs, agentCompileFlags } from "../../src/build/compile_flags.ts";
import { planInstallers } from "../../src/build/installers.ts";
import { compileSteps } from "../../src/build/main.ts";
import { releaseNotes, releaseTitle } from "../../src/build/release_notes.ts";
import { AGENT_ENV_VARS } from "../../src/permissions/permission_flags.ts";
import { REPO_ROOT, requireTool, runTool } from "../installer/_tools.ts";

Deno.test("compile steps use the one compiled flag set: exact env and sys names, no ffi, no prompt", () => {
  const all = compileSteps(["all"]);
  // The agent binaries are compiled from one bundle of main.ts, built first (issue 17).
  assertEquals(all[0], { file: AGENT_BUNDLE, args: agentBundleArgs() });
  assertEquals(all.filter((s) => s.file === AGENT_BUNDLE).length, 1);
  const steps = all.slice(1);
  assert(steps.every((s) => s.args[0] === "compile"));
  assertEquals(steps.map((s) => s.file), [
    "worker-agent-linux-x64",
    "worker-agent-linux-arm64",
    "worker-agent-darwin-x64",
    "worker-agent-darwin-arm64",
    "worker-agent-windows-x64.exe",
    "ftl-control-plane-linux-x64",
    "ftl-control-plane-linux-arm64",
  ]);
  const windows = steps.find((s) => s.file.endsWith(".exe"))!.args;
  assertEquals(windows.slice(0, 1 + agentCompileFlags("windows").length), [
    "compile",
    ...agentCompileFlags("windows"),
  ]);
  for (const step of steps) {
    assert(step.args.includes("--no-prompt"), step.file);
    assert(
      !step.args.some((a) => /^(-A|--allow-all|--allow-ffi|--allow-import)/.test(a)),
      step.file,
    );
  }
  const linux = agentCompileFlags("linux");
  assert(linux.includes(`--allow-env=${AGENT_ENV_VARS.join(",")}`));
  assert(linux.includes("--allow-sys=hostname,osRelease,cpus,systemMemoryInfo,loadavg,statfs"));
  assert(
    agentCompileFlags("darwin").some((f) => f.startsWith("--allow-sys=") && f.includes("uid")),
  );
  assertEquals(windows.at(-1), AGENT_BUNDLE, "an agent binary is compiled from the bundle");
  const cp = steps.find((s) => s.file === "ftl-control-plane-linux-arm64")!.args;
  assert(!cp.includes("--allow-run"), "the control plane never runs programs");
  assert(cp.includes("aarch64-unknown-linux-gnu") && cp.at(-1) === "src/control_plane/main.ts");
  assert(
    /unknown target 'plan9-x64'/.test(String(captureError(() => compileSteps(["plan9-x64"])))),
  );
});

function captureError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

Deno.test({
  name:
    "archives are one reproducible .tar.gz per binary, and SHA256SUMS covers every release file",
  ignore: Deno.build.os === "windows",
  async fn() {
    const sha256sum = requireTool("sha256sum");
    const dir = await Deno.makeTempDir({ prefix: "ftl-dist-" });
    try {
      await Deno.writeTextFile(`${dir}/worker-agent-linux-x64`, "linux binary");
      await Deno.writeTextFile(`${dir}/worker-agent-windows-x64-unsigned.exe`, "windows binary");
      await Deno.writeTextFile(`${dir}/unrelated.txt`, "not released");
      const options = { version: "1.2.3", repoRoot: REPO_ROOT, mtime: 1_700_000_000 };
      const names = await writeArchives(dir, options);
      assertEquals(names, [
        "worker-agent-1.2.3-linux-x64.tar.gz",
        "worker-agent-1.2.3-windows-x64-unsigned.tar.gz",
      ]);
      const listing = await runTool("tar", ["-tzvf", `${dir}/${names[0]}`]);
      assertEquals(listing.code, 0, listing.stderr);
      assert(
        /^-rwxr-xr-x 0\/0 .* worker-agent-1\.2\.3-linux-x64\/worker-agent$/m.test(listing.stdout),
        listing.stdout,
      );
      for (const file of ["README.md", "INSTALL.md", "config.example.yaml"]) {
        assert(listing.stdout.includes(`worker-agent-1.2.3-linux-x64/${file}`), file);
      }
      assert(
        (await runTool("tar", ["-tzf", `${dir}/${names[1]}`])).stdout.includes("/worker-agent.exe"),
      );

      const first = await Deno.readFile(`${dir}/${names[0]}`);
      await writeArchives(dir, options);
      assertEquals(
        await Deno.readFile(`${dir}/${names[0]}`),
        first,
        "the archive is not reproducible",
      );

      const sums = await writeChecksums(dir);
      assert(!sums.includes("unrelated.txt"));
      assertEquals(sums.trim().split("\n").length, 4);
      const check = await runTool(sha256sum, ["-c", "SHA256SUMS"], { cwd: dir });
      assertEquals(check.code, 0, check.stdout + check.stderr);
      await Deno.writeTextFile(`${dir}/worker-agent-linux-x64`, "tampered");
      assert((await runTool(sha256sum, ["-c", "SHA256SUMS"], { cwd: dir })).code !== 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("installer builds follow the binaries present, and a Windows installer is signed only with a certificate", () => {
  const files = [
    "worker-agent-linux-arm64",
    "worker-agent-windows-x64.exe",
    "worker-agent-darwin-arm64-unsigned",
  ];
  const none = planInstallers({ version: "1.2.3", files, env: () => undefined, os: "linux" });
  assertEquals(none.map((s) => s.target), ["linux-arm64", "darwin-arm64", "windows-x64"]);
  assert(
    none[0]!.command.join(" ").includes(
      "build_deb.sh --binary dist/worker-agent-linux-arm64 --version 1.2.3 --arch arm64",
    ),
  );
  assert(none[1]!.command.includes("--dry-run"), "a .pkg is a dry run off macOS");
  const nsis = none[2]!.command;
  assert(nsis.includes("-DOUTFILE=dist/worker-agent-setup-windows-x64-unsigned.exe"));
  assert(!nsis.some((a) => a.startsWith("-DSIGN_COMMAND")));

  const signed = planInstallers({
    version: "1.2.3",
    files,
    env: (name) => (name === "AUTHENTICODE_PFX_BASE64" ? "MIIK…" : undefined),
    only: ["windows"],
  });
  assertEquals(signed.length, 1);
  assert(signed[0]!.command.includes("-DOUTFILE=dist/worker-agent-setup-windows-x64.exe"));
  assert(signed[0]!.command.includes("-DSIGN_COMMAND=sh installer/sign/authenticode.sh"));
});

Deno.test("the release title and notes name every unsigned platform", () => {
  const signed = [
    "worker-agent-windows-x64.exe",
    "worker-agent-setup-windows-x64.exe",
    "worker-agent-darwin-arm64",
    "worker-agent-1.2.3-darwin-arm64.pkg",
    "worker-agent-linux-x64",
  ];
  assertEquals(releaseTitle("v1.2.3", signed), "worker-agent v1.2.3");
  const notes = releaseNotes("v1.2.3", signed, "finetunelab/worker-agent");
  assert(notes.includes("Windows: the exe and the installer carry an Authenticode signature"));
  assert(!notes.includes("UNSIGNED"));
  assert(notes.includes("finetunelab/worker-agent/\\.github/workflows/release\\.yml@refs/tags/v"));

  const unsigned = [
    "worker-agent-windows-x64-unsigned.exe",
    "worker-agent-setup-windows-x64-unsigned.exe",
    "worker-agent-darwin-arm64",
    "worker-agent-linux-x64",
  ];
  assertEquals(releaseTitle("v1.2.3", unsigned), "worker-agent v1.2.3 (UNSIGNED: Windows)");
  const text = releaseNotes("v1.2.3", unsigned, "finetunelab/worker-agent");
  assert(text.includes("- Windows: **UNSIGNED.**"));
  assert(text.includes("- macOS: the binaries are signed"));
});
