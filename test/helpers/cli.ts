import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from './real-data.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `cinerec` binary, as a user would. */
export function cli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(PROJECT_ROOT, 'bin', 'cinerec.js'), ...args],
      { env: { ...process.env, ...env, NO_COLOR: '1' }, cwd: PROJECT_ROOT, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export function json<T>(result: CliResult): T {
  if (result.code !== 0) throw new Error(`cinerec exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}
