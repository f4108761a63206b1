/**
 * Every shell script the project ships passes shellcheck, and the macOS package scripts'
 * dry runs print the commands they would run: sign (hardened runtime, with the JIT
 * entitlements) before packaging, notarize then staple, and an unsigned build named as such.
 * The real pkgbuild/productbuild run is ci.yml's `installers-macos` job.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { REPO_ROOT, requireTool, runTool } from "./_tools.ts";

const SCRIPTS = [
  "installer/install.sh",
  "installer/linux/build_deb.sh",
  "installer/sign/authenticode.sh",
  "installer/macos/build_pkg.sh",
  "installer/macos/uninstall.sh",
  "installer/macos/scripts/postinstall",
  "scripts/deno.sh",
  ".github/scripts/docker_health.sh",
  ".ci/run",
];
const BUILD_PKG = `${REPO_ROOT}installer/macos/build_pkg.sh`;

Deno.test({
  name: "shellcheck passes every shipped shell script",
  ignore: Deno.build.os === "windows",
  async fn() {
    const shellcheck = requireTool("shellcheck");
    const out = await runTool(shellcheck, ["--severity=style", ...SCRIPTS], { cwd: REPO_ROOT });
    assertEquals(out.code, 0, out.stdout + out.stderr);
  },
});

async function dryRun(env: Record<string, string>) {
  const dir = await Deno.makeTempDir({ prefix: "ftl-pkg-" });
  try {
    await Deno.writeTextFile(`${dir}/worker-agent`, "stand-in");
    return await runTool("sh", [
      BUILD_PKG,
      "--binary",
      `${dir}/worker-agent`,
      "--version",
      "1.2.3",
      "--arch",
      "arm64",
      "--out",
      "dist",
      "--dry-run",
    ], { env: { PATH: Deno.env.get("PATH")!, ...env } });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The program (and first argument for xcrun) of each `+ …` line. */
function steps(stdout: string): string[] {
  return stdout.split("\n").filter((l) => l.startsWith("+ ")).map((l) => {
    const words = l.slice(2).split(" ");
    return words[0] === "xcrun" ? `xcrun ${words[1]}` : words[0]!;
  });
}

Deno.test({
  name:
    "build_pkg.sh --dry-run signs, packages, notarizes and staples with identities, and names an unsigned build",
  ignore: Deno.build.os === "windows",
  async fn() {
    const signed = await dryRun({
      MACOS_APP_IDENTITY: "Developer ID Application: Test (T)",
      MACOS_INSTALLER_IDENTITY: "Developer ID Installer: Test (T)",
      APPLE_ID: "ci@example.com",
      APPLE_TEAM_ID: "T",
      APPLE_APP_PASSWORD: "app-specific-secret",
    });
    assertEquals(signed.code, 0, signed.stderr);
    const order = steps(signed.stdout).filter((s) => !["mkdir", "cp", "chmod"].includes(s));
    assertEquals(order, [
      "codesign",
      "codesign",
      "pkgbuild",
      "productbuild",
      "xcrun notarytool",
      "xcrun stapler",
      "pkgutil",
    ]);
    assert(
      /codesign --force --options runtime --timestamp --entitlements \S+entitlements\.plist/.test(
        signed.stdout,
      ),
    );
    assert(
      /productbuild .* --sign Developer ID Installer: Test \(T\) --timestamp dist\/worker-agent-1\.2\.3-darwin-arm64\.pkg/
        .test(signed.stdout),
    );
    assert(!signed.stdout.includes("app-specific-secret"), "the notary password was printed");
    const entitlements = await Deno.readTextFile(`${REPO_ROOT}installer/macos/entitlements.plist`);
    assert(entitlements.includes("com.apple.security.cs.allow-jit"));

    const unsigned = await dryRun({});
    assertEquals(unsigned.code, 0, unsigned.stderr);
    assert(!steps(unsigned.stdout).includes("codesign"));
    assert(!unsigned.stdout.includes("notarytool"));
    assert(unsigned.stdout.trim().endsWith("dist/worker-agent-1.2.3-darwin-arm64-unsigned.pkg"));
    assert(unsigned.stderr.includes("is UNSIGNED"), unsigned.stderr);

    const half = await dryRun({ MACOS_APP_IDENTITY: "Developer ID Application: Test (T)" });
    assertEquals(half.code, 1);
    assert(half.stderr.includes("set both MACOS_APP_IDENTITY and MACOS_INSTALLER_IDENTITY"));
    const notNotarized = await dryRun({
      MACOS_APP_IDENTITY: "Developer ID Application: Test (T)",
      MACOS_INSTALLER_IDENTITY: "Developer ID Installer: Test (T)",
    });
    assertEquals(notNotarized.code, 1, "a signed package must be notarized");
  },
});

Deno.test({
  name: "the macOS uninstall script boots out the LaunchAgent and keeps the config unless --purge",
  ignore: Deno.build.os === "windows",
  async fn() {
    const script = `${REPO_ROOT}installer/macos/uninstall.sh`;
    const keep = await runTool("sh", [script, "--dry-run"]);
    assertEquals(keep.code, 0, keep.stderr);
    const uid = (await runTool("id", ["-u"])).stdout.trim();
    assert(keep.stdout.includes(`+ launchctl bootout gui/${uid}/ai.finetunelab.worker-agent`));
    assert(keep.stdout.includes("+ rm -f /usr/local/bin/worker-agent"));
    assert(keep.stdout.includes("+ pkgutil --forget ai.finetunelab.worker-agent"));
    const removals = (out: string) =>
      out.split("\n").filter((l) => l.startsWith("+ rm")).join("\n");
    assert(
      !removals(keep.stdout).includes("Application Support"),
      "removed the config without --purge",
    );
    const purge = await runTool("sh", [script, "--dry-run", "--purge"]);
    assert(removals(purge.stdout).includes("Application Support/FineTuneLab/worker-agent"));
    const postinstall = await runTool("sh", [`${REPO_ROOT}installer/macos/scripts/postinstall`]);
    assert(postinstall.stdout.includes("worker-agent init"));
  },
});
