/**
 * A private nats-server (JetStream on, store in a temp dir) on a free loopback port, for tests
 * that stop and restart NATS: they stop only this one, never the machine's. The server is
 * `src/demo/local_services.ts`'s, which `deno task fleet-demo` uses too.
 *
 * @example
 * ```ts
 * await using nats = await startPrivateNats();
 * await nats.stop();   // NATS down
 * await nats.start();  // back, same port
 * ```
 */
export {
  listening,
  type LocalNats as PrivateNats,
  natsServerBinary,
  startLocalNats as startPrivateNats,
} from "../../src/demo/local_services.ts";
