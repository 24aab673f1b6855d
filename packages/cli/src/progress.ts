import cliProgress from "cli-progress";

/** Inputs above this size show a progress bar (only when stderr is a terminal). */
export const PROGRESS_THRESHOLD = 64 * 1024 * 1024;

export interface Progress {
  update(offset: number): void;
  stop(): void;
}

const none: Progress = { update() {}, stop() {} };

export function progressFor(size: number | undefined, label: string): Progress {
  if (!process.stderr.isTTY || size === undefined || size <= PROGRESS_THRESHOLD) return none;
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
