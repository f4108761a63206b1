/**
 * The `worker-agent` command tree (interfaces.md section 1). {@linkcode runCli} parses the
 * arguments, runs one command and returns its exit code; errors are thrown to `main.ts`,
 * which turns them into exit codes in one place.
 *
 * @module
 */
import { Command, Option } from "@commander-js/extra-typings";
import { checkLogFile } from "../config/config_paths.ts";
import { loadConfig, type LoadConfigOptions } from "../config/load_config.ts";
import type { AgentConfig } from "../config/schema.ts";
import { createLogger, LOG_LEVELS } from "../log/logger.ts";
import { type CliIo, processCliIo } from "./cli_io.ts";
import { doctorCommand } from "./doctor.ts";
import { initCommand, shellQuote } from "./init_command.ts";
import {
  agentPermissionFlags,
  agentRuntimeFlags,
  formatPermissionFlags,
} from "../permissions/permission_flags.ts";
import { moveConfigFlagsLast, rewriteLegacyFlags } from "./legacy_flags.ts";
import { serviceCommand } from "./service_command.ts";
import { narrowPermissionsForRun } from "./start_permissions.ts";
import { serviceSourceNote } from "./service_source_note.ts";
import { agentCompileFlags, compileOs } from "../build/compile_flags.ts";
import { describeRevokeReport } from "../permissions/revoke_permissions.ts";
import { statusCommand } from "./status_command.ts";
import { probeStateDirLock, StateDirLockedError } from "../state/state_dir.ts";
import { UsageError } from "../shared/usage_error.ts";
import type { RunAgentOptions } from "../agent/run_agent.ts";
import { versionLine } from "./version_line.ts";

/** The agent runtime's entry (contract: `src/agent/run_agent.ts`). */
export type RunAgent = (options: RunAgentOptions) => Promise<number>;

/** Options of {@linkcode runCli}. */
export interface RunCliOptions {
  /** Terminal and environment. @default {processCliIo()} */
  io?: CliIo;
  /** The agent runtime. @default {runAgent from src/agent/run_agent.ts, loaded on demand} */
  runAgent?: RunAgent;
}

const CONFIG_HELP = "config file (default: FTL_CONFIG, else the OS default path)";

/**
 * Parses `argv` (without the program name), runs the command and returns its exit code.
 * Throws `ConfigError`, `UsageError`, `CommanderError` and runtime errors for `main.ts`.
 */
export async function runCli(
  argv: readonly string[],
  options: RunCliOptions = {},
): Promise<number> {
  const io = options.io ?? processCliIo();
  let exitCode = 0;
  const loadOptions = (
    opts: {
      config?: string;
      logLevel?: string;
      stateDir?: string;
      apiKey?: string;
      baseUrl?: string;
    },
  ): LoadConfigOptions => {
    const flags: LoadConfigOptions["flags"] = {};
    if (opts.apiKey !== undefined) flags.apiKey = opts.apiKey;
    if (opts.baseUrl !== undefined) flags.baseUrl = opts.baseUrl;
    if (opts.logLevel !== undefined) flags.logLevel = opts.logLevel;
    if (opts.stateDir !== undefined) flags.stateDir = opts.stateDir;
    return { ...(opts.config !== undefined ? { path: opts.config } : {}), flags };
  };
  const warnTo = (warnings: string[]) => {
    for (const warning of warnings) io.stderr(`warning: ${warning}\n`);
  };

  const program = new Command()
    .name("worker-agent")
    .description(
      "Connects this machine to FineTuneLab: reports metrics and runs the commands your local config allows.",
    )
    .version(versionLine(), "-V, --version", "print the version line")
    .helpOption("-h, --help", "show help")
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
    })
    .addHelpText(
      "after",
      `
Start here:
  worker-agent init            write a commented config and enter your wak_ key
  worker-agent doctor          check config, network, clock and key
  worker-agent run             run in the foreground (Ctrl-C stops)

Exit codes: 0 clean stop, 1 runtime failure, 2 usage or config error, 75 restart requested.
The legacy single-dash flags -init, -config P and -version still work.`,
    );

  const configOption = () => new Option("-c, --config <path>", CONFIG_HELP);
  const logLevelOption = () =>
    new Option("--log-level <level>", "override log_level (FTL_LOG_LEVEL)").choices(LOG_LEVELS);
  const stateDirOption = () =>
    new Option("--state-dir <dir>", "override state_dir (FTL_STATE_DIR)");

  program.command("init")
    .description("write a commented config file (mode 0600) for this machine")
    .addOption(configOption())
    .option("--api-key <key>", "worker key (else FTL_API_KEY, else asked on the terminal, hidden)")
    .option("--base-url <url>", "control plane URL (default https://app.finetunelab.ai)")
    .option("-f, --force", "replace an existing config file")
    .addHelpText(
      "after",
      `
Examples:
  worker-agent init                                  # asks for the key, hidden
  worker-agent init --config ./agent.yaml --base-url http://127.0.0.1:8080
  FTL_API_KEY=wak_... worker-agent init --force      # non-interactive, replaces the file`,
    )
    .action(async (opts) => {
      exitCode = await initCommand({
        ...(opts.config !== undefined ? { config: opts.config } : {}),
        ...(opts.apiKey !== undefined ? { apiKey: opts.apiKey } : {}),
        ...(opts.baseUrl !== undefined ? { baseUrl: opts.baseUrl } : {}),
        force: opts.force === true,
      }, io);
    });

  program.command("run", { isDefault: true })
    .description("run the agent in the foreground until SIGINT/SIGTERM (the default command)")
    .addOption(configOption())
    .addOption(logLevelOption())
    .addOption(stateDirOption())
    .addHelpText(
      "after",
      `
Examples:
  worker-agent run
  worker-agent run --config ./agent.yaml --log-level debug
  deno run $(worker-agent permissions) main.ts run     # under the narrowest permissions

Ctrl-C (or SIGTERM) drains running commands and stops; a second Ctrl-C stops at once.`,
    )
    .action(async (opts) => {
      const loaded = await loadConfig(loadOptions(opts));
      const { config } = loaded;
      // A log_file that cannot be opened is a config error (exit 2), not a raw OS error.
      await checkLogFile(config.log_file);
      const logger = createLogger({
        level: config.log_level,
        format: config.log_format,
        file: config.log_file,
      });
      for (const warning of loaded.warnings) logger.warn(warning);
      if (config.log_file !== "") io.stderr(`worker-agent: logging to ${config.log_file}\n`);
      // Checks that the config's hosts and paths are granted, then drops what the running
      // agent does not need (docs/security.md).
      const narrowed = describeRevokeReport(narrowPermissionsForRun(config, loaded.path));
      // A second agent on the same state dir gets the clear one-line refusal (exit 2) here;
      // runAgent's own lock still decides a race between two starts.
      const lock = await probeStateDirLock(config.state_dir);
      if (lock.locked) throw new StateDirLockedError(config.state_dir, lock.pid);
      const runAgent = options.runAgent ?? await loadRunAgent();
      exitCode = await runAgent({
        config,
        configPath: loaded.path,
        logger,
        permissionsNarrowed: narrowed,
      });
    });

  program.command("status")
    .description("show what the running (or last) agent reported in its state dir")
    .addOption(configOption())
    .addOption(stateDirOption())
    .option("--json", "print JSON for scripts")
    .addHelpText(
      "after",
      `
Examples:
  worker-agent status
  worker-agent status --json | jq .status.state

Exit code 0 when a status was found, 1 when no agent has run with this state dir yet.`,
    )
    .action(async (opts) => {
      const loaded = await loadConfig(loadOptions(opts));
      warnTo(loaded.warnings);
      exitCode = await statusCommand(
        { stateDir: loaded.config.state_dir, json: opts.json === true },
        io,
      );
    });

  program.command("doctor")
    .description("check config, key format, DNS, TCP, TLS, clock skew, key, WebSocket and proxy")
    .addOption(configOption())
    .option("--timeout <seconds>", "time limit of each network check", "5")
    .addHelpText(
      "after",
      `
Examples:
  worker-agent doctor
  worker-agent doctor --config ./agent.yaml

One line per check (✓ passed, ✗ failed with a hint, - skipped); exit code 1 if any failed.
The key check makes a real register call, which is idempotent for a key.`,
    )
    .action(async (opts) => {
      const seconds = Number(opts.timeout);
      exitCode = await doctorCommand({
        load: loadOptions(opts),
        env: io.env,
        timeoutMs: Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 5000,
      }, io);
    });

  program.command("permissions")
    .description("print the narrowest `deno run` permission flags this config needs")
    .addOption(configOption())
    .option("--json", "print the flags as a JSON array")
    .option("--compiled", "print the flags release binaries are compiled with on this OS instead")
    .addHelpText(
      "after",
      `
Examples:
  worker-agent permissions
  deno run $(worker-agent permissions) main.ts run
  worker-agent permissions --compiled      # what a release binary holds (docs/security.md)`,
    )
    .action(async (opts) => {
      if (opts.compiled) {
        const flags = agentCompileFlags(compileOs(Deno.build.os));
        io.stdout(opts.json ? `${JSON.stringify(flags)}\n` : `${formatPermissionFlags(flags)}\n`);
        return;
      }
      const loaded = await loadConfig(loadOptions(opts));
      warnTo(loaded.warnings);
      const flags = [...agentPermissionFlags(loaded.config, loaded.path), ...agentRuntimeFlags()];
      io.stdout(opts.json ? `${JSON.stringify(flags)}\n` : `${formatPermissionFlags(flags)}\n`);
    });

  const service = program.command("service")
    .description("per-user service: systemd user unit, LaunchAgent or logon task (no admin rights)")
    .addHelpText(
      "after",
      `
Examples:
  worker-agent service install --dry-run     # print the unit and the commands only
  worker-agent service install               # Linux: systemctl --user enable --now
  worker-agent service status
  worker-agent service uninstall`,
    );
  for (const action of ["install", "uninstall", "status"] as const) {
    service.command(action)
      .description(`${action} the per-user service`)
      .addOption(configOption())
      .option("--dry-run", "print what would be written and run, change nothing")
      .action(async (opts) => {
        const loaded = await loadConfig(loadOptions(opts));
        warnTo(loaded.warnings);
        const command = serviceRunCommand(loaded.config, loaded.path);
        const note = serviceSourceNote(command);
        exitCode = await serviceCommand(action, {
          env: io.env,
          dryRun: opts.dryRun === true,
          ...(note ? { note } : {}),
          spec: {
            command,
            workingDir: loaded.config.state_dir,
            ...(loaded.config.log_file ? { logFile: loaded.config.log_file } : {}),
          },
        }, io);
      });
  }

  program.command("version")
    .description("print `worker-agent <semver> (deno <ver>, <os>-<arch>)`")
    .addHelpText("after", "\nExample:\n  worker-agent version")
    .action(() => {
      io.stdout(`${versionLine()}\n`);
    });

  const words = moveConfigFlagsLast(rewriteLegacyFlags(argv));
  const first = words[0];
  if (first !== undefined && !first.startsWith("-")) {
    const known = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
    if (!known.includes(first) && first !== "help") {
      throw new UsageError(
        `unknown command '${first}'; the commands are ${
          known.join(", ")
        } (see worker-agent --help)`,
      );
    }
  }
  await program.parseAsync(words, { from: "user" });
  return exitCode;
}

/**
 * What a service runs: a compiled agent runs itself; under `deno` the entry script is run
 * with the narrowest permission flags.
 */
export function serviceRunCommand(config: AgentConfig, configPath: string): string[] {
  const exec = Deno.execPath();
  const base = exec.replace(/^.*[\\/]/, "").toLowerCase();
  if (base === "deno" || base === "deno.exe") {
    const main = new URL("../../main.ts", import.meta.url);
    const mainPath = main.protocol === "file:" ? decodeURIComponent(main.pathname) : main.href;
    return [
      exec,
      "run",
      ...agentPermissionFlags(config, configPath),
      ...agentRuntimeFlags(),
      mainPath,
      "run",
      "--config",
      configPath,
    ];
  }
  return [exec, "run", "--config", configPath];
}

async function loadRunAgent(): Promise<RunAgent> {
  // Loaded on demand: the other commands start without loading the runtime.
  const mod = await import("../agent/run_agent.ts");
  return mod.runAgent;
}

/** `--config P` words for messages (quoted for a shell). */
export function configFlagText(path: string | undefined): string {
  return path === undefined ? "" : ` --config ${shellQuote(path)}`;
}
