/**
 * The Windows installer and Authenticode signing, checked on Linux: `makensis` builds
 * installer/windows/worker-agent.nsi around a stand-in exe, `7z` lists what it carries (the
 * agent and the uninstaller), makensis's own listing shows the per-user settings and the
 * HKCU keys it writes and removes, and installer/sign/authenticode.sh signs the uninstaller
 * while it is built and then the installer, with a throwaway certificate and a real RFC 3161
 * timestamp from a local authority; `osslsigncode verify` accepts both and rejects a
 * tampered copy. What needs Windows itself runs in ci.yml's `installers-windows` job.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { WINDOWS_TASK_NAME } from "../../src/cli/service_definitions.ts";
import { defaultConfigPath, defaultStateDir } from "../../src/platform/paths.ts";
import { startTestPki } from "./_pki.ts";
import { REPO_ROOT, requireTool, runTool } from "./_tools.ts";

const NSI = `${REPO_ROOT}installer/windows/worker-agent.nsi`;
const SIGN = `${REPO_ROOT}installer/sign/authenticode.sh`;
const ARP =
  "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\FineTuneLab.WorkerAgent";

Deno.test({
  name:
    "the NSIS installer is per user, carries the agent and a signed uninstaller, writes its HKCU keys, and is signed with a timestamp",
  ignore: Deno.build.os === "windows",
  async fn() {
    const makensis = requireTool("makensis");
    const sevenZip = requireTool("7zz", "7z");
    const osslsigncode = requireTool("osslsigncode");
    await using pki = await startTestPki();
    const dir = await Deno.makeTempDir({ prefix: "ftl-nsis-" });
    try {
      await Deno.writeTextFile(`${dir}/agent.exe`, "stand-in for worker-agent.exe\n");
      const setup = `${dir}/worker-agent-setup-windows-x64.exe`;
      const env = {
        PATH: Deno.env.get("PATH")!,
        AUTHENTICODE_PFX: pki.pfx,
        AUTHENTICODE_PASSWORD: pki.password,
        AUTHENTICODE_TIMESTAMP_URLS: pki.tsaUrl,
      };
      const built = await runTool(makensis, [
        "-V4",
        "-WX",
        "-DVERSION=1.2.3",
        `-DAGENT_EXE=${dir}/agent.exe`,
        `-DOUTFILE=${setup}`,
        `-DSIGN_COMMAND=sh ${SIGN}`,
        NSI,
      ], { env });
      assertEquals(built.code, 0, built.stdout.slice(-3000) + built.stderr);
      const log = built.stdout;

      // Per user, in the user's Programs folder, and the ARP entry with version, publisher, size.
      // RequestExecutionLevel user: the manifest asks for no elevation.
      const manifest = new TextDecoder("latin1").decode(await Deno.readFile(setup));
      assert(manifest.includes('requestedExecutionLevel level="asInvoker"'), "asInvoker manifest");
      assert(!manifest.includes("requireAdministrator"), "the installer must not ask for admin");
      assert(log.includes('InstallDir: "$LOCALAPPDATA\\Programs\\FineTuneLab\\worker-agent"'));
      for (
        const value of [
          "DisplayName=",
          "DisplayVersion=1.2.3",
          "Publisher=FineTuneLab",
          "UninstallString=",
          "QuietUninstallString=",
        ]
      ) {
        assert(log.includes(`WriteRegStr: ${ARP}\\${value}`), value);
      }
      assert(log.includes(`WriteRegDWORD: ${ARP}\\EstimatedSize=`), "EstimatedSize");
      assert(log.includes("WriteRegExpandStr: HKCU\\Environment\\Path="), "user PATH");
      assert(log.includes(`DeleteRegKey: ${ARP}`), "the uninstaller removes the ARP key");
      assert(log.includes('WriteUninstaller: "$INSTDIR\\uninstall.exe"'));
      // The uninstaller stops and removes the same logon task `service install` creates.
      assert(log.includes(`schtasks /End /TN "${WINDOWS_TASK_NAME}"`));
      assert(log.includes(`schtasks /Delete /TN "${WINDOWS_TASK_NAME}" /F`));
      assert(log.includes("service install"), "the logon section runs service install");
      // The paths the installer checks are the agent's own defaults on Windows.
      const nsi = await Deno.readTextFile(NSI);
      const winEnv = (name: string) =>
        ({ APPDATA: "$APPDATA", LOCALAPPDATA: "$LOCALAPPDATA" })[name];
      assert(
        nsi.includes(
          `!define CONFIG_DIR "${
            defaultConfigPath({ os: "windows", env: winEnv }).replace(/\\config\.yaml$/, "")
          }"`,
        ),
      );
      assert(
        nsi.includes(
          `!define STATE_DIR "${
            defaultStateDir({ os: "windows", env: winEnv }).replace(/\\state$/, "")
          }"`,
        ),
      );

      const listing = await runTool(sevenZip, ["l", setup]);
      assertEquals(listing.code, 0, listing.stderr);
      assert(/Type = Nsis/.test(listing.stdout), listing.stdout);
      assert(/\sworker-agent\.exe$/m.test(listing.stdout), listing.stdout);
      assert(/\suninstall\.exe$/m.test(listing.stdout), listing.stdout);

      // Both signatures verify, with their timestamps, against the throwaway CA.
      const extracted = `${dir}/x`;
      assertEquals((await runTool(sevenZip, ["x", "-y", `-o${extracted}`, setup])).code, 0);
      const verify = (file: string) =>
        runTool(osslsigncode, [
          "verify",
          "-in",
          file,
          "-CAfile",
          pki.caFile,
          "-TSA-CAfile",
          pki.caFile,
        ]);
      for (const file of [setup, `${extracted}/uninstall.exe`]) {
        const result = await verify(file);
        assertEquals(result.code, 0, result.stdout + result.stderr);
        assert(/Timestamp Server Signature verification: ok/.test(result.stdout), result.stdout);
        assert(/Message digest algorithm\s*: SHA256/.test(result.stdout), result.stdout);
      }
      assertEquals(pki.stamps(), 2);

      // A byte changed after signing breaks the signature.
      const bytes = await Deno.readFile(setup);
      bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
      await Deno.writeFile(`${dir}/tampered.exe`, bytes);
      assert((await verify(`${dir}/tampered.exe`)).code !== 0, "a tampered installer verified");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "authenticode.sh refuses to run without a certificate, and a wrong password signs nothing",
  ignore: Deno.build.os === "windows",
  async fn() {
    requireTool("osslsigncode");
    await using pki = await startTestPki();
    const dir = await Deno.makeTempDir({ prefix: "ftl-sign-" });
    try {
      const file = `${dir}/a.exe`;
      await Deno.writeTextFile(file, "x");
      const path = Deno.env.get("PATH")!;
      const none = await runTool("sh", [SIGN, file], { env: { PATH: path } });
      assertEquals(none.code, 1);
      assert(none.stderr.includes("no certificate: set AUTHENTICODE_PFX"), none.stderr);

      const before = await Deno.readFile(file);
      const wrong = await runTool("sh", [SIGN, file], {
        env: {
          PATH: path,
          AUTHENTICODE_PFX: pki.pfx,
          AUTHENTICODE_PASSWORD: "not-the-password",
          AUTHENTICODE_TIMESTAMP_URLS: pki.tsaUrl,
        },
      });
      assertEquals(wrong.code, 1, wrong.stderr);
      assert(wrong.stderr.includes("could not sign"), wrong.stderr);
      assertEquals(await Deno.readFile(file), before, "the file was changed");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
