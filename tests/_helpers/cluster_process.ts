/**
 * Several real control-plane processes over one fresh PostgreSQL database and one NATS, with
 * the TCP balancer (scripts/tcp_balancer.ts) in front, for scale-out end-to-end tests. Every
 * instance hands out the balancer's address as `websocket_url` (`--public-url`), so an agent
 * that reconnects goes through the balancer like a real fleet behind a load balancer.
 *
 * @example
 * ```ts
 * await using cluster = await startCluster({ natsUrl: testNatsUrl() });
 * const [a, b] = cluster.instances;
 * ```
 */
import { startTcpBalancer, type TcpBalancer } from "../../scripts/tcp_balancer.ts";
import { type ControlPlaneProcess, startControlPlane } from "./control_plane_process.ts";
import { type FreshDatabase, freshDatabase } from "./test_services.ts";
import { freePort } from "./wait_for.ts";

/** Options of {@linkcode startCluster}. */
export interface StartClusterOptions {
  /** NATS between the instances; none = polling only. */
  natsUrl?: string;
  /** PostgreSQL server to make the fresh database on. @default {testDatabaseUrl()} */
  databaseServerUrl?: string;
  /** How many instances. @default {2} */
  count?: number;
  /** Extra arguments for every instance. @default [] */
  args?: string[];
}

/** A running cluster. */
export interface Cluster {
  readonly database: FreshDatabase;
  readonly instances: ControlPlaneProcess[];
  readonly balancer: TcpBalancer;
  /** The balancer's `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Stops the instances and the balancer, drops the database. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts `count` instances (the first alone, so it creates the schema), then the balancer. */
export async function startCluster(options: StartClusterOptions = {}): Promise<Cluster> {
  const database = await freshDatabase(options.databaseServerUrl);
  const balancerPort = freePort();
  const args = [
    "--database-url",
    database.url,
    ...(options.natsUrl ? ["--nats-url", options.natsUrl] : []),
    "--public-url",
    `http://127.0.0.1:${balancerPort}`,
    "--max-connections-per-address",
    "0",
    ...(options.args ?? []),
  ];
  const instances: ControlPlaneProcess[] = [];
  let balancer: TcpBalancer | undefined;
  const stop = async () => {
    await balancer?.close();
    await Promise.allSettled(instances.map((i) => i.stop()));
    await database.drop();
  };
  try {
    instances.push(await startControlPlane({ args }));
    const rest = await Promise.allSettled(
      Array.from({ length: (options.count ?? 2) - 1 }, () => startControlPlane({ args })),
    );
    for (const r of rest) if (r.status === "fulfilled") instances.push(r.value);
    const failed = rest.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
    balancer = startTcpBalancer({
      port: balancerPort,
      backends: instances.map((i) => ({ hostname: "127.0.0.1", port: i.port })),
    });
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
  return {
    database,
    instances,
    balancer,
    url: balancer.url,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
