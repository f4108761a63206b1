/**
 * One worker: its facts, charts of its history over a chosen range, its latest metrics, the
 * command form and its commands. Live events keep it current: a heartbeat or sample of this
 * worker refetches its facts and latest metrics (at most once a second) and its charts (at
 * most once per bucket, at least 5 s apart); a command event refetches its commands at once.
 * Metrics are dimmed, with their age, when the worker is offline or its last sample is older
 * than 3 intervals.
 *
 * @module
 */
import {
  COMMAND_STATUSES,
  type CommandListResponse,
  type CommandView,
  type LiveEvent,
  SERIES_RANGES,
  type SeriesRange,
  type SeriesResponse,
  type ShownSample,
  type WorkerDetailResponse,
  type WorkerKeyInfo,
  type WorkerView,
} from "../../../admin_api.ts";
import { workerPath } from "../api.ts";
import { badge, LEGACY_NOTE, legacyMark, onlineDot, revokedMark } from "../badges.ts";
import { chartModels, drawChart, type DrawnChart } from "../charts.ts";
import { CommandForm } from "../command_form.ts";
import { commandTable } from "../command_table.ts";
import { type AppContext, intervalMs, missedIntervals, type View } from "../context.ts";
import { confirmAction } from "../dialog.ts";
import { h, replace } from "../dom.ts";
import {
  fixed,
  formatAge,
  formatAgo,
  formatBytes,
  formatDuration,
  formatGb,
  formatMb,
  formatPair,
  formatPercent,
  formatRate,
  formatTime,
  NONE,
  percent,
  toMs,
} from "../format.ts";
import { Refresher } from "../refresher.ts";
import type { Route } from "../router.ts";
import { isObject, joinText, num, record, records, text, type Untrusted } from "../untrusted.ts";

const RANGE_LABELS: Record<SeriesRange, string> = {
  "15m": "15 min",
  "1h": "1 h",
  "24h": "24 h",
  "7d": "7 d",
};

/** The range shown when the address names none. */
export const DEFAULT_RANGE: SeriesRange = "1h";

function rangeOf(params: URLSearchParams): SeriesRange {
  const value = params.get("range");
  return value !== null && value in SERIES_RANGES ? value as SeriesRange : DEFAULT_RANGE;
}

/** Mounts worker `route.workerId`'s page into `main`. */
export function mountWorker(
  main: HTMLElement,
  ctx: AppContext,
  initial: Route & { view: "worker" },
): View {
  let route = initial;
  const workerId = initial.workerId;
  let worker: Untrusted<WorkerView> | undefined;
  let key: Untrusted<WorkerKeyInfo> | undefined;
  let latest: Untrusted<ShownSample> | undefined;
  let gone = false;
  let bucketMs = 0;
  let charts: DrawnChart[] = [];

  const info = h(
    "div",
    { id: "detail-info", class: "card" },
    h("p", { class: "muted" }, "Loading…"),
  );
  const chartsBox = h("div", { id: "charts", class: "charts" });
  const chartNote = h("span", {
    id: "charts-note",
    class: "muted small",
    attrs: { "aria-live": "polite" },
  });
  const rangeButtons = (Object.keys(SERIES_RANGES) as SeriesRange[]).map((range) => {
    const button = h(
      "button",
      { type: "button", class: "range", dataset: { range } },
      RANGE_LABELS[range],
    );
    button.addEventListener("click", () => {
      const params = new URLSearchParams(route.params);
      params.set("range", range);
      ctx.replaceRoute({ view: "worker", workerId, params });
    });
    return button;
  });
  const chartsCard = h(
    "div",
    { class: "card", id: "charts-card" },
    h(
      "div",
      { class: "card-head" },
      h("h2", null, "History"),
      chartNote,
      h(
        "div",
        { class: "segmented", attrs: { role: "group", "aria-label": "Time range" } },
        rangeButtons,
      ),
    ),
    chartsBox,
  );
  const metricsBox = h("div", { id: "detail-metrics" });
  const form = new CommandForm({
    api: ctx.api,
    workerId,
    catalog: ctx.catalog,
    onSent: () => commands.run(),
  });
  const statusFilter = h(
    "select",
    { id: "worker-command-status" },
    h("option", { value: "" }, "any status"),
    COMMAND_STATUSES.map((s) => h("option", { value: s }, s)),
  );
  const typeFilter = h(
    "select",
    { id: "worker-command-type" },
    h("option", { value: "" }, "any type"),
    ctx.catalog.map((e) => h("option", { value: text(e.command_type) }, text(e.command_type))),
  );
  const commandsBox = h("div", { id: "detail-commands" }, h("p", { class: "muted" }, "Loading…"));
  const formCard = h(
    "div",
    { class: "card", id: "command-card" },
    h("div", { class: "card-head" }, h("h2", null, "Send a command")),
    form.element,
  );
  const commandsCard = h(
    "div",
    { class: "card" },
    h(
      "div",
      { class: "card-head" },
      h("h2", null, "Commands"),
      h(
        "div",
        { class: "filters" },
        h("label", { class: "inline" }, "Status", statusFilter),
        h("label", { class: "inline" }, "Type", typeFilter),
      ),
    ),
    commandsBox,
  );
  const section = h(
    "section",
    { id: "worker-view", class: "worker-view", attrs: { "aria-label": "Worker" } },
    h("div", { class: "view-head" }, h("a", { href: "#/", class: "back" }, "← Fleet")),
    info,
    chartsCard,
    metricsBox,
    formCard,
    commandsCard,
  );
  replace(main, section);

  const onError = (what: string) => (error: unknown) => {
    if ((error as { status?: number }).status === 401) return;
    ctx.banner(`Could not load ${what}: ${(error as Error).message}`);
  };
  const detail = new Refresher(loadDetail, { minIntervalMs: 1000, onError: onError("the worker") });
  const series = new Refresher(loadSeries, { minIntervalMs: 5000, onError: onError("the charts") });
  const commands = new Refresher(loadCommands, { onError: onError("the commands") });
  statusFilter.addEventListener("change", () => commands.run());
  typeFilter.addEventListener("change", () => commands.run());
  const resizeObserver = new ResizeObserver(() => charts.forEach((c) => c.resize()));
  resizeObserver.observe(chartsBox);

  function showGone(): void {
    gone = true;
    replace(info, h("p", { class: "muted", id: "worker-gone" }, "This worker no longer exists."));
    for (const card of [chartsCard, metricsBox, formCard, commandsCard]) card.hidden = true;
  }

  async function loadDetail(signal: AbortSignal): Promise<void> {
    let body: Untrusted<WorkerDetailResponse>;
    try {
      body = await ctx.api.get<WorkerDetailResponse>(workerPath(workerId), { signal });
    } catch (error) {
      if ((error as { status?: number }).status === 404) return showGone();
      throw error;
    }
    worker = record<WorkerView>(body.worker) ?? {};
    key = record<WorkerKeyInfo>(body.key);
    latest = latestSample(records<ShownSample>(body.metrics));
    renderInfo();
    renderMetrics();
    form.setWorker({
      hostname: text(worker.hostname, workerId),
      online: worker.is_online === true,
      status: text(worker.status),
      keyRevoked: key?.active === false,
      legacy: worker.legacy === true,
      deliveryWindowMs: num(ctx.session.command_delivery_window_ms) ?? 600_000,
    });
    section.dataset.loaded = "true";
  }

  async function loadSeries(signal: AbortSignal): Promise<void> {
    if (gone) return;
    const range = rangeOf(route.params);
    rangeButtons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.range === range)));
    const started = performance.now();
    const body = await ctx.api.get<SeriesResponse>(
      `${workerPath(workerId)}/series?range=${range}`,
      { signal },
    );
    if (signal.aborted || rangeOf(route.params) !== range) return;
    bucketMs = num(body.bucket_ms) ?? 0;
    const t = Array.isArray(body.t) ? body.t.map((v) => num(v) ?? 0) : [];
    const models = chartModels(body);
    const span: [number, number] = [num(body.since) ?? 0, num(body.until) ?? ctx.api.now()];
    if (models.length === 0 || t.length === 0) {
      charts.forEach((c) => c.destroy());
      charts = [];
      replace(
        chartsBox,
        h(
          "p",
          { class: "muted empty", id: "charts-empty" },
          `No samples in the last ${RANGE_LABELS[range]}.`,
        ),
      );
    } else if (
      // New data for the same charts: in place, so the cursor and the legend stay.
      charts.length === models.length && models.every((m, i) => charts[i]!.update(m, t, span))
    ) {
      // updated
    } else {
      charts.forEach((c) => c.destroy());
      charts = models.map((model) =>
        drawChart(model, t, { syncKey: `worker-${workerId}`, range: span })
      );
      replace(chartsBox, charts.map((c) => c.element));
      charts.forEach((c) => c.resize());
    }
    const samples = num(body.samples) ?? 0;
    const bucket = bucketMs >= 60_000
      ? `${Math.round(bucketMs / 60_000)} min`
      : `${Math.round(bucketMs / 1000)} s`;
    chartNote.textContent = `${samples.toLocaleString()} samples, ${t.length} points of ${bucket}`;
    chartsCard.dataset.range = range;
    chartsCard.dataset.loadMs = String(Math.round(performance.now() - started));
    chartsCard.dataset.loaded = String(Date.now());
  }

  async function loadCommands(signal: AbortSignal): Promise<void> {
    if (gone) return;
    const query = new URLSearchParams({ worker_id: workerId, limit: "50" });
    if (statusFilter.value) query.set("status", statusFilter.value);
    if (typeFilter.value) query.set("type", typeFilter.value);
    const body = await ctx.api.get<CommandListResponse>(`/api/workers/commands?${query}`, {
      signal,
    });
    if (signal.aborted) return;
    const list = records<CommandView>(body.commands);
    replace(
      commandsBox,
      commandTable(list, {
        id: "command-rows",
        showWorker: false,
        now: ctx.api.now(),
        empty: statusFilter.value || typeFilter.value
          ? "No command matches."
          : "No commands sent to this worker yet.",
      }),
    );
  }

  /** Why the latest metrics are stale, or undefined. */
  function staleness(now: number): string | undefined {
    if (!worker) return undefined;
    const ts = toMs(latest?.ts) ?? toMs(worker.last_heartbeat);
    const age = ts === undefined ? undefined : now - ts;
    const ageText = age === undefined ? "" : `; last sample ${formatAge(age)} ago`;
    if (worker.is_online !== true) return `The worker is offline${ageText}.`;
    const interval = latest?.stream === "heartbeat" || latest === undefined
      ? intervalMs(ctx.session, "heartbeat_interval_seconds")
      : intervalMs(ctx.session, "metrics_interval_seconds");
    const limit = missedIntervals(ctx.session) * interval;
    if (age !== undefined && age > limit) {
      return `No sample for ${formatAge(age)}, more than ${
        missedIntervals(ctx.session)
      } intervals (${formatAge(limit)}).`;
    }
    return undefined;
  }

  function renderInfo(): void {
    if (!worker) return;
    const now = ctx.api.now();
    const meta = record<Record<string, unknown>>(worker.metadata) ?? {};
    const online = worker.is_online === true;
    const deleteButton = h(
      "button",
      { type: "button", class: "danger ghost", id: "delete-worker" },
      "Delete worker…",
    );
    deleteButton.addEventListener("click", async () => {
      const yes = await confirmAction({
        title: "Delete this worker?",
        message:
          "Its history and commands are deleted too. A running agent registers again on its next heartbeat: " +
          "stop it or revoke its key first if it should stay gone.",
        confirmLabel: "Delete worker",
      });
      if (yes) await deleteWorker();
    });
    const platform = [worker.platform, meta.arch].filter((v) =>
      v !== undefined && v !== null && v !== ""
    );
    const facts: [string, unknown, string?][] = [
      ["Worker ID", workerId, "mono wide"],
      ["Platform", joinText(platform, " / ") || NONE],
      ["OS", meta.os_release ?? NONE],
      ["Agent version", worker.version ?? NONE],
      ["Runtime", meta.runtime ?? NONE],
      ["CPUs", meta.cpu_count ?? NONE],
      ["Max concurrency", worker.max_concurrency ?? NONE],
      ["Current load", worker.current_load ?? NONE],
      ["Capabilities", joinText(worker.capabilities, ", ") || NONE],
      ["Agent kind", worker.legacy === true ? LEGACY_NOTE : "worker-agent (signed commands)"],
      [
        "Key",
        key
          ? `${text(key.name)} (${text(key.key_prefix)}…)${
            key.active === false ? `, revoked ${formatTime(key.revoked_at)}` : ""
          }`
          : "deleted",
      ],
      ["Registered", formatTime(worker.registered_at)],
      [
        "Last heartbeat",
        worker.last_heartbeat
          ? `${formatAgo(worker.last_heartbeat, now)} · ${formatTime(worker.last_heartbeat)}`
          : "never",
      ],
    ];
    const refocus = document.activeElement?.id === "delete-worker";
    replace(
      info,
      h(
        "div",
        { class: "detail-head" },
        h(
          "div",
          null,
          h(
            "h1",
            { id: "detail-hostname", tabIndex: -1 },
            onlineDot(online),
            text(worker.hostname, "(no hostname)"),
          ),
          h(
            "div",
            { class: "detail-status" },
            badge(worker.status, "status"),
            " ",
            legacyMark(worker),
            " ",
            revokedMark(key?.active, key?.revoked_at),
          ),
        ),
        h("div", { class: "detail-actions" }, deleteButton),
      ),
      h(
        "dl",
        { class: "facts" },
        facts.map(([label, value, cls]) =>
          h("div", null, h("dt", null, label), h("dd", { class: cls ?? "" }, text(value, NONE)))
        ),
      ),
    );
    // Redrawn on every heartbeat: keep the keyboard where it was.
    if (refocus) deleteButton.focus();
  }

  async function deleteWorker(): Promise<void> {
    try {
      await ctx.api.delete(workerPath(workerId));
    } catch (e) {
      if ((e as { status?: number }).status !== 401) {
        ctx.banner(`Could not delete the worker: ${(e as Error).message}`);
      }
      return;
    }
    ctx.banner(`Worker ${workerId} deleted.`, "info");
    ctx.navigate("#/");
  }

  function renderMetrics(): void {
    if (!worker) return;
    const now = ctx.api.now();
    const snapshot = record<ShownSample>(worker.metrics) ?? {};
    const m: Untrusted<ShownSample> = latest ?? snapshot;
    if (!latest && Object.keys(snapshot).length === 0) {
      replace(
        metricsBox,
        h(
          "div",
          { class: "card" },
          h("h2", null, "Latest metrics"),
          h("p", { class: "muted" }, "No metrics received yet."),
        ),
      );
      return;
    }
    const stale = staleness(now);
    const trading = record<NonNullable<ShownSample["trading"]>>(m.trading) ?? {};
    const load = Array.isArray(m.load_avg)
      ? `load ${m.load_avg.map((v) => fixed(v, 2)).join(" ")}`
      : null;
    const cores = Array.isArray(m.cpu_per_core) ? `${m.cpu_per_core.length} cores` : null;
    const swapTotal = num(m.swap_total_mb);
    const cards = h(
      "div",
      { class: "metrics-grid" },
      metric(
        "CPU",
        formatPercent(m.cpu_percent),
        num(m.cpu_percent),
        [cores, load].filter(Boolean).join(" · ") || null,
      ),
      metric(
        "Memory",
        formatPair(m.memory_used_mb, m.memory_total_mb, formatMb),
        percent(m.memory_used_mb, m.memory_total_mb),
        num(m.memory_available_mb) !== undefined
          ? `${formatMb(m.memory_available_mb)} available`
          : null,
        swapTotal !== undefined && swapTotal > 0
          ? `swap ${formatMb(m.swap_used_mb)} / ${formatMb(swapTotal)}`
          : null,
      ),
      metric(
        "Disk",
        formatPair(m.disk_used_gb, m.disk_total_gb, formatGb),
        percent(m.disk_used_gb, m.disk_total_gb),
      ),
      metric(
        "Network",
        `↓ ${formatMb(m.network_recv_mb)}`,
        undefined,
        "received since boot",
        `↑ ${formatMb(m.network_sent_mb)} sent`,
      ),
      h(
        "div",
        { class: "metric", id: "trading-card" },
        h("div", { class: "metric-title" }, "Trading"),
        h("div", { class: "metric-main" }, badge(trading.status ?? m.trading_status)),
        h(
          "div",
          { class: "muted small" },
          `pid ${text(trading.pid, NONE)} · up ${formatDuration(trading.uptime_s)}`,
        ),
        h(
          "div",
          { class: "muted small" },
          `${text(trading.active_trades ?? m.active_trades, "0")} active trades · ${
            text(trading.restarts, "0")
          } restarts`,
        ),
      ),
    );
    const when = latest
      ? `${latest.stream === "heartbeat" ? "Heartbeat" : "Sample"} ${text(latest.seq)} · ${
        formatAgo(latest.ts, now)
      }`
      : "From the last heartbeat";
    const card = h(
      "div",
      {
        class: `card metrics-card${stale ? " stale" : ""}`,
        dataset: { stale: stale ? "true" : "false" },
      },
      h(
        "div",
        { class: "card-head" },
        h("h2", null, "Latest metrics"),
        h("span", { class: "muted small", title: formatTime(latest?.ts) }, when),
      ),
      stale
        ? h("p", { class: "stale-note", id: "stale-note", attrs: { role: "status" } }, stale)
        : null,
      cards,
    );
    const gpus = records<NonNullable<ShownSample["gpus"]>[number]>(m.gpus);
    card.append(h("h3", null, "GPUs"));
    if (gpus.length === 0) {
      card.append(
        h("p", { class: "muted small" }, latest ? "No GPU reported." : "Not in heartbeats."),
      );
    } else {
      card.append(table(
        ["#", "Name", "Utilisation", "Memory", "Temp", "Power"],
        gpus.map((g) => [
          text(g.index),
          text(g.name),
          h(
            "div",
            { class: "cell-bar" },
            formatPercent(g.util_percent, 0),
            bar(num(g.util_percent)),
          ),
          `${formatMb(g.memory_used_mb)} / ${formatMb(g.memory_total_mb)}`,
          num(g.temperature_c) !== undefined ? `${fixed(g.temperature_c, 0)} °C` : NONE,
          num(g.power_w) !== undefined ? `${fixed(g.power_w, 0)} W` : NONE,
        ]),
        "gpus",
      ));
    }
    const disks = records<NonNullable<ShownSample["disks"]>[number]>(m.disks);
    if (disks.length > 0) {
      card.append(
        h("h3", null, "File systems"),
        table(
          ["Mount", "Type", "Used", "Size", "Use"],
          disks.map((d) => [
            text(d.mount),
            text(d.fs_type),
            formatBytes(d.used_bytes),
            formatBytes(d.total_bytes),
            bar(percent(d.used_bytes, d.total_bytes)),
          ]),
        ),
      );
    }
    const net = records<NonNullable<ShownSample["net"]>[number]>(m.net);
    if (net.length > 0) {
      card.append(
        h("h3", null, "Network interfaces"),
        table(
          ["Interface", "Received", "Sent", "In", "Out"],
          net.map((n) => [
            text(n.iface),
            formatBytes(n.rx_bytes),
            formatBytes(n.tx_bytes),
            formatRate(n.rx_bytes_per_s),
            formatRate(n.tx_bytes_per_s),
          ]),
        ),
      );
    }
    const agent = record<NonNullable<ShownSample["agent"]>>(m.agent);
    if (agent) {
      card.append(
        h(
          "p",
          { class: "muted small agent-line" },
          `Agent: ${formatMb(agent.rss_mb)} RSS · ${fixed(agent.cpu_percent)} % CPU · up ${
            formatDuration(agent.uptime_s)
          } · ` +
            `spool ${text(agent.spool_depth, "0")} · dropped samples ${
              text(agent.dropped_samples, "0")
            }`,
        ),
      );
    }
    replace(metricsBox, card);
  }

  renderRangeButtons();
  function renderRangeButtons(): void {
    const range = rangeOf(route.params);
    rangeButtons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.range === range)));
  }
  void detail.run();
  void series.run();
  void commands.run();

  const mine = (id: string) => id === workerId;
  return {
    onEvent(event: LiveEvent) {
      if (gone) return;
      switch (event.type) {
        case "worker":
          if (!mine(event.worker_id)) return;
          if (event.status === null) showGone();
          else detail.request();
          return;
        case "activity":
          if (event.all || event.worker_ids.some(mine)) {
            detail.request();
            // A new point appears once per bucket; no sooner than every 5 s.
            if (Date.now() - Number(chartsCard.dataset.loaded ?? 0) >= bucketMs) series.request();
          }
          return;
        case "command":
          if (mine(event.worker_id)) commands.request();
          return;
        case "key":
          if (key && event.key_id === key.id) detail.request();
          return;
      }
    },
    refresh() {
      detail.request();
      series.request();
      commands.request();
    },
    update(next: Route) {
      if (next.view !== "worker" || next.workerId !== workerId) return false;
      const rangeChanged = rangeOf(next.params) !== rangeOf(route.params);
      route = next;
      renderRangeButtons();
      if (rangeChanged) void series.run();
      return true;
    },
    tick() {
      renderInfo();
      renderMetrics();
    },
    unmount() {
      detail.dispose();
      series.dispose();
      commands.dispose();
      resizeObserver.disconnect();
      charts.forEach((c) => c.destroy());
    },
  };
}

function bar(pct: number | undefined): HTMLElement {
  const fill = h("div", { class: "bar-fill" });
  if (pct !== undefined) {
    const clamped = Math.max(0, Math.min(100, pct));
    fill.style.width = `${clamped.toFixed(1)}%`;
    if (clamped >= 90) fill.classList.add("hot");
    else if (clamped >= 70) fill.classList.add("warm");
  }
  return h("div", { class: "bar", attrs: { "aria-hidden": "true" } }, fill);
}

function metric(
  title: string,
  main: string,
  pct: number | undefined,
  ...lines: (string | null)[]
): HTMLElement {
  return h(
    "div",
    { class: "metric" },
    h("div", { class: "metric-title" }, title),
    h("div", { class: "metric-main" }, main),
    pct === undefined ? null : bar(pct),
    lines.map((line) => line && h("div", { class: "muted small" }, line)),
  );
}

function table(headers: string[], rows: (string | Node)[][], id?: string): HTMLElement {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "data", ...(id ? { id } : {}) },
      h(
        "thead",
        null,
        h("tr", null, headers.map((label) => h("th", { attrs: { scope: "col" } }, label))),
      ),
      h(
        "tbody",
        null,
        rows.map((cells) => h("tr", null, cells.map((cell) => h("td", null, cell)))),
      ),
    ),
  );
}

/** The newest of a list of samples (by `ts`, then `seq`). */
export function latestSample(
  samples: readonly Untrusted<ShownSample>[],
): Untrusted<ShownSample> | undefined {
  let best: Untrusted<ShownSample> | undefined;
  for (const sample of samples) {
    if (!isObject(sample)) continue;
    const t = toMs(sample.ts) ?? 0;
    const bt = best === undefined ? -1 : (toMs(best.ts) ?? 0);
    const seq = num(sample.seq) ?? 0;
    const bestSeq = best === undefined ? 0 : (num(best.seq) ?? 0);
    if (best === undefined || t > bt || (t === bt && seq > bestSeq)) best = sample;
  }
  return best;
}
