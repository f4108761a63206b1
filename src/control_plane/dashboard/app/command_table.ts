/**
 * A table of commands with their results inline: output, error and `error_code`, and the
 * result's `data` folded away (bounded JSON). Used by the worker view and the Commands view.
 *
 * @module
 */
import type { CommandView, WorkerView } from "../../admin_api.ts";
import { badge } from "./badges.ts";
import { h } from "./dom.ts";
import { formatAgo, formatMs, formatTime, shortId, toMs } from "./format.ts";
import { workerHash } from "./router.ts";
import { formatJson, isObject, num, record, text, type Untrusted } from "./untrusted.ts";

/** Options of {@linkcode commandTable}. */
export interface CommandTableOptions {
  /** id of the table element. */
  id: string;
  /** Add a Worker column. */
  showWorker: boolean;
  /** Shown instead of an empty table. */
  empty: string;
  /** The server's current time, for ages. */
  now: number;
  /** Hostnames of known workers, for the Worker column. */
  hostnames?: ReadonlyMap<string, string>;
}

/** The commands, newest first, as a table (or the `empty` text). */
export function commandTable(
  commands: readonly Untrusted<CommandView>[],
  options: CommandTableOptions,
): HTMLElement {
  if (commands.length === 0) return h("p", { class: "muted empty" }, options.empty);
  const sorted = [...commands].sort((a, b) =>
    (toMs(b.created_at) ?? 0) - (toMs(a.created_at) ?? 0)
  );
  const headers = options.showWorker
    ? ["Created", "Worker", "Command", "Status", "Result"]
    : ["Created", "Command", "Status", "Result"];
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "data commands", id: options.id },
      h(
        "thead",
        null,
        h("tr", null, headers.map((label) => h("th", { attrs: { scope: "col" } }, label))),
      ),
      h("tbody", null, sorted.map((command) => commandRow(command, options))),
    ),
  );
}

function workerCell(workerId: unknown, hostnames?: ReadonlyMap<string, string>): HTMLElement {
  const id = text(workerId);
  return h(
    "td",
    null,
    h("a", { href: workerHash(id) }, hostnames?.get(id) ?? shortId(id)),
    h("div", { class: "muted small mono", title: id }, shortId(id)),
  );
}

function commandRow(command: Untrusted<CommandView>, options: CommandTableOptions): HTMLElement {
  const id = text(command.command_id);
  const result = record<Record<string, unknown>>(command.result) ?? {};
  const status = command.status ?? result.status;
  const pieces: HTMLElement[] = [];
  if (result.output !== undefined && result.output !== null && result.output !== "") {
    pieces.push(h("pre", { class: "output" }, text(result.output)));
  }
  if (result.error !== undefined && result.error !== null && result.error !== "") {
    const code = result.error_code ? ` (${text(result.error_code)})` : "";
    pieces.push(h("div", { class: "error" }, text(result.error) + code));
  } else if (result.error_code) {
    pieces.push(h("div", { class: "error" }, text(result.error_code)));
  }
  if (isObject(result.data) && Object.keys(result.data).length > 0) {
    pieces.push(
      h(
        "details",
        null,
        h("summary", null, "data"),
        h("pre", { class: "json" }, formatJson(result.data)),
      ),
    );
  }
  const params = isObject(command.params) && Object.keys(command.params).length > 0
    ? h(
      "div",
      { class: "muted small mono" },
      formatJson(command.params, { indent: 0, maxChars: 500 }),
    )
    : null;
  const delivered = num(command.delivery_count);
  const started = num(result.started_at);
  const finished = num(result.finished_at);
  const took = started !== undefined && finished !== undefined && finished >= started
    ? `took ${formatMs(finished - started)}`
    : null;
  return h(
    "tr",
    { dataset: { commandId: id, status: text(status) } },
    h("td", { title: formatTime(command.created_at) }, formatAgo(command.created_at, options.now)),
    options.showWorker ? workerCell(command.worker_id, options.hostnames) : null,
    h(
      "td",
      null,
      h("div", { class: "mono" }, text(command.command_type)),
      h("div", { class: "muted small mono", title: id }, shortId(id)),
      params,
    ),
    h(
      "td",
      null,
      badge(status),
      delivered !== undefined && delivered > 0
        ? h("div", { class: "muted small" }, `delivered ×${delivered}`)
        : null,
      took ? h("div", { class: "muted small" }, took) : null,
    ),
    h("td", { class: "result" }, pieces.length > 0 ? pieces : h("span", { class: "muted" }, "—")),
  );
}

/** Hostnames by worker id, from a list of workers. */
export function hostnamesOf(workers: readonly Untrusted<WorkerView>[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const worker of workers) {
    if (typeof worker.worker_id === "string") map.set(worker.worker_id, text(worker.hostname));
  }
  return map;
}
