/** Waiting for a real cinerec process (tests and benchmarks spawn `bin/cinerec.js`) to say it is ready. */
import type { ChildProcess } from 'node:child_process';

/** What `cinerec serve` logs once it listens: the movie count (group 1) and the URL (group 2). */
export const SERVING = /serving (\d+) movies at (http:\/\/[^\s"]+)/;

/**
 * Resolves with the first match of `ready` in everything the child has written to stderr; rejects, with that stderr,
 * if the child exits first. The child must have been spawned with a piped stderr.
 */
export function stderrMatch(child: ChildProcess, ready: RegExp, what: string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = ready.exec(err);
      if (m) resolve(m);
    });
    child.on('exit', (code) => reject(new Error(`${what} exited ${code}: ${err}`)));
  });
}
