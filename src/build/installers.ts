/**
 * Which installer each binary in a release folder gets, as commands: a .deb per Linux
 * binary (`installer/linux/build_deb.sh`), the NSIS installer for the Windows binary
 * (`installer/windows/worker-agent.nsi`, signed through `installer/sign/authenticode.sh`
 * when a certificate is in the environment) and a .pkg per macOS binary
 * (`installer/macos/build_pkg.sh`, a dry run when not on macOS).
 *
 * @module
 */
import { agentFileName, RELEASE_TARGETS } from "./targets.ts";

/** One installer build. */
export interface InstallerStep {
  /** The target it packages, e.g. `windows-x64`. */
  target: string;
  /** Program and arguments. */
  command: string[];
  /** Extra environment. */
  env?: Record<string, string>;
}

/** Options of {@linkcode planInstallers}. */
export interface PlanInstallersOptions {
  /** The release version. */
  version: string;
  /** Files present in the release folder. */
  files: readonly string[];
  /** The release folder (relative to the repository root). @default {"dist"} */
  dist?: string;
  /** The OS building them. @default {Deno.build.os} */
  os?: typeof Deno.build.os;
  /** Environment lookup (AUTHENTICODE_PFX, AUTHENTICODE_PFX_BASE64). */
  env: (name: string) => string | undefined;
  /** Only these OSes (`linux`, `darwin`, `windows`). @default all */
  only?: readonly string[];
}

/** The installer builds for the binaries in the release folder, in target order. */
export function planInstallers(options: PlanInstallersOptions): InstallerStep[] {
  const dist = options.dist ?? "dist";
  const os = options.os ?? Deno.build.os;
  const steps: InstallerStep[] = [];
  for (const target of RELEASE_TARGETS) {
    if (options.only && !options.only.includes(target.os)) continue;
    const file = binaryIn(options.files, agentFileName(target));
    if (file === undefined) continue;
    const unsigned = file.includes("-unsigned");
    if (target.os === "linux") {
      steps.push({
        target: target.name,
        command: [
          "sh",
          "installer/linux/build_deb.sh",
          "--binary",
          `${dist}/${file}`,
          "--version",
          options.version,
          "--arch",
          target.debArch!,
          "--out",
          dist,
        ],
      });
    } else if (target.os === "windows") {
      const sign = !unsigned &&
        (options.env("AUTHENTICODE_PFX") || options.env("AUTHENTICODE_PFX_BASE64"));
      const out = `${dist}/worker-agent-setup-${target.name}${sign ? "" : "-unsigned"}.exe`;
      steps.push({
        target: target.name,
        command: [
          "makensis",
          "-V2",
          "-WX",
          `-DVERSION=${options.version}`,
          `-DAGENT_EXE=${dist}/${file}`,
          `-DOUTFILE=${out}`,
          ...(sign ? ["-DSIGN_COMMAND=sh installer/sign/authenticode.sh"] : []),
          "installer/windows/worker-agent.nsi",
        ],
      });
    } else {
      steps.push({
        target: target.name,
        command: [
          "sh",
          "installer/macos/build_pkg.sh",
          "--binary",
          `${dist}/${file}`,
          "--version",
          options.version,
          "--arch",
          target.arch,
          "--out",
          dist,
          ...(os === "darwin" ? [] : ["--dry-run"]),
        ],
      });
    }
  }
  return steps;
}

/** `name` or its `-unsigned` variant, whichever the folder holds. */
function binaryIn(files: readonly string[], name: string): string | undefined {
  if (files.includes(name)) return name;
  const unsigned = name.replace(/(\.exe)?$/, "-unsigned$1");
  return files.includes(unsigned) ? unsigned : undefined;
}
