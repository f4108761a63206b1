/**
 * Small marks shared by the views: status badges, the online dot, the legacy-agent mark and
 * the revoked-key mark.
 *
 * @module
 */
import type { FleetRow, WorkerView } from "../../admin_api.ts";
import { h } from "./dom.ts";
import { formatTime } from "./format.ts";
import type { Untrusted } from "./untrusted.ts";

const BADGE_KINDS: Readonly<Record<string, string>> = {
  online: "good",
  completed: "good",
  running: "good",
  active: "good",
  acked: "info",
  delivered: "info",
  starting: "info",
  pending: "warn",
  stopping: "warn",
  draining: "warn",
  error: "bad",
  failed: "bad",
  timeout: "bad",
  crashed: "bad",
  revoked: "bad",
  offline: "dim",
  stopped: "dim",
};

/** A badge for a status word; anything that is not a non-empty string shows as "unknown". */
export function badge(status: unknown, extraClass = ""): HTMLSpanElement {
  const value = typeof status === "string" && status !== "" ? status : "unknown";
  return h("span", {
    class: `badge ${BADGE_KINDS[value] ?? "dim"} ${extraClass}`.trim(),
    dataset: { status: value },
  }, value);
}

/** The online/offline dot, with its meaning for screen readers. */
export function onlineDot(online: boolean): HTMLSpanElement {
  return h("span", {
    class: `dot ${online ? "on" : "off"}`,
    title: online ? "online" : "offline",
    attrs: { role: "img", "aria-label": online ? "online" : "offline" },
  });
}

/** What a legacy worker is (protocol v1.1: registered without instance_id). */
export const LEGACY_NOTE = "FineTuneLab agent, no signature checks, at-most-once";

/** The mark of a worker running FineTuneLab's own agent, or null. */
export function legacyMark(worker: Untrusted<WorkerView>): HTMLSpanElement | null {
  return worker.legacy === true
    ? h(
      "span",
      { class: "badge warn legacy", title: LEGACY_NOTE, dataset: { legacy: "true" } },
      "FineTuneLab agent",
    )
    : null;
}

/** The mark of a worker whose key was revoked, or null. */
export function revokedMark(
  active: unknown,
  revokedAt: unknown,
): HTMLSpanElement | null {
  return active === false
    ? h("span", {
      class: "badge bad key-revoked",
      title: `The worker's key was revoked ${formatTime(revokedAt)}; it can no longer connect`,
      dataset: { keyRevoked: "true" },
    }, "key revoked")
    : null;
}

/** Whether a fleet row's key is revoked. */
export function rowKeyRevoked(row: Untrusted<FleetRow>): boolean {
  return row.key_active === false;
}
