/**
 * Parser of `nvidia-smi --query-gpu=… --format=csv,noheader,nounits` output.
 *
 * @module
 */
import type { Gpu } from "../protocol/mod.ts";

/** The arguments the collector passes to `nvidia-smi`; the parser expects these columns. */
export const NVIDIA_SMI_ARGS: readonly string[] = [
  "--query-gpu=index,name,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw",
  "--format=csv,noheader,nounits",
];

function numberOrNull(field: string | undefined): number | null {
  if (field === undefined) return null;
  const trimmed = field.trim();
  // "[N/A]", "[Not Supported]", "[Unknown Error]", "N/A", "" all mean "not reported".
  if (trimmed === "" || trimmed.startsWith("[") || /^n\/a$/i.test(trimmed)) return null;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : null;
}

/**
 * One entry per GPU row. Fields the driver does not report (`[N/A]`, `[Not Supported]`)
 * are null. Rows without a numeric index are skipped; throws `SyntaxError` when the output
 * has text but no GPU row (an error message printed on stdout).
 */
export function parseNvidiaSmiCsv(text: string): Gpu[] {
  const gpus: Gpu[] = [];
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "");
  for (const line of lines) {
    const fields = line.split(",");
    // A name with a comma would add fields: the five numbers are always the last five.
    if (fields.length < 7) continue;
    const index = numberOrNull(fields[0]);
    if (index === null || !Number.isInteger(index) || index < 0) continue;
    const tail = fields.slice(-5);
    gpus.push({
      index,
      name: fields.slice(1, -5).join(",").trim(),
      util_percent: numberOrNull(tail[0]),
      memory_used_mb: numberOrNull(tail[1]),
      memory_total_mb: numberOrNull(tail[2]),
      temperature_c: numberOrNull(tail[3]),
      power_w: numberOrNull(tail[4]),
    });
  }
  if (gpus.length === 0 && lines.length > 0) {
    throw new SyntaxError(`unexpected nvidia-smi output: ${lines[0]?.slice(0, 120)}`);
  }
  return gpus;
}
