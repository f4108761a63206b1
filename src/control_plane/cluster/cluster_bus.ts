/**
 * The doorbell between control-plane instances: "a command was created for worker W", "a
 * session of W opened here", "a key was revoked", "a worker was deleted". The database stays
 * the truth; an event only tells the instance holding a socket to look now instead of at the
 * next heartbeat. A single instance uses {@linkcode LocalBus}; several use the NATS bus
 * (`nats_bus.ts`).
 *
 * @module
 */

/** An event one instance tells the others about. */
export type ClusterEvent =
  | { kind: "command_created"; worker_id: string; command_id: string }
  | { kind: "session_opened"; worker_id: string; session_id: string }
  | { kind: "key_revoked"; key_id: string }
  | { kind: "worker_deleted"; worker_id: string };

/** A doorbell between control-plane instances. The database stays the truth. */
export interface ClusterBus {
  /** Fire-and-forget; never throws, never blocks on the network. */
  publish(event: ClusterEvent): void;
  /** Events published by OTHER instances (own events are not delivered back). */
  subscribe(handler: (event: ClusterEvent) => void): void;
  /** For /readyz: true when no bus is configured or the bus is connected. */
  ready(): boolean;
  close(): Promise<void>;
}

/** The single-instance bus: publish is a no-op, ready() is true. */
export class LocalBus implements ClusterBus {
  /** Nothing to tell: there is no other instance. */
  publish(_event: ClusterEvent): void {}
  /** No other instance publishes, so the handler is never called. */
  subscribe(_handler: (event: ClusterEvent) => void): void {}
  /** Always ready. */
  ready(): boolean {
    return true;
  }
  /** Nothing to close. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
