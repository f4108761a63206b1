/** Exit codes of `worker-agent` (interfaces.md section 1). */
export const ExitCode = {
  /** Clean stop. */
  ok: 0,
  /** Runtime failure (also: a `doctor` check failed). */
  failure: 1,
  /** Usage or config error. */
  usage: 2,
  /** Restart requested (`restart_agent`): the service manager starts the agent again. */
  restart: 75,
} as const;
