/** Under the 10 s an orchestrator (Docker, Kubernetes) waits after SIGTERM before it sends SIGKILL. */
const SHUTDOWN_DEADLINE_MS = 9_500;

/** Installs SIGTERM/SIGINT handlers that close gracefully, with a hard deadline. */
export function stopOnSignals(close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const deadline = setTimeout(() => {
      process.stderr.write(`kevin-deploy: ${signal}: shutdown took too long; exiting\n`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`kevin-deploy: error while shutting down: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
