/**
 * Time-series charts of a worker (uPlot, bundled, never from a CDN): the server's buckets
 * (`GET /api/workers/{id}/series`) become one chart per metric, the mean as a line and the
 * minimum–maximum as a band, with axes, units and the values under the cursor in the legend.
 * The cursor is synced across the charts of the page.
 *
 * {@linkcode chartModels} is plain data (tested without a browser); {@linkcode drawChart}
 * draws one model.
 *
 * @module
 */
import uPlot from "uplot";
import type { Band, SeriesName, SeriesResponse } from "../../admin_api.ts";
import { h } from "./dom.ts";
import { formatGb, formatMb, formatRate, NONE } from "./format.ts";
import { num, record, records, text, type Untrusted } from "./untrusted.ts";

/** How values of a chart are shown. */
export type Unit = "percent" | "mib" | "gib" | "bytes_per_s" | "count" | "load";

/** One line of a chart. */
export interface ChartLine {
  label: string;
  values: (number | null)[];
  /** Index into the palette. */
  color: number;
  /** The line's minimum and maximum, drawn as a band around it. */
  range?: { min: (number | null)[]; max: (number | null)[] };
  dashed?: boolean;
  /** On the chart's second axis (right). */
  right?: boolean;
}

/** One chart. */
export interface ChartModel {
  id: string;
  title: string;
  unit: Unit;
  /** Unit of the right axis, when a line uses it. */
  rightUnit?: Unit;
  lines: ChartLine[];
  /** Fixed y range (percentages: 0–100). */
  yRange?: [number, number];
}

/** Formats a value of `unit`. */
export function formatValue(unit: Unit, value: unknown): string {
  const n = num(value);
  if (n === undefined) return NONE;
  switch (unit) {
    case "percent":
      return `${n.toFixed(n < 10 ? 1 : 0)} %`;
    case "mib":
      return formatMb(n);
    case "gib":
      return formatGb(n);
    case "bytes_per_s":
      return formatRate(n);
    case "count":
      return Number.isInteger(n) ? String(n) : n.toFixed(1);
    case "load":
      return n.toFixed(2);
  }
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"] as const;

/** Bytes as a short tick label: "512 MiB", "1.5 GiB", "16 GiB". */
function compactBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = Math.abs(value) < 10 && !Number.isInteger(value) ? 1 : 0;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** Axis tick labels of `unit` (shorter than legend values). */
export function formatTick(unit: Unit, value: number): string {
  switch (unit) {
    case "percent":
      return `${value} %`;
    case "mib":
      return compactBytes(value * 2 ** 20);
    case "gib":
      return compactBytes(value * 2 ** 30);
    case "bytes_per_s":
      return `${compactBytes(value)}/s`;
    case "count":
      return String(value);
    case "load":
      return value.toFixed(Number.isInteger(value) ? 0 : 1);
  }
}

/** Powers of two: ticks of byte sizes fall on round binary values (4 GiB, 8 GiB…). */
const BINARY_INCRS = Array.from({ length: 51 }, (_, i) => 2 ** (i - 10));

function values(list: unknown): (number | null)[] {
  return Array.isArray(list) ? list.map((v) => num(v) ?? null) : [];
}

function band(
  value: unknown,
): { min: (number | null)[]; avg: (number | null)[]; max: (number | null)[] } {
  const b = record<Band>(value);
  return { min: values(b?.min), avg: values(b?.avg), max: values(b?.max) };
}

function hasData(list: readonly (number | null)[]): boolean {
  return list.some((v) => v !== null);
}

/** The charts of a series answer, leaving out metrics the worker never reported. */
export function chartModels(answer: Untrusted<SeriesResponse>): ChartModel[] {
  const s = record<Record<SeriesName, Band>>(answer.series) ?? {};
  const get = (name: SeriesName) => band(s[name]);
  const models: ChartModel[] = [];
  const withBand = (label: string, b: ReturnType<typeof band>, color: number): ChartLine => ({
    label,
    values: b.avg,
    color,
    range: { min: b.min, max: b.max },
  });

  const cpu = get("cpu_percent");
  if (hasData(cpu.avg)) {
    models.push({
      id: "cpu",
      title: "CPU",
      unit: "percent",
      yRange: [0, 100],
      lines: [withBand("CPU", cpu, 0)],
    });
  }
  const cores = Array.isArray(answer.cores) ? answer.cores.map(values) : [];
  if (cores.some(hasData)) {
    models.push({
      id: "cpu-cores",
      title: `CPU per core (${cores.length})`,
      unit: "percent",
      yRange: [0, 100],
      lines: cores.map((v, i) => ({ label: `core ${i}`, values: v, color: i })),
    });
  }
  const used = get("memory_used_mb");
  const total = get("memory_total_mb");
  if (hasData(used.avg)) {
    models.push({
      id: "memory",
      title: "Memory",
      unit: "mib",
      lines: [withBand("used", used, 1), {
        label: "total",
        values: total.max,
        color: 7,
        dashed: true,
      }],
    });
  }
  const disk = get("disk_used_gb");
  if (hasData(disk.avg)) {
    models.push({
      id: "disk",
      title: "Disk used",
      unit: "gib",
      lines: [withBand("used", disk, 2), {
        label: "size",
        values: get("disk_total_gb").max,
        color: 7,
        dashed: true,
      }],
    });
  }
  const rx = get("net_rx_bytes_per_s");
  const tx = get("net_tx_bytes_per_s");
  if (hasData(rx.avg) || hasData(tx.avg)) {
    models.push({
      id: "network",
      title: "Network",
      unit: "bytes_per_s",
      lines: [withBand("received", rx, 3), withBand("sent", tx, 4)],
    });
  }
  const load = [get("load_1").avg, get("load_5").avg, get("load_15").avg];
  if (load.some(hasData)) {
    models.push({
      id: "load",
      title: "Load average",
      unit: "load",
      lines: [
        { label: "1 min", values: load[0]!, color: 5 },
        { label: "5 min", values: load[1]!, color: 6 },
        { label: "15 min", values: load[2]!, color: 7 },
      ],
    });
  }
  const gpus = records<
    {
      index: number;
      name: string | null;
      util_percent: Band;
      memory_used_mb: Band;
      memory_total_mb: number[];
    }
  >(answer.gpus);
  if (gpus.length > 0) {
    const name = (g: (typeof gpus)[number]) => `GPU ${text(g.index)}`;
    models.push({
      id: "gpu-util",
      title: "GPU utilisation",
      unit: "percent",
      yRange: [0, 100],
      lines: gpus.map((g, i) =>
        gpus.length === 1
          ? withBand(name(g), band(g.util_percent), i)
          : { label: name(g), values: band(g.util_percent).avg, color: i }
      ),
    });
    models.push({
      id: "gpu-memory",
      title: "GPU memory",
      unit: "mib",
      lines: gpus.flatMap((g, i) => [
        { label: `${name(g)} used`, values: band(g.memory_used_mb).avg, color: i },
        { label: `${name(g)} total`, values: values(g.memory_total_mb), color: i, dashed: true },
      ]),
    });
  }
  const running = get("trading_running_percent");
  const trades = get("active_trades");
  if (hasData(running.avg) || hasData(trades.avg)) {
    models.push({
      id: "trading",
      title: "Trading",
      unit: "percent",
      rightUnit: "count",
      yRange: [0, 100],
      lines: [
        { label: "running (% of samples)", values: running.avg, color: 2 },
        { ...withBand("active trades", trades, 4), right: true },
      ],
    });
  }
  return models;
}

const PALETTE_SIZE = 8;

function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

/** A color of the palette, with `alpha` (0–1). */
function color(index: number, alpha = 1): string {
  const hex = cssVar(`--chart-${index % PALETTE_SIZE}`, "#2453d4");
  if (alpha >= 1 || !/^#[0-9a-f]{6}$/i.test(hex)) return hex;
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/** What {@linkcode drawChart} returns. */
export interface DrawnChart {
  readonly element: HTMLElement;
  /** Fits the chart to its container's width. */
  resize(): void;
  /**
   * Shows new data of the same chart in place (the cursor stays where it is); false when the
   * model's lines changed, and the chart must be drawn again.
   */
  update(model: ChartModel, t: readonly number[], range: [number, number]): boolean;
  destroy(): void;
}

/** The data of `model` in uPlot's order: times (s), then each line and its band edges. */
function alignedData(model: ChartModel, t: readonly number[]): (number | null)[][] {
  const data: (number | null)[][] = [t.map((ms) => ms / 1000)];
  for (const line of model.lines) {
    data.push(line.values);
    if (line.range) data.push(line.range.min, line.range.max);
  }
  return data;
}

/** What a chart's series are: labels, and which have bands. */
function shapeOf(model: ChartModel): string {
  return model.lines.map((l) => `${l.label}${l.range ? "+band" : ""}${l.right ? ">" : ""}`).join(
    "|",
  );
}

/** Height of a chart's plot in CSS pixels. */
const CHART_HEIGHT = 170;

/** Options of {@linkcode drawChart}. */
export interface DrawOptions {
  /** Charts with the same key share the cursor. */
  syncKey: string;
  /** The time range shown (Unix ms), whatever part of it has data. */
  range: [number, number];
}

/** Draws `model` over the times `t` (Unix ms) into a new figure. */
export function drawChart(
  model: ChartModel,
  t: readonly number[],
  options: DrawOptions,
): DrawnChart {
  const plot = h("div", { class: "chart-plot" });
  const unitOf = (line: ChartLine) => line.right ? (model.rightUnit ?? model.unit) : model.unit;
  const latestOf = (line: ChartLine) =>
    formatValue(unitOf(line), line.values.findLast((v) => v !== null));
  const first = model.lines[0];
  const latest = !first
    ? NONE
    : model.lines.length > 1 && first.label !== model.title
    ? `${first.label} ${latestOf(first)}`
    : latestOf(first);
  const caption = h("span", { class: "muted small" }, `latest: ${latest}`);
  const figure = h(
    "figure",
    { class: "chart", id: `chart-${model.id}`, dataset: { chart: model.id } },
    h(
      "figcaption",
      null,
      h("span", { class: "chart-title" }, model.title),
      " ",
      caption,
    ),
    plot,
  );
  const series: uPlot.Series[] = [{
    label: "Time",
    value: (_u, v) => v == null ? NONE : new Date(v * 1000).toLocaleString(),
  }];
  const data = alignedData(model, t);
  const bands: uPlot.Band[] = [];
  for (const line of model.lines) {
    const unit = unitOf(line);
    const scale = line.right ? "right" : "y";
    const format = (_u: uPlot, v: number | null) => formatValue(unit, v);
    const range = line.range;
    // The mean, with the bucket's minimum and maximum under the cursor: "42 % (12 % – 80 %)".
    // The edges are the next two series; read from the chart, so new data shows too.
    const withRange = (u: uPlot, v: number | null, s: number, i: number | null) => {
      const lo = i === null ? null : u.data[s + 1]?.[i] ?? null;
      const hi = i === null ? null : u.data[s + 2]?.[i] ?? null;
      const main = formatValue(unit, v);
      return v === null || lo === null || hi === null || lo === hi
        ? main
        : `${main} (${formatValue(unit, lo)} – ${formatValue(unit, hi)})`;
    };
    series.push({
      label: line.label,
      stroke: color(line.color),
      width: 1.6,
      scale,
      value: range ? withRange : format,
      spanGaps: false,
      points: { show: false },
      ...(line.dashed ? { dash: [5, 4] } : {}),
    });
    if (range) {
      const avgIndex = series.length - 1;
      // The band's edges: thin, and left out of the legend (the mean's value names them).
      const edge = {
        stroke: color(line.color, 0.35),
        width: 0.5,
        scale,
        value: format,
        class: "band-edge",
        points: { show: false },
      };
      series.push({ ...edge, label: `${line.label} min` });
      series.push({ ...edge, label: `${line.label} max` });
      bands.push({ series: [avgIndex + 2, avgIndex + 1], fill: color(line.color, 0.14) });
    }
  }
  const textColor = cssVar("--muted", "#5b6478");
  const gridColor = cssVar("--line", "#e3e8ef");
  const axis = (unit: Unit, side?: 1): uPlot.Axis => ({
    ...(side
      ? { side, scale: "right", grid: { show: false } }
      : { scale: "y", grid: { stroke: gridColor, width: 1 } }),
    stroke: textColor,
    ticks: { stroke: gridColor, width: 1 },
    // Wide enough for the longest label.
    size: (_u, labels) => Math.max(36, ...(labels ?? []).map((l) => String(l).length * 7 + 16)),
    values: (_u, splits) => splits.map((v) => formatTick(unit, v)),
    ...(unit === "mib" || unit === "gib" || unit === "bytes_per_s" ? { incrs: BINARY_INCRS } : {}),
  });
  // An idle network still gets a readable axis (0 to 1 KiB/s, not 0 to 1 B/s).
  const floor = model.unit === "bytes_per_s" ? 1024 : 1;
  const opts: uPlot.Options = {
    width: 400,
    height: CHART_HEIGHT,
    series,
    bands,
    scales: {
      x: { time: true, auto: false, range: [options.range[0] / 1000, options.range[1] / 1000] },
      y: model.yRange
        ? { range: model.yRange }
        : { range: (_u, min, max) => [Math.min(0, min), Math.max(floor, max > 0 ? max * 1.1 : 0)] },
      right: { range: (_u, min, max) => [Math.min(0, min), Math.max(1, max * 1.2)] },
    },
    axes: [
      {
        stroke: textColor,
        grid: { stroke: gridColor, width: 1 },
        ticks: { stroke: gridColor, width: 1 },
      },
      axis(model.unit),
      ...(model.rightUnit && model.lines.some((l) => l.right) ? [axis(model.rightUnit, 1)] : []),
    ],
    cursor: { sync: { key: options.syncKey }, points: { size: 6 } },
    legend: { live: true },
  };
  const chart = new uPlot(opts, data as uPlot.AlignedData, plot);
  const canvas = chart.root.querySelector("canvas");
  canvas?.setAttribute("role", "img");
  function describe(current: ChartModel): void {
    const summary = current.lines.map((line) => `${line.label} ${latestOf(line)}`).join(", ");
    canvas?.setAttribute("aria-label", `${current.title} chart; latest: ${summary}`);
  }
  describe(model);
  const shape = shapeOf(model);
  function resize(): void {
    const width = Math.max(200, plot.clientWidth);
    if (Math.abs(width - chart.width) > 1) chart.setSize({ width, height: CHART_HEIGHT });
  }
  function update(next: ChartModel, times: readonly number[], range: [number, number]): boolean {
    if (shapeOf(next) !== shape || next.title !== model.title) return false;
    chart.batch(() => {
      chart.setData(alignedData(next, times) as uPlot.AlignedData);
      chart.setScale("x", { min: range[0] / 1000, max: range[1] / 1000 });
    });
    const first = next.lines[0];
    caption.textContent = `latest: ${
      !first
        ? NONE
        : next.lines.length > 1 && first.label !== next.title
        ? `${first.label} ${latestOf(first)}`
        : latestOf(first)
    }`;
    describe(next);
    return true;
  }
  return { element: figure, resize, update, destroy: () => chart.destroy() };
}
