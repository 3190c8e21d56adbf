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
 * A bar with ETA on a terminal; when stderr is not a terminal (CI, a log file), plain lines instead of a redrawn
 * bar: one at the start, one per tenth of the work or per 30 s, whichever comes first, and one at the end.
 * Always on stderr so `--json` output on stdout stays clean.
 */
export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  return stream.isTTY ? barProgress(stream) : lineProgress(stream);
}

function lineProgress(stream: NodeJS.WriteStream): Progress {
  let label = '';
  let total = 1;
  let started = 0;
  let lastAt = 0;
  let lastTenth = -1;
  let done = 0;
  const line = () => {
    const elapsed = (performance.now() - started) / 1000;
    const eta = done > 0 && done < total ? `, ETA ${Math.round((elapsed * (total - done)) / done)} s` : '';
    stream.write(
      `${label}: ${done}/${total} (${Math.floor((100 * done) / total)}%) in ${elapsed.toFixed(1)} s${eta}\n`,
    );
    lastAt = performance.now();
  };
  return {
    start(t, l) {
      label = l;
      total = Math.max(1, t);
      started = performance.now();
      lastTenth = 0;
      done = 0;
      line();
    },
    update(d) {
      done = d;
      const tenth = Math.floor((10 * d) / total);
      if (tenth > lastTenth || performance.now() - lastAt > 30_000) {
        lastTenth = tenth;
        if (d < total) line();
      }
    },
    stop() {
      if (started > 0) line();
      started = 0;
    },
  };
}

function barProgress(stream: NodeJS.WriteStream): Progress {
  let bar: cliProgress.SingleBar | null = null;
  return {
    start(total, label) {
      bar = new cliProgress.SingleBar(
        {
          stream,
          format: `${label} [{bar}] {percentage}% | ETA {eta_formatted} | {value}/{total}`,
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
