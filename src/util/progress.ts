import cliProgress from 'cli-progress';

/** A unit of long work the user should see move. */
export interface Progress {
  start(total: number, label: string): void;
  update(done: number): void;
  stop(): void;
}

/** Nothing shown: for tests, the server and `--json` runs. */
export const silentProgress: Progress = { start() {}, update() {}, stop() {} };

/**
 * A bar with ETA on a terminal, plain periodic lines when stderr is not a TTY (CI logs).
 * Always on stderr so `--json` output on stdout stays clean.
 */
export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  let bar: cliProgress.SingleBar | null = null;
  return {
    start(total, label) {
      bar = new cliProgress.SingleBar(
        {
          stream,
          format: `${label} [{bar}] {percentage}% | ETA {eta_formatted} | {value}/{total}`,
          noTTYOutput: !stream.isTTY,
          notTTYSchedule: 2000,
          hideCursor: true,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(Math.max(1, total), 0);
    },
    update(done) {
      bar?.update(done);
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}
