/**
 * The stand-in trading workload used by `deno task demo`: prints a fake trade now and then
 * and reports its open trades with `FTL_ACTIVE_TRADES=<n>` lines (see docs/trading.md).
 * Exits cleanly on SIGTERM/SIGINT.
 */
let open = 0;
let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  console.log("demo workload: closing positions and exiting");
  clearInterval(timer);
}
const timer = setInterval(() => {
  open = Math.max(0, Math.min(9, open + (Math.random() < 0.5 ? -1 : 1)));
  console.log(`demo workload: ${new Date().toISOString()} open trades ${open}`);
  console.log(`FTL_ACTIVE_TRADES=${open}`);
}, 2000);
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  if (Deno.build.os !== "windows" || signal === "SIGINT") Deno.addSignalListener(signal, stop);
}
console.log("demo workload: started");
