/**
 * The doorbell between control-plane instances over one database: "a command was created for
 * W", "a session of W opened here", "key revoked", "worker deleted". The database stays the
 * truth: an event lost on the way only delays a push until the next heartbeat or sweep.
 *
 * @module
 */

/** What one instance tells the others. */
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
  publish(_event: ClusterEvent): void {}
  subscribe(_handler: (event: ClusterEvent) => void): void {}
  ready(): boolean {
    return true;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
