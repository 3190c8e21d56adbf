/**
 * A cinerec deployment made of real processes, for the replica tests and `npm run bench:cluster`: `cinerec serve`
 * replicas, a `cinerec worker`, and nginx with deploy/nginx.conf in front. Every process started is recorded in
 * `children` so the caller can stop them all.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { SERVING, stderrMatch } from './process.ts';
import { PROJECT_ROOT } from './real-data.ts';

export const TOKEN = 'replicas-admin-token-42';
const BIN = path.join(PROJECT_ROOT, 'bin', 'cinerec.js');

export interface Replica {
  child: ChildProcess;
  url: string;
}

/** What every process of the deployment shares: its environment, a scratch directory, the processes started. */
export const deployment: { env: Record<string, string>; dir: string; children: ChildProcess[] } = {
  env: {},
  dir: '',
  children: [],
};

/** A real process; resolves once its stderr matches `ready` (with the match). */
export function launch(args: string[], extraEnv: Record<string, string>, ready: RegExp) {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...deployment.env, ...extraEnv },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  deployment.children.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const matched = stderrMatch(child, ready, `cinerec ${args.join(' ')}`);
  return { child, matched, output: () => err };
}

export async function replica(workers: number): Promise<Replica> {
  const r = launch(['serve', '--port', '0'], { CINEREC_WORKERS: String(workers) }, SERVING);
  return { child: r.child, url: (await r.matched)[2]! };
}

export async function call<T>(
  r: Replica,
  method: string,
  route: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${r.url}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

/** Polls until check passes (a replica applies another's write when notified: milliseconds, bounded here). */
export async function eventually(check: () => Promise<boolean>, what: string, withinMs = 5000): Promise<number> {
  const t = performance.now();
  for (;;) {
    // A poll that lands on a keep-alive connection of a worker being replaced (a version swap) is closed by it:
    // not yet, like a false answer; the next poll opens a new connection.
    if (await check().catch(() => false)) return performance.now() - t;
    if (performance.now() - t > withinMs) throw new Error(`not within ${withinMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** nginx with deploy/nginx.conf, its upstream servers and port replaced by the test's. */
export async function startNginx(replicas: Replica[]): Promise<Replica> {
  const port = await freePort();
  const prefix = path.join(deployment.dir, 'nginx');
  const site = readFileSync(path.join(PROJECT_ROOT, 'deploy', 'nginx.conf'), 'utf8')
    .replace(/(upstream cinerec \{)[\s\S]*?(keepalive)/, (_m, open: string, keep: string) => {
      const servers = replicas.map((r) => `    server ${new URL(r.url).host} max_fails=1 fail_timeout=5s;`);
      return `${open}\n${servers.join('\n')}\n    ${keep}`;
    })
    .replace(/listen 8080;/, `listen 127.0.0.1:${port};`);
  mkdirSync(path.join(prefix, 'logs'), { recursive: true });
  writeFileSync(path.join(prefix, 'cinerec.conf'), site);
  writeFileSync(
    path.join(prefix, 'nginx.conf'),
    `daemon off;
worker_processes 1;
user root;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  include ${prefix}/cinerec.conf;
}
`,
  );
  const child = spawn('nginx', ['-p', prefix, '-c', path.join(prefix, 'nginx.conf')], { stdio: 'ignore' });
  deployment.children.push(child);
  const front = { child, url: `http://127.0.0.1:${port}` };
  await eventually(async () => {
    try {
      return (await fetch(`${front.url}/health`)).ok;
    } catch {
      return false;
    }
  }, 'nginx answering');
  return front;
}
