/**
 * Text of the per-user service definitions: a systemd user unit (Linux), a LaunchAgent
 * plist (macOS) and a Task Scheduler logon task (Windows). Pure functions, so every OS's
 * text can be generated and tested anywhere.
 *
 * @module
 */

/** Service name used by every OS. */
export const SERVICE_NAME = "finetunelab-worker-agent";
/** LaunchAgent label (macOS). */
export const LAUNCH_AGENT_LABEL = "ai.finetunelab.worker-agent";
/** Task name (Windows). */
export const WINDOWS_TASK_NAME = "FineTuneLab Worker Agent";

/** What a service runs. */
export interface ServiceSpec {
  /** Program and arguments, e.g. `["/usr/local/bin/worker-agent", "run", "--config", P]`. */
  command: string[];
  /** Working directory. */
  workingDir: string;
  /** Log file for stdout/stderr where the OS service manager does not capture them. */
  logFile?: string;
}

/**
 * Sandboxing directives of the systemd user unit (and of the unit the .deb installs). Only
 * those that work in a per-user service manager without user namespaces: they are seccomp
 * and prctl based. Left out on purpose: `MemoryDenyWriteExecute` (V8's JIT writes code),
 * and `ProtectSystem`/`ProtectHome`/`PrivateTmp`, which need unprivileged user namespaces in
 * user units and would also confine the trading workload, which runs in the same unit.
 */
export const SYSTEMD_SANDBOX_DIRECTIVES: readonly string[] = [
  "NoNewPrivileges=yes",
  "LockPersonality=yes",
  "RestrictRealtime=yes",
  "RestrictSUIDSGID=yes",
  "RestrictNamespaces=yes",
  "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
  "SystemCallArchitectures=native",
  "SystemCallFilter=@system-service",
  "SystemCallErrorNumber=EPERM",
  "UMask=0077",
];

/**
 * A systemd user unit. Exit 75 (restart requested) and crashes restart the agent; exit 2
 * (config error) does not, so a bad config does not loop.
 */
export function systemdUnit(spec: ServiceSpec): string {
  return `[Unit]
Description=FineTuneLab worker agent
Documentation=https://github.com/finetunelab/worker-agent
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart=${spec.command.map(systemdQuote).join(" ")}
WorkingDirectory=${systemdQuote(spec.workingDir)}
Restart=always
RestartSec=5
RestartPreventExitStatus=2
KillSignal=SIGTERM
TimeoutStopSec=60
${SYSTEMD_SANDBOX_DIRECTIVES.join("\n")}

[Install]
WantedBy=default.target
`;
}

/** A LaunchAgent plist that starts at login and restarts on exit (except clean exit 0). */
export function launchAgentPlist(spec: ServiceSpec): string {
  const args = spec.command.map((a) => `    <string>${xmlEscape(a)}</string>`).join("\n");
  const log = spec.logFile
    ? `  <key>StandardOutPath</key>\n  <string>${
      xmlEscape(spec.logFile)
    }</string>\n  <key>StandardErrorPath</key>\n  <string>${xmlEscape(spec.logFile)}</string>\n`
    : "";
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>${LAUNCH_AGENT_LABEL}</string>
  <key>ProgramArguments</key>
  <array>
${args}
  </array>
  <key>WorkingDirectory</key>
  <string>${xmlEscape(spec.workingDir)}</string>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <dict>
    <key>SuccessfulExit</key>
    <false/>
  </dict>
  <key>ThrottleInterval</key>
  <integer>5</integer>
${log}</dict>
</plist>
`;
}

/** A Task Scheduler task (XML for `schtasks /Create /XML`) that starts at logon, no admin rights. */
export function windowsTaskXml(spec: ServiceSpec): string {
  const [program = "", ...args] = spec.command;
  return `<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>FineTuneLab worker agent</Description>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Enabled>true</Enabled>
    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>999</Count>
    </RestartOnFailure>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>${xmlEscape(program)}</Command>
      <Arguments>${xmlEscape(args.map(windowsQuote).join(" "))}</Arguments>
      <WorkingDirectory>${xmlEscape(spec.workingDir)}</WorkingDirectory>
    </Exec>
  </Actions>
</Task>
`;
}

/** Quotes one systemd `ExecStart` word when it needs it. */
export function systemdQuote(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/%/g, "%%")}"`;
}

function windowsQuote(value: string): string {
  return /[\s"]/.test(value) ? `"${value.replace(/"/g, '\\"')}"` : value;
}

function xmlEscape(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}
