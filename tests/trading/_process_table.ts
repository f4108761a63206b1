/** Reading the process table in tests, to prove that no workload process is left behind. */

/** One row of `ps -eo pid,pgid,stat,args`. */
export interface ProcessRow {
  pid: number;
  pgid: number;
  stat: string;
  args: string;
}

/** The live (non-zombie) processes whose arguments contain `marker` or whose group is one of `pgids`. */
export async function workloadProcesses(
  marker: string,
  pgids: readonly number[] = [],
): Promise<ProcessRow[]> {
  const { stdout } = await new Deno.Command("ps", {
    args: ["-eo", "pid=,pgid=,stat=,args="],
    stdout: "piped",
    stderr: "null",
  }).output();
  const rows: ProcessRow[] = [];
  for (const line of new TextDecoder().decode(stdout).split("\n")) {
    const match = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const [, pid, pgid, stat, args] = match;
    rows.push({ pid: Number(pid), pgid: Number(pgid), stat: stat!, args: args! });
  }
  // Zombies run nothing; in a container without a reaping init they linger forever.
  return rows.filter((row) =>
    !row.stat.startsWith("Z") && !row.args.startsWith("ps ") &&
    (row.args.includes(marker) || pgids.includes(row.pgid))
  );
}

/** Throws, listing them, when any process of the workload is still alive. */
export async function assertNoWorkloadLeft(
  marker: string,
  pgids: readonly number[] = [],
): Promise<void> {
  const left = await workloadProcesses(marker, pgids);
  if (left.length > 0) {
    throw new Error(
      `workload processes left behind:\n${
        left.map((r) => `${r.pid} ${r.pgid} ${r.stat} ${r.args}`).join("\n")
      }`,
    );
  }
}
