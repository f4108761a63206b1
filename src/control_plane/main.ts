/**
 * The reference control plane's command line.
 *
 * ```
 * deno task control-plane [--hostname H] [--port P] [--data-dir D] [--public-url U] …
 * deno task control-plane keys create --name N [--scopes worker] [--data-dir D | --database-url U]
 * deno task control-plane keys signing-key --out F
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { createLogger, isLogLevel, type LogLevel } from "../log/logger.ts";
import {
  ed25519PublicKeyOf,
  generateEd25519KeyPair,
  importEd25519PrivateKey,
  redactSecrets,
} from "./_deps.ts";
import { resolveAdminToken } from "./admin_token.ts";
import type { SigningMode } from "./command_signer.ts";
import type { ConnectionLimits } from "./connection_limits.ts";
import { secureDataDir, secureDataFiles, tighten } from "./data_dir.ts";
import { randomId } from "./_random_id.ts";
import { KEY_SCOPES } from "./storage/records.ts";
import { connectPostgresStorage } from "./storage/postgres/pg_storage.ts";
import type { StorageEngine } from "./storage/repositories.ts";
import { DATABASE_FILE } from "./storage/sqlite/database.ts";
import { openSqliteStorage } from "./storage/sqlite/sqlite_storage.ts";
import type { ClusterBus } from "./cluster/cluster_bus.ts";
import { LocalBus } from "./cluster/cluster_bus.ts";
import { clusterOf, connectNatsBus } from "./cluster/nats_bus.ts";
import { redactUrl } from "./storage/redact_url.ts";
import type { Logger } from "../log/logger.ts";
import { serveControlPlane } from "./server.ts";
import { admissionCaps } from "./admission_gate.ts";
import { UsageError } from "../shared/usage_error.ts";

const USAGE = `Usage:
  control-plane [flags]                    serve the control plane
  control-plane keys create --name N [--scopes worker[,all]] [--data-dir D | --database-url U]
  control-plane keys signing-key --out F   write an Ed25519 signing key, print its public key

Flags:
  --hostname H              interface to bind (default 127.0.0.1)
  --port P                  port, 0 = any free one (default 8080)
  --data-dir D              holds control-plane.db and admin_token (default ./data)
  --database-url U          keep state in PostgreSQL (postgres://user:pass@host:5432/db)
                            instead of SQLite in --data-dir (else FTL_DATABASE_URL)
  --database-pool N         most PostgreSQL connections per instance (default 10)
  --nats-url U              connect to other instances over NATS (nats://host:4222)
                            (else FTL_NATS_URL); needs --database-url
  --public-url U            base of websocket_url (default: the listening http URL)
  --admin-token T           admin API token (else FTL_ADMIN_TOKEN, else generated once);
                            a command line shows in ps, so prefer FTL_ADMIN_TOKEN
  --signing-key F           sign commands with Ed25519 using this key file (default: HMAC)
  --heartbeat-interval S    heartbeat interval handed to agents (default 30)
  --metrics-interval S      metrics interval handed to agents (default 10)
  --rate-limit N            requests per second per key, 0 = off (default 20)
  --rate-burst N            burst per key (default 2 x rate)
  --ack-timeout S           re-send a command not acked within S seconds (default 30)
  --delivery-window S       deliver a command for S seconds after creation (default 600)
  --result-grace S          wait S seconds past timeout_seconds for a result (default 60)
  --ping-interval S         WebSocket ping interval (default 20)
  --frame-rate N            WebSocket frames per second per session before 4029 (default 50)
  --retention-days D        delete samples older than D days, 0 = keep (default 7;
                            --metrics-retention-days is the same flag)
  --worker-quota-mb N       stored samples per worker before 429, 0 = no quota (default 256)
  --header-timeout S        a request header must arrive within S seconds (default 10)
  --body-timeout S          a request body must arrive within S seconds (default 60)
  --body-min-rate B         after 10 s a body must average B bytes/s (default 1024)
  --idle-timeout S          close keep-alive connections idle for S seconds (default 30)
  --max-connections N       open client connections at most (default from the fd limit)
  --max-connections-per-address N   per client address, 0 = no cap (default max/8)
  --max-concurrent-registers N   registers handled at once, more get 503 + Retry-After
                            (else FTL_MAX_CONCURRENT_REGISTERS; default 64)
  --max-concurrent-upgrades N    WebSocket upgrades handled at once, the same way
                            (else FTL_MAX_CONCURRENT_UPGRADES; default 128)
  --sweep-interval S        how often timeouts/offline/redelivery are checked (default 1)
  --log-level L             debug|info|warn|error (default info)
  --log-format F            text|json (default text)
`;

/** Runs the command line; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        hostname: { type: "string" },
        port: { type: "string" },
        "data-dir": { type: "string" },
        "database-url": { type: "string" },
        "nats-url": { type: "string" },
        "database-pool": { type: "string" },
        "public-url": { type: "string" },
        "admin-token": { type: "string" },
        "signing-key": { type: "string" },
        "heartbeat-interval": { type: "string" },
        "metrics-interval": { type: "string" },
        "rate-limit": { type: "string" },
        "rate-burst": { type: "string" },
        "ack-timeout": { type: "string" },
        "delivery-window": { type: "string" },
        "result-grace": { type: "string" },
        "ping-interval": { type: "string" },
        "frame-rate": { type: "string" },
        "metrics-retention-days": { type: "string" },
        "retention-days": { type: "string" },
        "worker-quota-mb": { type: "string" },
        "header-timeout": { type: "string" },
        "body-timeout": { type: "string" },
        "body-min-rate": { type: "string" },
        "idle-timeout": { type: "string" },
        "max-connections": { type: "string" },
        "max-connections-per-address": { type: "string" },
        "max-concurrent-registers": { type: "string" },
        "max-concurrent-upgrades": { type: "string" },
        "sweep-interval": { type: "string" },
        "log-level": { type: "string" },
        "log-format": { type: "string" },
        name: { type: "string" },
        scopes: { type: "string" },
        out: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    console.error(`control-plane: ${(error as Error).message} (see --help)`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const dataDir = values["data-dir"] ?? "./data";
  try {
    const [group, action] = positionals;
    if (group === undefined) return await serve(values, dataDir);
    if (group === "keys" && action === "create") return await keysCreate(values, dataDir);
    if (group === "keys" && action === "signing-key") return await signingKey(values);
    throw new UsageError(`unknown command "${positionals.join(" ")}" (see --help)`);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`control-plane: ${error.message}`);
      return 2;
    }
    console.error(`control-plane: ${redactSecrets(String((error as Error)?.message ?? error))}`);
    return 1;
  }
}

type Values = Record<string, string | boolean | undefined>;

function seconds(values: Values, name: string, min = 0): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== "string" || raw.trim() === "" || !Number.isFinite(n) || n < min) {
    throw new UsageError(`--${name} must be a number >= ${min}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function integer(values: Values, name: string, min = 0): number | undefined {
  const n = seconds(values, name, min);
  if (n !== undefined && !Number.isInteger(n)) {
    throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(values[name])}`);
  }
  return n;
}

function ms(values: Values, name: string, min = 0): number | undefined {
  const s = seconds(values, name, min);
  return s === undefined ? undefined : Math.round(s * 1000);
}

function defined<T extends Record<string, unknown>>(
  object: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}

async function serve(values: Values, dataDir: string): Promise<number> {
  const level = (values["log-level"] as string | undefined) ?? "info";
  if (!isLogLevel(level)) throw new UsageError(`--log-level must be debug|info|warn|error`);
  const format = (values["log-format"] as string | undefined) ?? "text";
  if (format !== "text" && format !== "json") {
    throw new UsageError(`--log-format must be text|json`);
  }
  const logger = createLogger({ level: level as LogLevel, format });
  const port = seconds(values, "port", 0);
  if (port !== undefined && (!Number.isInteger(port) || port > 65535)) {
    throw new UsageError(`--port must be an integer 0-65535, got ${values.port}`);
  }
  const publicUrl = values["public-url"] as string | undefined;
  if (publicUrl !== undefined && !/^https?:\/\/[^/]+/.test(publicUrl)) {
    throw new UsageError(`--public-url must start with http:// or https://, got ${publicUrl}`);
  }
  let signing: SigningMode = { alg: "hmac-sha256" };
  const keyFile = values["signing-key"] as string | undefined;
  if (keyFile) {
    const privateKey = await importEd25519PrivateKey(await Deno.readTextFile(keyFile)).catch(
      (cause) => {
        throw new UsageError(
          `--signing-key ${keyFile} is not a key written by "keys signing-key" (${cause})`,
        );
      },
    );
    // The private key signs commands for every worker: owner-only, like the data dir.
    await tighten(keyFile, 0o600, (message, fields) => logger.warn(message, fields), "signing key");
    signing = { alg: "ed25519", privateKey };
    logger.info("signing commands with ed25519", {
      public_key: await ed25519PublicKeyOf(privateKey),
    });
  }
  const warn = (message: string, fields: Record<string, unknown>) => logger.warn(message, fields);
  const databaseUrl = databaseUrlOf(values);
  const natsUrl = natsUrlOf(values);
  if (natsUrl !== undefined && databaseUrl === undefined) {
    throw new UsageError(
      "--nats-url needs --database-url: instances share state through PostgreSQL, " +
        "NATS only rings between them",
    );
  }
  await secureDataDir(dataDir, warn);
  const instanceId = randomId("cp_", 12);
  const bus = natsUrl === undefined ? new LocalBus() : await connectBus(natsUrl, {
    instanceId,
    logger: logger.child({ component: "nats" }),
    databaseUrl: databaseUrl!,
  });
  const admin = await resolveAdminToken(dataDir, {
    flag: values["admin-token"] as string | undefined,
    env: Deno.env.get("FTL_ADMIN_TOKEN"),
  });
  // Listen for signals before announcing anything, so a stop right after "listening on"
  // is still graceful.
  const stop = Promise.withResolvers<Deno.Signal>();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const handlers = signals.map((signal) => {
    const handler = () => stop.resolve(signal);
    Deno.addSignalListener(signal, handler);
    return [signal, handler] as const;
  });
  const retentionDays = seconds(values, "retention-days", 0) ??
    seconds(values, "metrics-retention-days", 0);
  const quotaMb = seconds(values, "worker-quota-mb", 0);
  const connectionLimits: Partial<ConnectionLimits> = defined({
    headerTimeoutMs: ms(values, "header-timeout", 0.01),
    bodyMinBytesPerSecond: seconds(values, "body-min-rate", 1),
    idleTimeoutMs: ms(values, "idle-timeout", 0.01),
    maxConnections: integer(values, "max-connections", 1),
    maxConnectionsPerAddress: integer(values, "max-connections-per-address", 0),
  });
  const running = await serveControlPlane({
    dataDir,
    ...(databaseUrl === undefined ? {} : { databaseUrl }),
    ...defined({ databasePoolSize: integer(values, "database-pool", 1) }),
    bus,
    instanceId,
    logger,
    signing,
    adminToken: admin.token,
    connectionLimits,
    ...admissionCaps(values, (name) => Deno.env.get(name)),
    ...defined({
      hostname: values.hostname as string | undefined,
      port,
      publicUrl,
      heartbeatIntervalSeconds: seconds(values, "heartbeat-interval", 1),
      metricsIntervalSeconds: seconds(values, "metrics-interval", 1),
      rateLimitPerSecond: seconds(values, "rate-limit", 0),
      rateLimitBurst: seconds(values, "rate-burst", 1),
      ackTimeoutMs: ms(values, "ack-timeout", 0.01),
      deliveryWindowMs: ms(values, "delivery-window", 0.01),
      resultGraceMs: ms(values, "result-grace", 0),
      pingIntervalMs: ms(values, "ping-interval", 0.05),
      frameRatePerSecond: seconds(values, "frame-rate", 1),
      metricsRetentionMs: retentionDays === undefined ? undefined : retentionDays * 86_400_000,
      workerQuotaBytes: quotaMb === undefined ? undefined : Math.round(quotaMb * 1024 * 1024),
      bodyTimeoutMs: ms(values, "body-timeout", 0.01),
      sweepIntervalMs: ms(values, "sweep-interval", 0.01),
    }),
  });
  if (admin.source === "generated") {
    // Printed once, on first start; afterwards it is in <data-dir>/admin_token (0600).
    console.log(`admin token: ${admin.token} (stored in ${join(dataDir, "admin_token")})`);
  }
  console.log(`listening on ${running.url}`);
  const signal = await stop.promise;
  logger.info("shutting down", { signal });
  await running.shutdown();
  await bus.close().catch(() => {});
  for (const [s, handler] of handlers) Deno.removeSignalListener(s, handler);
  logger.info("stopped");
  return 0;
}

async function keysCreate(values: Values, dataDir: string): Promise<number> {
  const name = values.name as string | undefined;
  if (!name) throw new UsageError("keys create needs --name N");
  const scopes = ((values.scopes as string | undefined) ?? "worker").split(",").map((s) =>
    s.trim()
  );
  for (const scope of scopes) {
    if (!(KEY_SCOPES as readonly string[]).includes(scope)) {
      throw new UsageError(`--scopes: unknown scope "${scope}" (use ${KEY_SCOPES.join(", ")})`);
    }
  }
  const warn = (message: string, fields: Record<string, unknown>) =>
    console.error(`control-plane: ${message}: ${JSON.stringify(fields)}`);
  const databaseUrl = databaseUrlOf(values);
  let db: StorageEngine;
  if (databaseUrl !== undefined) {
    db = await connectPostgresStorage(databaseUrl);
  } else {
    await secureDataDir(dataDir, warn);
    await secureDataFiles(dataDir, warn); // SQLite gives -wal and -shm the database's mode
    db = openSqliteStorage(join(dataDir, DATABASE_FILE));
    await secureDataFiles(dataDir, warn);
  }
  try {
    const keys = db.open({
      now: Date.now,
      ids: {
        key: () => randomId("key_", 16),
        worker: () => randomId("wkr_", 24),
        command: () => crypto.randomUUID(),
      },
      timing: { deliveryWindowMs: 0, resultGraceMs: 0 },
    }).keys;
    const { record, key } = await keys.create(name, scopes);
    console.error(
      `created key ${record.id} "${record.name}" (prefix ${record.prefix}, scopes ${
        record.scopes.join(",")
      }); it is shown only once:`,
    );
    console.log(key);
    return 0;
  } finally {
    await db.close();
  }
}

/** `--database-url`, else `FTL_DATABASE_URL`; checked to be a PostgreSQL URL. */
function databaseUrlOf(values: Values): string | undefined {
  const raw = (values["database-url"] as string | undefined) ?? Deno.env.get("FTL_DATABASE_URL");
  if (raw === undefined || raw.trim() === "") return undefined;
  if (!/^postgres(ql)?:\/\/[^/]/.test(raw)) {
    throw new UsageError(
      `--database-url must be postgres://user:password@host:port/db, got ${redactUrl(raw)}`,
    );
  }
  return raw;
}

/** `--nats-url`, else `FTL_NATS_URL`; checked to be a NATS URL. */
function natsUrlOf(values: Values): string | undefined {
  const raw = (values["nats-url"] as string | undefined) ?? Deno.env.get("FTL_NATS_URL");
  if (raw === undefined || raw.trim() === "") return undefined;
  if (!/^(nats|tls):\/\/[^/]/.test(raw)) {
    throw new UsageError(`--nats-url must be nats://host:port, got ${redactUrl(raw)}`);
  }
  return raw;
}

/**
 * The NATS bus to the other instances: its subject is named after the database (instances
 * that share a database share a subject; two fleets on one NATS server never hear each
 * other). Waits at most a few seconds for NATS: past that the instance starts anyway, not
 * ready (`/readyz`), and commands reach agents by heartbeat polling until NATS answers.
 */
function connectBus(
  url: string,
  options: { instanceId: string; logger: Logger; databaseUrl: string },
): Promise<ClusterBus> {
  return connectNatsBus({
    url,
    instanceId: options.instanceId,
    logger: options.logger,
    cluster: clusterOf(options.databaseUrl),
  });
}

async function signingKey(values: Values): Promise<number> {
  const out = values.out as string | undefined;
  if (!out) throw new UsageError("keys signing-key needs --out F");
  const pair = await generateEd25519KeyPair();
  try {
    await Deno.writeTextFile(out, `${pair.pkcs8Base64}\n`, { mode: 0o600, createNew: true });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new UsageError(`${out} exists; refusing to overwrite a signing key`);
    }
    throw error;
  }
  await Deno.chmod(out, 0o600).catch(() => {});
  console.error(
    `wrote the Ed25519 signing key to ${out} (mode 0600). Pin this public key in ` +
      "each agent's config as server_public_key, with command_signature: ed25519:",
  );
  console.log(pair.publicKeyBase64);
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
