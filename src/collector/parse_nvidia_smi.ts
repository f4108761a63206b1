/**
 * Parser of `nvidia-smi --query-gpu=… --format=csv[,noheader][,nounits]` output.
 *
 * @module
 */
import type { Gpu } from "../protocol/mod.ts";

/** The `--query-gpu` fields the collector asks for, in this order. */
export const NVIDIA_SMI_FIELDS: readonly string[] = [
  "index",
  "name",
  "utilization.gpu",
  "memory.used",
  "memory.total",
  "temperature.gpu",
  "power.draw",
];

/** The arguments the collector passes to `nvidia-smi`. */
export const NVIDIA_SMI_ARGS: readonly string[] = [
  `--query-gpu=${NVIDIA_SMI_FIELDS.join(",")}`,
  "--format=csv,noheader,nounits",
];

/** Options of {@linkcode parseNvidiaSmiCsv}. */
export interface ParseNvidiaSmiOptions {
  /** Column fields when the output has no header line. @default {NVIDIA_SMI_FIELDS} */
  columns?: readonly string[];
}

const ALIASES: Record<string, string> = { gpu_name: "name" };

/** A header cell such as `memory.used [MiB]` → `memory.used`. */
function fieldOfHeader(cell: string): string {
  const field = cell.trim().replace(/\s*\[[^\]]*\]$/, "").toLowerCase();
  return ALIASES[field] ?? field;
}

function isHeader(cells: string[]): boolean {
  return cells.every((cell) => /^[a-z_.]+(\s*\[[^\]]*\])?$/i.test(cell.trim())) &&
    cells.some((cell) => NVIDIA_SMI_FIELDS.includes(fieldOfHeader(cell)));
}

/**
 * A number from a cell, with or without its unit (`"66147 MiB"`, `"99 %"`, `"63.28 W"`);
 * null for the driver's "not reported" forms (`[N/A]`, `[Not Supported]`, `N/A`, `[Unknown
 * Error]`) and anything else that is not a number.
 */
export function nvidiaNumber(cell: string | undefined): number | null {
  const match = /^\s*(-?\d+(?:\.\d+)?)\s*(?:[A-Za-z%]+)?\s*$/.exec(cell ?? "");
  return match ? Number(match[1]) : null;
}

/**
 * One entry per GPU row. Columns come from the header line when there is one, else from
 * `options.columns`; a field missing from the output is null (index: the row position,
 * name: ""). Throws `SyntaxError` when the output has text but no GPU row (an error message
 * such as "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver").
 */
export function parseNvidiaSmiCsv(text: string, options: ParseNvidiaSmiOptions = {}): Gpu[] {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "");
  let columns = [...(options.columns ?? NVIDIA_SMI_FIELDS)];
  const first = lines[0]?.split(",");
  if (first && isHeader(first)) {
    columns = first.map(fieldOfHeader);
    lines.shift();
  }
  const nameAt = columns.indexOf("name");
  const gpus: Gpu[] = [];
  lines.forEach((line, row) => {
    let cells = line.split(",");
    const extra = cells.length - columns.length;
    if (extra < 0 || (extra > 0 && nameAt === -1)) return;
    if (extra > 0) {
      // A product name with commas: its pieces are rejoined.
      const name = cells.slice(nameAt, nameAt + extra + 1).join(",");
      cells = [...cells.slice(0, nameAt), name, ...cells.slice(nameAt + extra + 1)];
    }
    const cell = (field: string) => {
      const at = columns.indexOf(field);
      return at === -1 ? undefined : cells[at];
    };
    const index = cell("index") === undefined ? row : nvidiaNumber(cell("index"));
    if (index === null || !Number.isInteger(index) || index < 0) return;
    gpus.push({
      index,
      name: (cell("name") ?? "").trim(),
      util_percent: nvidiaNumber(cell("utilization.gpu")),
      memory_used_mb: nvidiaNumber(cell("memory.used")),
      memory_total_mb: nvidiaNumber(cell("memory.total")),
      temperature_c: nvidiaNumber(cell("temperature.gpu")),
      power_w: nvidiaNumber(cell("power.draw")),
    });
  });
  if (gpus.length === 0 && lines.length > 0) {
    throw new SyntaxError(`unexpected nvidia-smi output: ${lines[0]?.slice(0, 120)}`);
  }
  return gpus;
}
