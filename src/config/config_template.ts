/**
 * The commented config file `worker-agent init` writes; `configs/config.example.yaml` is
 * this template rendered with an empty key (a test keeps the two identical).
 *
 * @module
 */
import { DEFAULT_BASE_URL } from "./schema.ts";

/** Options of {@linkcode renderConfigTemplate}. */
export interface ConfigTemplateOptions {
  /** The worker key; "" leaves a placeholder for the user to fill in. @default {""} */
  apiKey?: string;
  /** The control plane. @default {"https://app.finetunelab.ai"} */
  baseUrl?: string;
}

/** Renders the commented YAML config. Values are JSON-quoted, which is valid YAML. */
export function renderConfigTemplate(options: ConfigTemplateOptions = {}): string {
  const apiKey = JSON.stringify(options.apiKey ?? "");
  const baseUrl = JSON.stringify(options.baseUrl ?? DEFAULT_BASE_URL);
  return `# FineTuneLab worker agent configuration.
# Every key but api_key is optional; the values shown are the defaults.
# Reference: docs/configuration.md. Check this file with: worker-agent doctor
# Environment overrides: FTL_API_KEY, FTL_BASE_URL, FTL_LOG_LEVEL, FTL_STATE_DIR.

# Worker key from the FineTuneLab dashboard (Workers > API keys): wak_ + 32 letters/digits.
# Keep this file private (mode 0600); the key is never printed or logged.
api_key: ${apiKey}

# Control plane. https:// is required except for loopback hosts (127.0.0.1, localhost).
base_url: ${baseUrl}

# Name shown in the dashboard; empty means the system hostname.
hostname: ""

# Seconds between heartbeats (5-300) and between metric samples (1-300).
# The server may set other values within these bounds.
heartbeat_interval_seconds: 30
metrics_interval_seconds: 10

# Commands run at once, and the ceiling remote updates cannot pass (1-64).
max_concurrency: 1
max_concurrency_limit: 4

# Advertised to the server.
capabilities: [metrics, trading]

# Command types this machine executes; remove one to refuse it whatever the server says.
allowed_commands:
  - start_trading
  - stop_trading
  - update_config
  - restart_agent
  - collect_diagnostics
  - ping

# How commands are signed: hmac-sha256 (key derived from api_key), or ed25519 with the
# server's public key (base64 of the 32 raw bytes) pinned here.
command_signature: hmac-sha256
server_public_key: ""

# debug, info, warn or error; text or json lines; log_file "" logs to stderr, a path
# logs to that file, rotated at 10 MiB with 5 old files kept.
log_level: info
log_format: text
log_file: ""

# Machine state (worker id, seen command ids, offline spool, status.json).
# Empty means the OS default (Linux: ~/.local/state/finetunelab/worker-agent).
state_dir: ""

# Most MiB the state dir's result outbox and sample spool may use together, whatever the
# server does: the oldest samples are dropped (and counted) beyond; results are never dropped.
# (spool_max_mb, its old name, is still read.)
state_max_mb: 64

# Extra CA certificates (PEM) for a private control plane.
ca_file: ""

# Proxy URL such as http://proxy.example:3128; empty uses HTTPS_PROXY/NO_PROXY.
proxy: ""

# start_trading is refused while this is false.
trading_enabled: false

# The trading workload. Only this file decides what runs; no command can change it.
trading:
  # Program and arguments, e.g. ["python3", "bot.py"].
  command: []
  # Empty: the agent's working directory.
  working_dir: ""
  # Extra environment, e.g. {MODE: paper}.
  env: {}
  # Grace between the stop signal and a kill (1-600).
  stop_timeout_seconds: 10
  # Restart with backoff when it exits unexpectedly.
  restart_on_crash: false
`;
}
