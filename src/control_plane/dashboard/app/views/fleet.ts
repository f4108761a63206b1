/**
 * The fleet: summary tiles, and one page of the worker list with search, sort by any column
 * and server-side pages (`GET /api/workers?q=&sort=&cursor=`). It refetches the page when a
 * worker changes status, or a worker it shows sends a heartbeat (live events), at most once a
 * second; metrics of a worker that is offline or has not sent a heartbeat for 3 intervals are
 * dimmed, with their age.
 *
 * @module
 */
import {
  FLEET_SORT_KEYS,
  type FleetRow,
  type FleetSortKey,
  type FleetSummary,
  type LiveEvent,
  WORKER_STATUSES,
  type WorkerListResponse,
} from "../../../admin_api.ts";
import { badge, legacyMark, onlineDot, revokedMark } from "../badges.ts";
import { type AppContext, intervalMs, missedIntervals, type View } from "../context.ts";
import { byId, h, replace } from "../dom.ts";
import {
  formatAge,
  formatAgo,
  formatPercent,
  formatTime,
  idSuffix,
  NONE,
  toMs,
} from "../format.ts";
import { Refresher } from "../refresher.ts";
import type { Route } from "../router.ts";
import { workerHash } from "../router.ts";
import { num, record, records, text, type Untrusted } from "../untrusted.ts";

/** Rows per page. */
export const FLEET_PAGE_SIZE = 50;

/** Activity of workers not on screen refetches the page (for the counts) this often at most. */
const SUMMARY_REFRESH_MS = 5000;

/** The list order when the address names none. */
const DEFAULT_SORT = "hostname";

interface Column {
  key: FleetSortKey;
  label: string;
  /** Sorted descending first (numbers, times). */
  descendingFirst?: boolean;
  /** Hidden on narrow screens. */
  optional?: boolean;
}

const COLUMNS: readonly Column[] = [
  { key: "hostname", label: "Hostname" },
  { key: "worker_id", label: "ID" },
  { key: "key_name", label: "Key", optional: true },
  { key: "platform", label: "Platform", optional: true },
  { key: "version", label: "Version", optional: true },
  { key: "status", label: "Status" },
  { key: "last_seen", label: "Last seen", descendingFirst: true },
  { key: "cpu", label: "CPU", descendingFirst: true },
  { key: "memory", label: "Memory", descendingFirst: true },
  { key: "disk", label: "Disk", descendingFirst: true },
  { key: "trading", label: "Trading" },
];

type TileKey = "online" | "offline" | "trading" | "error";

const TILES: readonly { key: TileKey; label: string; filter: Record<string, string> }[] = [
  { key: "online", label: "Online", filter: { status: "online" } },
  { key: "offline", label: "Offline", filter: { status: "offline" } },
  { key: "trading", label: "Trading", filter: { trading: "running" } },
  { key: "error", label: "Error", filter: { status: "error" } },
];

/** The sort of the route's `sort=` parameter, or the default. */
function sortOf(params: URLSearchParams): { key: FleetSortKey; descending: boolean } {
  const raw = params.get("sort") ?? DEFAULT_SORT;
  const descending = raw.startsWith("-");
  const key = descending ? raw.slice(1) : raw;
  return (FLEET_SORT_KEYS as readonly string[]).includes(key)
    ? { key: key as FleetSortKey, descending }
    : { key: DEFAULT_SORT, descending: false };
}

/** Mounts the fleet view into `main`. */
export function mountFleet(main: HTMLElement, ctx: AppContext, initial: Route): View {
  let route = initial;
  /** Cursors of the pages before the current one; the current page's cursor is last. */
  let cursors: string[] = [""];
  let nextCursor: string | null = null;
  let rows: Untrusted<FleetRow>[] = [];
  let visible = new Set<string>();
  let lastLoad = 0;

  const search = h("input", {
    id: "fleet-search",
    type: "search",
    placeholder: "Search hostname, id or key",
    autocomplete: "off",
    spellcheck: false,
    value: route.params.get("q") ?? "",
  });
  const statusFilter = h(
    "select",
    { id: "status-filter" },
    h("option", { value: "" }, "any status"),
    WORKER_STATUSES.map((s) => h("option", { value: s }, s)),
  );
  statusFilter.value = route.params.get("status") ?? "";
  const rangeText = h("span", {
    id: "fleet-range",
    class: "muted small",
    attrs: { "aria-live": "polite" },
  });
  const tiles = h("div", {
    class: "tiles",
    attrs: { role: "group", "aria-label": "Fleet summary; choose one to filter" },
  });
  const tbody = h("tbody", { id: "worker-rows" });
  const headRow = h("tr");
  const caption = h("caption", { class: "sr-only" });
  const empty = h("p", { id: "workers-empty", class: "empty", hidden: true });
  const prev = h("button", { type: "button", id: "page-prev", class: "small" }, "← Previous");
  const next = h("button", { type: "button", id: "page-next", class: "small" }, "Next →");

  const section = h(
    "section",
    { id: "workers-view", class: "fleet-view", attrs: { "aria-labelledby": "fleet-title" } },
    h("div", { class: "view-head" }, h("h1", { id: "fleet-title", tabIndex: -1 }, "Fleet")),
    tiles,
    h(
      "div",
      { class: "card list-card" },
      h(
        "div",
        { class: "toolbar" },
        h("label", { class: "search" }, h("span", { class: "sr-only" }, "Search workers"), search),
        h("label", { class: "inline" }, "Status", statusFilter),
        rangeText,
      ),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "fleet", id: "fleet-table" },
          caption,
          h("thead", null, headRow),
          tbody,
        ),
      ),
      empty,
      h("nav", { class: "pager", attrs: { "aria-label": "Pages" } }, prev, next),
    ),
  );
  replace(main, section);

  const refresher = new Refresher(load, {
    minIntervalMs: 1000,
    onError: (error) => ctx.banner(`Could not load the workers: ${(error as Error).message}`),
  });

  function setParams(change: Record<string, string | null>): void {
    const params = new URLSearchParams(route.params);
    for (const [name, value] of Object.entries(change)) {
      if (value === null || value === "") params.delete(name);
      else params.set(name, value);
    }
    ctx.replaceRoute({ view: "fleet", params });
  }

  let searchTimer: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => setParams({ q: search.value.trim() }), 250);
  });
  statusFilter.addEventListener(
    "change",
    () => setParams({ status: statusFilter.value, trading: null }),
  );
  prev.addEventListener("click", () => {
    if (cursors.length > 1) cursors.pop();
    refresher.run();
  });
  next.addEventListener("click", () => {
    if (nextCursor !== null) cursors.push(nextCursor);
    refresher.run();
  });

  function renderHead(): void {
    const sort = sortOf(route.params);
    replace(
      headRow,
      COLUMNS.map((column) => {
        const active = sort.key === column.key;
        const direction = active ? (sort.descending ? "descending" : "ascending") : "none";
        const button = h(
          "button",
          { type: "button", class: "sort", dataset: { sort: column.key } },
          column.label,
          h(
            "span",
            { class: "arrow", attrs: { "aria-hidden": "true" } },
            active ? (sort.descending ? "▼" : "▲") : "↕",
          ),
        );
        button.addEventListener("click", () => {
          const descending = active ? !sort.descending : column.descendingFirst === true;
          setParams({ sort: `${descending ? "-" : ""}${column.key}` });
        });
        return h("th", {
          class: column.optional ? "optional" : "",
          attrs: { scope: "col", "aria-sort": direction },
        }, button);
      }),
    );
    const label = COLUMNS.find((c) => c.key === sort.key)?.label ?? sort.key;
    caption.textContent = `Workers, sorted by ${label}, ${
      sort.descending ? "descending" : "ascending"
    }`;
  }

  function renderTiles(summary: Untrusted<FleetSummary> | undefined): void {
    const active = route.params.get("trading") === "running"
      ? "trading"
      : (route.params.get("status") ?? "");
    replace(
      tiles,
      TILES.map((tile) => {
        const pressed = active === tile.key;
        const button = h(
          "button",
          {
            type: "button",
            class: `tile tile-${tile.key}`,
            dataset: { tile: tile.key },
            attrs: { "aria-pressed": pressed },
          },
          h("span", { class: "tile-count" }, text(num(summary?.[tile.key]), NONE)),
          h("span", { class: "tile-label" }, tile.label),
        );
        button.addEventListener(
          "click",
          () =>
            setParams(
              pressed
                ? { status: null, trading: null }
                : { status: null, trading: null, ...tile.filter },
            ),
        );
        return button;
      }),
      h(
        "div",
        { class: "tile tile-total", attrs: { "aria-label": "All workers" } },
        h("span", { class: "tile-count" }, text(num(summary?.total), NONE)),
        h("span", { class: "tile-label" }, "Workers"),
      ),
    );
  }

  function metricCell(value: unknown, stale: string | undefined): HTMLElement {
    const n = num(value);
    const fill = h("div", { class: "bar-fill" });
    if (n !== undefined) {
      const clamped = Math.max(0, Math.min(100, n));
      fill.style.width = `${clamped.toFixed(1)}%`;
      if (clamped >= 90) fill.classList.add("hot");
      else if (clamped >= 70) fill.classList.add("warm");
    }
    return h(
      "td",
      { class: `num${stale ? " stale" : ""}`, title: stale ?? "" },
      h("span", null, formatPercent(n, 0)),
      n === undefined ? null : h("div", { class: "bar", attrs: { "aria-hidden": "true" } }, fill),
    );
  }

  /** Why a row's metrics are stale ("offline, as of 5 min ago"), or undefined when fresh. */
  function staleness(row: Untrusted<FleetRow>, now: number): string | undefined {
    const seen = toMs(row.last_heartbeat);
    const limit = missedIntervals(ctx.session) *
      intervalMs(ctx.session, "heartbeat_interval_seconds");
    const age = seen === undefined ? undefined : now - seen;
    if (row.is_online !== true) {
      return `Offline: last reported ${age === undefined ? "never" : `${formatAge(age)} ago`}`;
    }
    if (age === undefined || age > limit) {
      return `No heartbeat for ${age === undefined ? "ever" : formatAge(age)}: values are old`;
    }
    return undefined;
  }

  function renderRows(): void {
    const now = ctx.api.now();
    const focusedId = (document.activeElement as HTMLElement | null)?.closest?.("tr")?.dataset
      .workerId;
    visible = new Set();
    replace(
      tbody,
      rows.map((row) => {
        const id = text(row.worker_id);
        visible.add(id);
        const stale = staleness(row, now);
        const link = h(
          "a",
          { href: workerHash(id), class: "worker-link" },
          text(row.hostname, "(no hostname)"),
        );
        const tr = h(
          "tr",
          { dataset: { workerId: id, stale: stale ? "true" : "false" } },
          h(
            "td",
            null,
            h(
              "div",
              { class: "worker-name" },
              onlineDot(row.is_online === true),
              link,
              legacyMark(row),
            ),
          ),
          h("td", { class: "mono", title: id }, idSuffix(id)),
          h(
            "td",
            { class: "optional" },
            text(row.key_name, NONE),
            " ",
            revokedMark(row.key_active, row.key_revoked_at),
          ),
          h("td", { class: "optional" }, text(row.platform, NONE)),
          h("td", { class: "optional mono" }, text(row.version, NONE)),
          h("td", null, badge(row.status, "status")),
          h(
            "td",
            { title: formatTime(row.last_heartbeat), class: "nowrap" },
            formatAgo(row.last_heartbeat, now),
          ),
          metricCell(row.cpu_percent, stale),
          metricCell(row.memory_percent, stale),
          metricCell(row.disk_percent, stale),
          h(
            "td",
            { class: stale ? "stale" : "", title: stale ?? "" },
            row.trading_status === null ? NONE : badge(row.trading_status, "trading"),
          ),
        );
        return tr;
      }),
    );
    if (focusedId) {
      tbody.querySelector<HTMLAnchorElement>(`tr[data-worker-id="${CSS.escape(focusedId)}"] a`)
        ?.focus();
    }
  }

  async function load(signal: AbortSignal): Promise<void> {
    const query = new URLSearchParams({ limit: String(FLEET_PAGE_SIZE) });
    const sort = sortOf(route.params);
    query.set("sort", `${sort.descending ? "-" : ""}${sort.key}`);
    for (const name of ["q", "status", "trading"]) {
      const value = route.params.get(name);
      if (value) query.set(name, value);
    }
    const cursor = cursors.at(-1);
    if (cursor) query.set("cursor", cursor);
    const body = await ctx.api.get<WorkerListResponse>(`/api/workers?${query}`, { signal });
    if (signal.aborted) return;
    rows = records<FleetRow>(body.workers);
    nextCursor = typeof body.next_cursor === "string" ? body.next_cursor : null;
    const total = num(body.total) ?? rows.length;
    renderRows();
    renderTiles(record<FleetSummary>(body.summary));
    const first = (cursors.length - 1) * FLEET_PAGE_SIZE;
    rangeText.textContent = total === 0
      ? "no workers"
      : `${(first + 1).toLocaleString()}–${
        (first + rows.length).toLocaleString()
      } of ${total.toLocaleString()}`;
    empty.hidden = rows.length > 0;
    empty.textContent =
      route.params.get("q") || route.params.get("status") || route.params.get("trading")
        ? "No worker matches."
        : "No workers yet. Create an API key, put it in an agent's config and start the agent.";
    prev.disabled = cursors.length <= 1;
    next.disabled = nextCursor === null;
    section.dataset.loaded = "true";
    section.dataset.sorted = query.get("sort") ?? "";
    lastLoad = Date.now();
  }

  renderHead();
  renderTiles(undefined);
  void refresher.run();

  return {
    onEvent(event: LiveEvent) {
      if (event.type === "worker" || event.type === "key") refresher.request();
      else if (event.type === "activity") {
        // Rows on screen follow their heartbeats; the counts of the rest, every few seconds.
        const shown = event.all || event.worker_ids.some((id) => visible.has(id));
        if (shown || Date.now() - lastLoad > SUMMARY_REFRESH_MS) refresher.request();
      }
    },
    refresh: () => refresher.request(),
    update(next: Route) {
      if (next.view !== "fleet") return false;
      route = next;
      cursors = [""];
      if (
        search.value.trim() !== (route.params.get("q") ?? "") && document.activeElement !== search
      ) {
        search.value = route.params.get("q") ?? "";
      }
      statusFilter.value = route.params.get("status") ?? "";
      renderHead();
      void refresher.run();
      return true;
    },
    tick: () => renderRows(),
    unmount() {
      clearTimeout(searchTimer);
      refresher.dispose();
    },
  };
}

/** Focus target of the view after navigation. */
export function fleetHeading(): HTMLElement {
  return byId("fleet-title");
}
