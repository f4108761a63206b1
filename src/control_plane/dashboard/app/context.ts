/**
 * What every view gets from the shell, and what the shell asks of a view.
 *
 * @module
 */
import type { CommandCatalogEntry, LiveEvent, SessionResponse } from "../../admin_api.ts";
import type { Api } from "./api.ts";
import type { Route } from "./router.ts";
import type { Untrusted } from "./untrusted.ts";

/** The shell's services. */
export interface AppContext {
  readonly api: Api;
  /** The signed-in session: intervals and limits of this control plane. */
  readonly session: Untrusted<SessionResponse>;
  /** The command types of this control plane, with their params schemas. */
  readonly catalog: readonly Untrusted<CommandCatalogEntry>[];
  /** Shows a message above the view. */
  banner(message: string, kind?: "error" | "info"): void;
  /** Changes the route's parameters without a new history entry (filters, sort, search). */
  replaceRoute(route: Route): void;
  /** Goes to another route. */
  navigate(hash: string): void;
}

/** A mounted view. */
export interface View {
  /** An event from the server. */
  onEvent(event: LiveEvent): void;
  /** The live stream reconnected: anything may have changed. */
  refresh(): void;
  /** The route changed but stays in this view; false asks for a fresh mount. */
  update(route: Route): boolean;
  /** Called every few seconds: ages and staleness move on without data. */
  tick(): void;
  /** Removed from the page. */
  unmount(): void;
}

/** An interval of `session` in ms, with a default for a server that sends none. */
export function intervalMs(
  session: Untrusted<SessionResponse>,
  name: "heartbeat_interval_seconds" | "metrics_interval_seconds",
): number {
  const value = session[name];
  const fallback = name === "heartbeat_interval_seconds" ? 30 : 10;
  return (typeof value === "number" && value > 0 ? value : fallback) * 1000;
}

/** How many missed intervals make a worker offline, and its metrics stale (protocol 3.2). */
export function missedIntervals(session: Untrusted<SessionResponse>): number {
  const value = session.missed_heartbeats_offline;
  return typeof value === "number" && value > 0 ? value : 3;
}
