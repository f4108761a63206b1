/**
 * Commands across all workers, newest first, filtered by status and type; refetched when a
 * command changes (live events).
 *
 * @module
 */
import {
  COMMAND_STATUSES,
  type CommandListResponse,
  type CommandView,
  type LiveEvent,
  type WorkerListResponse,
} from "../../../admin_api.ts";
import { commandTable, hostnamesOf } from "../command_table.ts";
import type { AppContext, View } from "../context.ts";
import { h, replace } from "../dom.ts";
import { Refresher } from "../refresher.ts";
import type { Route } from "../router.ts";
import { records, text } from "../untrusted.ts";
import type { FleetRow } from "../../../admin_api.ts";

/** Commands shown at most. */
export const COMMAND_LIST_LIMIT = 100;

/** Mounts the Commands view into `main`. */
export function mountCommands(main: HTMLElement, ctx: AppContext, initial: Route): View {
  let route = initial;
  const statusFilter = h(
    "select",
    { id: "command-status-filter" },
    h("option", { value: "" }, "any status"),
    COMMAND_STATUSES.map((s) => h("option", { value: s }, s)),
  );
  const typeFilter = h(
    "select",
    { id: "command-type-filter" },
    h("option", { value: "" }, "any type"),
    ctx.catalog.map((e) => h("option", { value: text(e.command_type) }, text(e.command_type))),
  );
  const count = h("span", { id: "command-count", class: "count" });
  const list = h("div", { id: "all-commands" }, h("p", { class: "muted" }, "Loading…"));
  let hostnames = new Map<string, string>();

  function syncFilters(): void {
    statusFilter.value = route.params.get("status") ?? "";
    typeFilter.value = route.params.get("type") ?? "";
  }
  syncFilters();
  function onFilter(): void {
    const params = new URLSearchParams();
    if (statusFilter.value) params.set("status", statusFilter.value);
    if (typeFilter.value) params.set("type", typeFilter.value);
    ctx.replaceRoute({ view: "commands", params });
  }
  statusFilter.addEventListener("change", onFilter);
  typeFilter.addEventListener("change", onFilter);

  replace(
    main,
    h(
      "section",
      {
        id: "commands-view",
        class: "commands-view",
        attrs: { "aria-labelledby": "commands-title" },
      },
      h(
        "div",
        { class: "card" },
        h(
          "div",
          { class: "card-head" },
          h("h1", { id: "commands-title", tabIndex: -1 }, "Commands ", count),
          h(
            "div",
            { class: "filters" },
            h("label", { class: "inline" }, "Status", statusFilter),
            h("label", { class: "inline" }, "Type", typeFilter),
          ),
        ),
        h(
          "p",
          { class: "muted small" },
          `The latest ${COMMAND_LIST_LIMIT} commands across all workers, newest first. Send a command from a worker's page.`,
        ),
        list,
      ),
    ),
  );

  const refresher = new Refresher(async (signal) => {
    const query = new URLSearchParams({ limit: String(COMMAND_LIST_LIMIT) });
    const status = route.params.get("status");
    const type = route.params.get("type");
    if (status) query.set("status", status);
    if (type) query.set("type", type);
    const [body, workers] = await Promise.all([
      ctx.api.get<CommandListResponse>(`/api/workers/commands?${query}`, { signal }),
      hostnames.size === 0
        ? ctx.api.get<WorkerListResponse>("/api/workers?limit=1000&sort=hostname", { signal })
        : undefined,
    ]);
    if (signal.aborted) return;
    if (workers) hostnames = hostnamesOf(records<FleetRow>(workers.workers));
    const commands = records<CommandView>(body.commands);
    count.textContent = String(commands.length);
    replace(
      list,
      commandTable(commands, {
        id: "all-command-rows",
        showWorker: true,
        hostnames,
        now: ctx.api.now(),
        empty: status || type
          ? `No ${[status, type].filter(Boolean).join(" ")} commands.`
          : "No commands yet.",
      }),
    );
  }, {
    minIntervalMs: 300,
    onError: (e) => ctx.banner(`Could not load the commands: ${(e as Error).message}`),
  });
  void refresher.run();

  return {
    onEvent(event: LiveEvent) {
      if (event.type === "command") refresher.request();
    },
    refresh: () => refresher.request(),
    update(next: Route) {
      if (next.view !== "commands") return false;
      route = next;
      syncFilters();
      void refresher.run();
      return true;
    },
    tick: () => {},
    unmount: () => refresher.dispose(),
  };
}
