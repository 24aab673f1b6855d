import { fstatSync } from "node:fs";

/** Inputs above this size show a progress bar (only when stderr is a terminal). */
export const PROGRESS_THRESHOLD = 64 * 1024 * 1024;

export interface Progress {
  update(offset: number): void;
  stop(): void;
}

const none: Progress = { update() {}, stop() {} };

/**
 * False when file descriptor 2 is surely no terminal (not a character device):
 * asked before `process.stderr`, whose creation loads Node's stream modules
 * (start-up cost of every large verify whose stderr is a pipe or a file).
 */
function stderrMayBeTerminal(): boolean {
  try {
    if (!fstatSync(2).isCharacterDevice()) return false;
  } catch {
    return false;
  }
  return process.stderr.isTTY === true;
}

/** Loaded only for a terminal: most runs are in pipelines and scripts, and need no bar. */
export async function progressFor(size: number | undefined, label: string): Promise<Progress> {
  if (size === undefined || size <= PROGRESS_THRESHOLD || !stderrMayBeTerminal()) return none;
  const { default: cliProgress } = await import("cli-progress");
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {value}/{total} MiB | {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const mib = (n: number) => Math.floor(n / (1024 * 1024));
  bar.start(mib(size), 0);
  return {
    update: (o) => bar.update(mib(Math.min(o, size))),
    stop: () => bar.stop(),
  };
}
