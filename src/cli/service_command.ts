/**
 * `worker-agent service install|uninstall|status`: a per-user service that starts the agent
 * at login. Linux uses `systemctl --user`; macOS `launchctl bootstrap gui/<uid>` (not the
 * deprecated `load -w`); Windows `schtasks`. With `--dry-run` the definition and the
 * commands are printed and nothing is changed.
 *
 * @module
 */
import { defaultStateDir } from "../platform/paths.ts";
import type { CliIo } from "./cli_io.ts";
import {
  LAUNCH_AGENT_LABEL,
  launchAgentPlist,
  SERVICE_NAME,
  type ServiceSpec,
  systemdUnit,
  WINDOWS_TASK_NAME,
  windowsTaskXml,
} from "./service_definitions.ts";
import { UsageError } from "../shared/usage_error.ts";

/** Service actions. */
export type ServiceAction = "install" | "uninstall" | "status";

/** Where the definition lives and which commands manage it, for one OS. */
export interface ServicePlan {
  /** Path of the definition file. */
  file: string;
  /** Text of the definition (install only). */
  text: string;
  /** Commands to run, in order. */
  commands: string[][];
  /**
   * Commands run first whose failure is expected and ignored (macOS: `bootout` of a
   * LaunchAgent that is not loaded). @default {[]}
   */
  prepare?: string[][];
}

/** Options of {@linkcode planService}. */
export interface PlanServiceOptions {
  /** The OS. @default {Deno.build.os} */
  os?: typeof Deno.build.os;
  /** Environment lookup (HOME, XDG_CONFIG_HOME, APPDATA, LOCALAPPDATA). */
  env: (name: string) => string | undefined;
  /** What the service runs (install). */
  spec: ServiceSpec;
  /** The user id for `launchctl` domains (macOS). @default {Deno.uid()} */
  uid?: number;
}

/** Works out the file and the commands of `action` without doing anything. */
export function planService(action: ServiceAction, options: PlanServiceOptions): ServicePlan {
  const os = options.os ?? Deno.build.os;
  const home = options.env("HOME") ?? options.env("USERPROFILE") ?? "";
  if (os === "darwin") {
    const file = `${home}/Library/LaunchAgents/${LAUNCH_AGENT_LABEL}.plist`;
    const domain = `gui/${options.uid ?? Deno.uid() ?? 0}`;
    const service = `${domain}/${LAUNCH_AGENT_LABEL}`;
    const text = launchAgentPlist(options.spec);
    if (action === "install") {
      // bootout first, so that a second install replaces the loaded definition.
      return {
        file,
        text,
        prepare: [["launchctl", "bootout", service]],
        commands: [["launchctl", "enable", service], ["launchctl", "bootstrap", domain, file]],
      };
    }
    const commands = action === "uninstall"
      ? [["launchctl", "bootout", service]]
      : [["launchctl", "print", service]];
    return { file, text, commands };
  }
  if (os === "windows") {
    const file = `${defaultStateDir({ os, env: options.env })}\\${SERVICE_NAME}.xml`;
    const commands = action === "install"
      ? [["schtasks", "/Create", "/TN", WINDOWS_TASK_NAME, "/XML", file, "/F"], [
        "schtasks",
        "/Run",
        "/TN",
        WINDOWS_TASK_NAME,
      ]]
      : action === "uninstall"
      ? [["schtasks", "/End", "/TN", WINDOWS_TASK_NAME], [
        "schtasks",
        "/Delete",
        "/TN",
        WINDOWS_TASK_NAME,
        "/F",
      ]]
      : [["schtasks", "/Query", "/TN", WINDOWS_TASK_NAME, "/V", "/FO", "LIST"]];
    return { file, text: windowsTaskXml(options.spec), commands };
  }
  const configHome = options.env("XDG_CONFIG_HOME") || `${home}/.config`;
  const file = `${configHome}/systemd/user/${SERVICE_NAME}.service`;
  const unit = `${SERVICE_NAME}.service`;
  const commands = action === "install"
    ? [["systemctl", "--user", "daemon-reload"], ["systemctl", "--user", "enable", "--now", unit]]
    : action === "uninstall"
    ? [["systemctl", "--user", "disable", "--now", unit], ["systemctl", "--user", "daemon-reload"]]
    : [["systemctl", "--user", "status", "--no-pager", unit]];
  return { file, text: systemdUnit(options.spec), commands };
}

/** Options of {@linkcode serviceCommand}. */
export interface ServiceCommandOptions extends PlanServiceOptions {
  /** Print instead of doing. @default {false} */
  dryRun?: boolean;
  /** Printed after installing (and in a dry run), e.g. what a source checkout bakes in. */
  note?: string;
}

/** Carries out `action`; returns the exit code. */
export async function serviceCommand(
  action: ServiceAction,
  options: ServiceCommandOptions,
  io: CliIo,
): Promise<number> {
  const plan = planService(action, options);
  const note = action === "install" && options.note ? `${options.note}\n` : "";
  if (options.dryRun) {
    if (action === "install") io.stdout(`# ${plan.file}\n${plan.text}\n`);
    if (action === "uninstall") io.stdout(`# remove ${plan.file}\n`);
    for (const command of plan.prepare ?? []) {
      io.stdout(`${command.join(" ")}    # may fail: nothing loaded yet\n`);
    }
    for (const command of plan.commands) io.stdout(`${command.join(" ")}\n`);
    if (note) io.stdout(note);
    return 0;
  }
  if (action === "install") {
    await Deno.mkdir(dirname(plan.file), { recursive: true, mode: 0o700 });
    const text = (options.os ?? Deno.build.os) === "windows" ? `\ufeff${plan.text}` : plan.text;
    await Deno.writeTextFile(plan.file, text, { mode: 0o600 });
    io.stdout(`wrote ${plan.file}\n`);
  }
  for (const command of plan.prepare ?? []) await runManager(command, { stdout() {}, stderr() {} });
  let failed = false;
  for (const command of plan.commands) {
    const ok = await runManager(command, io);
    if (!ok && action !== "uninstall") {
      failed = true;
      io.stderr(
        `hint: \`${command.join(" ")}\` failed; the definition is at ${plan.file}. ` +
          "Run the command again from your own login session (on Linux without a user session, " +
          "`loginctl enable-linger $USER` first).\n",
      );
      break;
    }
  }
  if (action === "uninstall") {
    await Deno.remove(plan.file).catch(() => {});
    io.stdout(`removed ${plan.file}\n`);
  }
  if (note) io.stdout(note);
  return failed ? 1 : 0;
}

async function runManager(
  command: string[],
  io: Pick<CliIo, "stdout" | "stderr">,
): Promise<boolean> {
  const [program, ...args] = command;
  if (!program) return true;
  try {
    const output = await new Deno.Command(program, { args, stdout: "piped", stderr: "piped" })
      .output();
    const decoder = new TextDecoder();
    io.stdout(decoder.decode(output.stdout));
    if (!output.success) io.stderr(decoder.decode(output.stderr));
    return output.success;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new UsageError(
        `${program} is not available on this machine; run \`worker-agent service install --dry-run\` and set the service up by hand`,
      );
    }
    throw error;
  }
}

function dirname(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i > 0 ? path.slice(0, i) : ".";
}
