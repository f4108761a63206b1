/**
 * One machine per key (protocol 3.1, v1.1): while the key's worker is online, only the
 * instance that holds it may register or open the command channel.
 */
import { MISSED_HEARTBEATS_OFFLINE } from "./_deps.ts";
import { HttpError } from "./http_error.ts";
import type { WorkerHolder } from "./storage/records.ts";

/** Options of {@linkcode assertMayClaim}. */
export interface ClaimOptions {
  /** The current time in Unix ms. */
  now: number;
  /** The heartbeat interval handed to workers, in seconds. */
  heartbeatIntervalSeconds: number;
}

/**
 * Whether the holder counts as online: a heartbeat (or registration) within
 * {@linkcode MISSED_HEARTBEATS_OFFLINE} intervals and no `offline` heartbeat since. The same
 * window the sweeper uses to mark workers offline.
 */
export function holderIsOnline(holder: WorkerHolder, options: ClaimOptions): boolean {
  if (holder.status === "offline" || holder.last_heartbeat === null) return false;
  const windowMs = MISSED_HEARTBEATS_OFFLINE * options.heartbeatIntervalSeconds * 1000;
  return holder.last_heartbeat >= options.now - windowMs;
}

/**
 * Throws 409 `key_in_use` (with the holder's `hostname` and `last_heartbeat`) when
 * `instanceId` may not take the key held by `holder` now: the holder is online and is
 * another instance. Never refused: a request without `instanceId` (FineTuneLab's own agent
 * is not checked), a key nobody holds, and a holder without an instance id (a legacy agent,
 * or a worker registered before v1.1): there is no id to tell it apart from this machine,
 * and a legacy agent is not kept out by refusing others, so the first instance with an id
 * takes the key at once (an upgrade on the same machine is not refused for minutes).
 */
export function assertMayClaim(
  holder: WorkerHolder | undefined,
  instanceId: string | undefined,
  options: ClaimOptions,
): void {
  if (holder === undefined || instanceId === undefined || holder.instance_id === null) return;
  if (holder.instance_id === instanceId || !holderIsOnline(holder, options)) return;
  throw new HttpError(
    409,
    "key_in_use",
    `This API key is in use by ${JSON.stringify(holder.hostname)}, which is online; ` +
      "stop that agent (or give this machine its own key). Another instance takes over " +
      `${MISSED_HEARTBEATS_OFFLINE} heartbeat intervals after the holder's last heartbeat.`,
    { details: { hostname: holder.hostname, last_heartbeat: holder.last_heartbeat } },
  );
}
