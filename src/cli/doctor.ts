/**
 * `worker-agent doctor`: one ✓/✗ line per check with a hint, from config to WebSocket.
 * Checks that depend on an earlier one (TLS on TCP, the WebSocket on registration) are
 * skipped with a note when it failed.
 *
 * @module
 */
import { loadConfig, type LoadConfigOptions } from "../config/load_config.ts";
import { ConfigError } from "../config/config_error.ts";
import type { AgentConfig } from "../config/schema.ts";
import { isLoopbackHost } from "../protocol/loopback.ts";
import { withTimeout } from "../shared/timeout.ts";
import { redactSecrets } from "../protocol/api_key.ts";
import { CLOCK_SKEW_MS } from "../protocol/constants.ts";
import { networkHint, notFoundHint } from "../client/diagnose.ts";
import { describePermissionError } from "../platform/permission_error.ts";
import { createAgentFetch } from "../client/http_fetch.ts";
import { openWorkerSocket } from "../client/worker_socket.ts";
import { registrationBody } from "../client/registration_body.ts";
import { WorkerClient } from "../client/worker_client.ts";
import { loadOrCreateInstanceId, probeStateDirLock } from "../state/state_dir.ts";
import type { CheckResult } from "./check_result.ts";
import type { CliIo } from "./cli_io.ts";
import { proxyInUse } from "./proxy_in_use.ts";
import { permissionChecks } from "./effective_permissions.ts";
import { readStatusReport } from "./status_command.ts";

/** Options of {@linkcode runDoctor}. */
export interface DoctorOptions {
  /** How to load the config. */
  load: LoadConfigOptions;
  /** Time limit of each network check in ms. @default {5000} */
  timeoutMs?: number;
  /** Clock. @default {Date.now} */
  now?: () => number;
  /** Environment lookup (proxy variables). */
  env: (name: string) => string | undefined;
}

/** Runs every check in order and returns the results. */
export async function runDoctor(options: DoctorOptions): Promise<CheckResult[]> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const results: CheckResult[] = [];
  let config: AgentConfig;
  let configPath: string;
  try {
    const loaded = await loadConfig(options.load);
    config = loaded.config;
    configPath = loaded.path;
    const warn = loaded.warnings.length ? ` (${loaded.warnings.length} warning(s) below)` : "";
    results.push({ name: "config", ok: true, detail: `${loaded.path} is valid${warn}` });
    for (const warning of loaded.warnings) {
      results.push({ name: "config warning", ok: true, detail: warning, warning: true });
    }
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    results.push({
      name: "config",
      ok: false,
      detail: error.message.replace(/; fix: .*$/, "").replace(/^config error in /, ""),
      hint: error.fix,
    });
    results.push({ name: "remaining checks", ok: null, detail: "skipped until the config loads" });
    return results;
  }

  results.push({
    name: "key format",
    ok: true,
    detail: "wak_ + 32 letters and digits (the key itself is never shown)",
  });
  const base = new URL(config.base_url);
  results.push(
    base.protocol === "https:"
      ? { name: "base_url scheme", ok: true, detail: `https (${base.origin})` }
      : {
        name: "base_url scheme",
        ok: true,
        detail: `http on loopback host ${base.hostname} (local testing only)`,
      },
  );

  const proxy = proxyInUse(config, options.env);
  results.push({
    name: "proxy",
    ok: true,
    detail: proxy ? `${redactSecrets(proxy.url)} (from ${proxy.source})` : "none",
  });

  // With a proxy the agent itself never connects to base_url: check the path to the proxy.
  const target = proxy ? new URL(proxy.url) : base;
  const host = target.hostname.replace(/^\[|\]$/g, "");
  const port = Number(target.port || (target.protocol === "https:" ? 443 : 80));
  const via = proxy ? " (proxy)" : "";

  const dns = await checkDns(host, timeoutMs);
  results.push({ ...dns, name: `DNS${via}` });
  const tcp = dns.ok ? await checkTcp(host, port, timeoutMs) : skipped("TCP", "DNS failed");
  results.push({ ...tcp, name: `TCP${via}` });

  if (base.protocol !== "https:") {
    results.push({ name: "TLS", ok: true, detail: "not used (plain http on loopback)" });
  } else if (proxy) {
    results.push({
      name: "TLS",
      ok: null,
      detail: "checked end to end by the register call through the proxy",
    });
  } else {
    results.push(
      tcp.ok ? await checkTls(host, port, config.ca_file, timeoutMs) : skipped("TLS", "TCP failed"),
    );
  }

  // A running agent holds the key's session: registering and opening a WebSocket beside it
  // would take the session from it. Report what it wrote instead.
  const lock = await probeStateDirLock(config.state_dir);
  if (lock.locked) {
    results.push(...(await runningAgentChecks(config.state_dir, lock.pid, options.now)));
    return results;
  }

  // doctor registers as this machine: with the state dir's instance id (v1.1), created with
  // the dir when there is none yet, so the control plane never takes doctor for a second one.
  let instanceId: string;
  try {
    instanceId = await loadOrCreateInstanceId(config.state_dir);
  } catch (error) {
    results.push({
      name: "state dir",
      ok: false,
      detail: `cannot use ${config.state_dir} (${errorText(error)})`,
      hint: "point state_dir at a directory the agent can write, or leave it empty",
    });
    results.push(skipped("key accepted", "the state dir failed"));
    return results;
  }

  const agentFetch = await createAgentFetch({ caFile: config.ca_file, proxy: config.proxy });
  try {
    const reg = await checkRegister(
      config,
      agentFetch.fetch,
      timeoutMs,
      options.now ?? Date.now,
      instanceId,
    );
    results.push(reg.clock, reg.auth);
    results.push(
      reg.websocketUrl === undefined
        ? skipped(
          "WebSocket",
          reg.auth.ok
            ? "the server offers no websocket_url: heartbeat polling only"
            : "the key was not accepted",
        )
        : await checkWebSocket(
          reg.websocketUrl,
          reg.workerId!,
          config.api_key,
          agentFetch.client,
          timeoutMs,
          instanceId,
        ),
    );
  } finally {
    agentFetch.close();
  }
  results.push(...permissionChecks(config, configPath));
  return results;
}

/**
 * The key and WebSocket checks while an agent runs with this state dir: taken from its
 * `status.json`, without a register call or a WebSocket of doctor's own.
 */
async function runningAgentChecks(
  stateDir: string,
  pid: number | undefined,
  now: (() => number) | undefined,
): Promise<CheckResult[]> {
  const report = await readStatusReport(stateDir).catch(() => undefined);
  const s = report?.status ?? null;
  const who = `the agent running with this state dir (pid ${pid ?? s?.pid ?? "?"})`;
  const note: CheckResult = {
    name: "running agent",
    ok: true,
    detail:
      `${who} holds the session; register and WebSocket checks are skipped so it is left alone, and taken from its status.json`,
  };
  if (s === null) {
    return [note, skipped("key accepted", `${who} has written no status yet`)];
  }
  const age = s.last_heartbeat_at === null
    ? "no heartbeat answered yet"
    : `last heartbeat answered ${
      Math.max(0, Math.round(((now ?? Date.now)() - s.last_heartbeat_at) / 1000))
    } s ago`;
  const key: CheckResult = s.state === "auth_failed" || s.state === "key_in_use"
    ? {
      name: "key accepted",
      ok: false,
      detail: `${who} reports ${s.state}: ${s.last_error ?? "no detail"}`,
      hint: s.state === "key_in_use"
        ? "another machine uses this key: stop the agent there, or create a key for each machine"
        : "the key is unknown or revoked: create a new one in the dashboard and set api_key",
    }
    : s.worker_id !== null && (s.state === "connected" || s.state === "draining")
    ? { name: "key accepted", ok: true, detail: `registered as ${s.worker_id}; ${age}` }
    : {
      name: "key accepted",
      ok: null,
      detail: `${who} is ${s.state}${s.last_error ? ` (last error: ${s.last_error})` : ""}`,
    };
  const websocket: CheckResult = s.websocket === "open"
    ? { name: "WebSocket", ok: true, detail: `open in ${who}` }
    : { name: "WebSocket", ok: null, detail: `${s.websocket} in ${who}` };
  return [note, key, websocket];
}

/**
 * Formats one result line: `✓ name: detail`, `! name: detail` (passed with a warning),
 * `✗ name: detail` and its hint, `- name: detail` (skipped).
 */
export function formatCheck(result: CheckResult): string {
  const mark = result.ok === true ? (result.warning ? "!" : "✓") : result.ok === false ? "✗" : "-";
  const hint = result.ok === false && result.hint ? `\n    hint: ${result.hint}` : "";
  return redactSecrets(`${mark} ${result.name}: ${result.detail}${hint}`);
}

/** Prints every check; exit code 1 when any failed. */
export async function doctorCommand(options: DoctorOptions, io: CliIo): Promise<number> {
  const results = await runDoctor(options);
  for (const result of results) io.stdout(formatCheck(result) + "\n");
  const failed = results.filter((r) => r.ok === false).length;
  io.stdout(failed === 0 ? "all checks passed\n" : `${failed} check(s) failed\n`);
  return failed === 0 ? 0 : 1;
}

function skipped(name: string, why: string): CheckResult {
  return { name, ok: null, detail: `skipped: ${why}` };
}

async function checkDns(host: string, timeoutMs: number): Promise<CheckResult> {
  if (/^[\d.]+$/.test(host) || host.includes(":")) {
    return { name: "DNS", ok: true, detail: `${host} is an IP address, no lookup needed` };
  }
  if (isLoopbackHost(host)) return { name: "DNS", ok: true, detail: `${host} is loopback` };
  const signal = AbortSignal.timeout(timeoutMs);
  const answers = await Promise.allSettled([
    Deno.resolveDns(host, "A", { signal }),
    Deno.resolveDns(host, "AAAA", { signal }),
  ]);
  const addresses = answers.flatMap((a) => (a.status === "fulfilled" ? a.value : []));
  if (addresses.length > 0) {
    return { name: "DNS", ok: true, detail: `${host} → ${addresses.slice(0, 3).join(", ")}` };
  }
  const reason =
    answers.map((a) => (a.status === "rejected" ? errorText(a.reason) : "no records"))[0];
  return {
    name: "DNS",
    ok: false,
    detail: `cannot resolve ${host} (${reason})`,
    hint: "check the host name in base_url and this machine's DNS settings (/etc/resolv.conf)",
  };
}

async function checkTcp(host: string, port: number, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  try {
    const conn = await withTimeout(
      Deno.connect({ hostname: host, port }),
      timeoutMs,
      { onLate: (c) => c.close() },
    );
    conn.close();
    return {
      name: "TCP",
      ok: true,
      detail: `connected to ${host}:${port} in ${Math.round(performance.now() - started)} ms`,
    };
  } catch (error) {
    return {
      name: "TCP",
      ok: false,
      detail: `cannot connect to ${host}:${port} (${errorText(error)})`,
      hint:
        "check that the control plane is running and reachable, and that no firewall blocks the port",
    };
  }
}

async function checkTls(
  host: string,
  port: number,
  caFile: string,
  timeoutMs: number,
): Promise<CheckResult> {
  try {
    const caCerts = caFile ? [await Deno.readTextFile(caFile)] : undefined;
    const conn = await withTimeout(
      Deno.connectTls({ hostname: host, port, ...(caCerts ? { caCerts } : {}) }),
      timeoutMs,
      { onLate: (c) => c.close() },
    );
    try {
      const info = await withTimeout(conn.handshake(), timeoutMs);
      return {
        name: "TLS",
        ok: true,
        detail: `handshake ok (ALPN ${info.alpnProtocol ?? "none"}${
          caFile ? `, CA from ${caFile}` : ""
        })`,
      };
    } finally {
      conn.close();
    }
  } catch (error) {
    const plainHttp = networkHint(errorText(error), new URL(`https://${host}:${port}`));
    return {
      name: "TLS",
      ok: false,
      detail: `handshake with ${host}:${port} failed (${errorText(error)})`,
      hint: plainHttp ??
        (caFile
          ? `check that ${caFile} holds the CA that signed the server's certificate`
          : "for a private control plane set ca_file to its CA certificate (PEM)"),
    };
  }
}

async function checkRegister(
  config: AgentConfig,
  fetchFn: typeof fetch,
  timeoutMs: number,
  now: () => number,
  instanceId: string,
): Promise<{ clock: CheckResult; auth: CheckResult; websocketUrl?: string; workerId?: string }> {
  const client = new WorkerClient({
    baseUrl: config.base_url,
    apiKey: config.api_key,
    fetch: fetchFn,
    now,
    timeoutMs,
  });
  // The agent's own body and instance id: the server must see doctor as this machine (v1.1).
  const outcome = await client.register(await registrationBody(config, instanceId));
  const skew = client.clockSkewMs;
  const clock: CheckResult = skew === undefined
    ? { name: "clock skew", ok: null, detail: "unknown: the server sent no server_time" }
    : Math.abs(skew) <= CLOCK_SKEW_MS / 2
    ? { name: "clock skew", ok: true, detail: `${formatSkew(skew)} against the server` }
    : {
      name: "clock skew",
      ok: false,
      detail: `${formatSkew(skew)} against the server (commands are refused beyond ±${
        CLOCK_SKEW_MS / 1000
      } s)`,
      hint: "synchronise this machine's clock (e.g. `timedatectl set-ntp true`)",
    };
  switch (outcome.kind) {
    case "ok": {
      const auth: CheckResult = {
        name: "key accepted",
        ok: true,
        detail: `registered as ${outcome.value.worker_id}`,
      };
      return {
        clock,
        auth,
        workerId: outcome.value.worker_id,
        ...(outcome.value.websocket_url ? { websocketUrl: outcome.value.websocket_url } : {}),
      };
    }
    case "auth":
      return {
        clock,
        auth: {
          name: "key accepted",
          ok: false,
          detail: `the server refused the key (HTTP ${outcome.status} ${outcome.code})`,
          hint: outcome.status === 403
            ? "the key lacks the worker scope: create a worker key in the dashboard"
            : "the key is unknown or revoked: create a new one in the dashboard and set api_key",
        },
      };
    case "key_in_use":
      return {
        clock,
        auth: {
          name: "key accepted",
          ok: false,
          detail: `the key is in use by ${
            outcome.holder.hostname === undefined
              ? "another machine"
              : `host "${outcome.holder.hostname}"`
          } (HTTP 409 key_in_use)`,
          hint:
            "stop the agent on that machine, or create a separate key for this one in the dashboard",
        },
      };
    default:
      return {
        clock,
        auth: {
          name: "key accepted",
          ok: false,
          detail: `register call failed: ${outcome.reason}`,
          hint: (outcome.kind === "not_found" ? notFoundHint(config.base_url) : undefined) ??
            "check base_url (it must point at the control plane) and the checks above",
        },
      };
  }
}

async function checkWebSocket(
  url: string,
  workerId: string,
  apiKey: string,
  client: Deno.HttpClient | undefined,
  timeoutMs: number,
  instanceId: string,
): Promise<CheckResult> {
  let socket: WebSocket;
  try {
    socket = openWorkerSocket({ url, apiKey, workerId, instanceId, client });
  } catch (error) {
    return {
      name: "WebSocket",
      ok: false,
      detail: `bad websocket_url ${url} (${errorText(error)})`,
      hint: "the server's public URL setting is wrong",
    };
  }
  const opened = await new Promise<string | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(`no answer in ${timeoutMs} ms`), timeoutMs);
    socket.onopen = () => {
      clearTimeout(timer);
      resolve(undefined);
    };
    socket.onerror = (event) => {
      clearTimeout(timer);
      resolve((event as ErrorEvent).message || "upgrade refused");
    };
  });
  const closed = new Promise<void>((resolve) => {
    if (socket.readyState === WebSocket.CLOSED) resolve();
    socket.onclose = () => resolve();
    setTimeout(resolve, timeoutMs);
  });
  try {
    socket.close(1000, "doctor");
  } catch {
    // Already closed.
  }
  await closed;
  return opened === undefined
    ? { name: "WebSocket", ok: true, detail: `upgrade to ${url} ok (opened and closed)` }
    : {
      name: "WebSocket",
      ok: false,
      detail: `upgrade to ${url} failed (${opened})`,
      hint:
        "a proxy or firewall may block WebSocket upgrades; the agent falls back to heartbeat polling",
    };
}

function formatSkew(ms: number): string {
  const sign = ms >= 0 ? "+" : "-";
  return `${sign}${(Math.abs(ms) / 1000).toFixed(1)} s`;
}

function errorText(error: unknown): string {
  return redactSecrets(
    describePermissionError(error) ?? (error instanceof Error ? error.message : String(error)),
  );
}
