/**
 * The whole path at scale, as a user runs it: `cinerec data generate` → `data import` → `train` → `serve`, each a
 * real CLI process. Prints every step's wall time and peak memory (VmHWM of the process, worker threads included),
 * every training stage's time and peak RSS as `cinerec train` reports them, the version's load time in `serve`,
 * and personalised-request latency at the full catalogue: one request at a time, then 16 connections with wrk (the
 * result cache off, so that every request is scored). With `--peer <implicit dir>`, ALS seconds per iteration
 * beside implicit's on the generated ratings and on ml-latest-small (bench/peers.ts, back to back).
 *
 *   npm run bench:scale -- --ratings 25M [--no-genome] [--peer /work/peers/implicit] [--dir /tmp/scale] [--keep]
 *     [--set mf.epochs=10 ...] [--requests 2000] [--seconds 10 (0: no wrk)] [--json out.json]
 *   npm run bench:scale -- --ratings 25M --dir /tmp/scale --serve-only   (serving again, on a run kept with --keep)
 *
 * A small size of the same path runs in `npm test` (test/scale/scale.test.ts).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { SERVING, stderrMatch } from '../test/helpers/process.ts';

const { values } = parseArgs({
  options: {
    ratings: { type: 'string', default: '200K' },
    'no-genome': { type: 'boolean', default: false },
    peer: { type: 'string' },
    python: { type: 'string', default: 'python3' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    set: { type: 'string', multiple: true, default: [] },
    requests: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    workers: { type: 'string', default: '0' },
    json: { type: 'string' },
    'serve-only': { type: 'boolean', default: false },
  },
});

const root = join(import.meta.dirname, '..');
const cli = join(root, 'bin', 'cinerec.js');
const dir = resolve(values.dir ?? join(os.tmpdir(), `cinerec-scale-${values.ratings}`));
const release = join(dir, 'release');
// --serve-only measures the serving steps again on a kept run (--dir, trained by an earlier --keep).
const serveOnly = values['serve-only'];
if (serveOnly && !existsSync(join(dir, 'data')))
  throw new Error(`--serve-only: no kept run in ${dir} (run with --keep first)`);
if (!serveOnly) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}
const env = {
  ...process.env,
  CINEREC_DATA_DIR: join(dir, 'data'),
  CINEREC_LOG_LEVEL: 'warn',
  CINEREC_ADMIN_TOKEN: 'bench-scale-admin-token',
  CINEREC_WORKERS: values.workers,
};
const sets = values.set.flatMap((s) => ['--set', s]);

interface Step {
  step: string;
  seconds: number;
  peakMb: number;
  note: string;
}
const steps: Step[] = [];
const log = (line: string) => process.stderr.write(`bench:scale: ${line}\n`);

/** Peak resident memory of a live process (kB → MB), from /proc; 0 where /proc is missing. */
function peakMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Peak resident memory of a process and its children (the serving workers), summed. */
function treePeakMb(pid: number): number {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {}
  return peakMb(pid) + children.reduce((s, c) => s + treePeakMb(c), 0);
}

/** Runs the CLI to completion; its stderr goes through (progress), its stdout is returned. */
async function run(step: string, args: string[], onErr?: (line: string) => void): Promise<string> {
  log(`${step}: cinerec ${args.join(' ')}`);
  const started = performance.now();
  const child = spawn(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let peak = 0;
  const poll = setInterval(() => {
    peak = Math.max(peak, peakMb(child.pid!));
  }, 100);
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  let partial = '';
  child.stderr.on('data', (d: Buffer) => {
    const text = d.toString();
    err += text;
    process.stderr.write(text);
    partial += text;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const l of lines) onErr?.(l);
  });
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  clearInterval(poll);
  if (code !== 0) throw new Error(`cinerec ${args.join(' ')} exited ${code}:\n${err.slice(-4000)}`);
  steps.push({ step, seconds: (performance.now() - started) / 1000, peakMb: peak, note: '' });
  return out;
}

// 1. generate, 2. import, 3. train (with each stage's line as `cinerec train` prints it)
const stages: { stage: string; seconds: number; peakMb: number; metrics: string }[] = [];
let users = 0;
const genome = values['no-genome'] ? [] : ['--genome'];
if (serveOnly) {
  const info = JSON.parse(await run('data info', ['data', 'info', '--json'])) as { counts: { users: number } };
  users = info.counts.users;
  steps.pop();
} else {
  const generated = await run('data generate', [
    'data',
    'generate',
    '--ratings',
    values.ratings,
    ...genome,
    '--out',
    release,
  ]);
  steps.at(-1)!.note = generated.trim().split('\n')[0] ?? '';
  await run('data import', ['data', 'import', release]);
  steps.at(-1)!.note = `${values.ratings} ratings`;
  await run('train', [...sets, 'train'], (line) => {
    const m = /\[\d+\/\d+\] ([\w-]+): finished in ([\d.]+) s, peak RSS ([\d.]+) MB(?:; (.*))?/.exec(line);
    if (!m) return;
    stages.push({ stage: m[1]!, seconds: Number(m[2]), peakMb: Number(m[3]), metrics: m[4] ?? '' });
    const u = /users (\d+)/.exec(m[4] ?? '');
    if (m[1] === 'snapshot' && u) users = Number(u[1]);
  });
  steps.at(-1)!.note = `${stages.length} stages`;
}

// 4. ALS beside implicit, on the generated ratings and on ml-latest-small (when it is in ./data).
let peerTable = '';
if (values.peer && !serveOnly) {
  const files = [join(release, 'ratings.csv')];
  const small = join(root, 'data', 'ml-latest-small', 'ratings.csv');
  if (existsSync(small)) files.unshift(small);
  log(`ALS beside implicit (${values.peer}) on ${files.join(', ')}`);
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '--import',
      'tsx',
      join(root, 'bench', 'peers.ts'),
      '--peer',
      values.peer,
      '--python',
      values.python,
      '--only',
      'als',
      '--repeats',
      '1',
      '--ratings',
      files.join(','),
    ],
    { cwd: root, maxBuffer: 64 << 20 },
  );
  peerTable = stdout.slice(stdout.indexOf('| comparison'));
}

// 5. serve: the version's load time, then personalised requests for trained users at the full catalogue.
log('serve: starting (result cache off)');
const started = performance.now();
const server = spawn(process.execPath, [cli, ...sets, '--set', 'server.cacheSize=0', 'serve', '--port', '0'], {
  env: { ...env, CINEREC_LOG_LEVEL: 'info' },
  stdio: ['ignore', 'ignore', 'pipe'],
});
// A bench that fails must not leave its server running.
process.once('exit', () => server.kill('SIGKILL'));
const serving = await stderrMatch(server, SERVING, 'cinerec serve');
const url = serving[2]!;
const loadSeconds = (performance.now() - started) / 1000;
const movies = Number(serving[1]);
steps.push({
  step: 'serve: start and load',
  seconds: loadSeconds,
  peakMb: peakMb(server.pid!),
  note: `${movies} movies`,
});

const rng = (() => {
  let s = 12345;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
})();
const latencies: number[] = [];
const sources = new Map<string, number>();
// Warm-up first (as a server in service is): the JIT and each worker's first touch of the factor matrices.
for (let r = 0; r < 100; r++)
  await (await fetch(`${url}/v1/users/${1 + Math.floor(rng() * users)}/recommendations`)).text();
for (let r = 0; r < Number(values.requests); r++) {
  const user = 1 + Math.floor(rng() * users);
  const t = performance.now();
  const res = await fetch(`${url}/v1/users/${user}/recommendations`);
  const body = (await res.json()) as { strategy?: string };
  latencies.push(performance.now() - t);
  if (res.status !== 200)
    throw new Error(`GET /v1/users/${user}/recommendations: ${res.status} ${JSON.stringify(body)}`);
  sources.set(body.strategy ?? '?', (sources.get(body.strategy ?? '?') ?? 0) + 1);
}
latencies.sort((a, b) => a - b);
const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
let wrkLine = values.seconds === '0' ? 'not run (--seconds 0)' : 'wrk not installed';
if (values.seconds !== '0')
  try {
    const script = join(dir, 'users.lua');
    writeFileSync(
      script,
      `request = function() return wrk.format("GET", "/v1/users/" .. math.random(1, ${users}) .. "/recommendations") end`,
    );
    const { stdout } = await promisify(execFile)('wrk', [
      '-t2',
      '-c16',
      `-d${values.seconds}s`,
      '--latency',
      '-s',
      script,
      url,
    ]);
    const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? '?';
    const p50 = /\s50%\s+(\S+)/.exec(stdout)?.[1] ?? '?';
    const p99 = /\s99%\s+(\S+)/.exec(stdout)?.[1] ?? '?';
    const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? '0';
    wrkLine = `${Number(rps).toFixed(0)} req/s, p50 ${p50}, p99 ${p99}, non-2xx ${non2xx}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
const peakServe = treePeakMb(server.pid!);
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));

const mb = (x: number) => (x > 0 ? `${(x / 1024).toFixed(2)} GB` : '?');
console.log(
  `cinerec at scale: ${values.ratings} ratings${genome.length ? ' with a genome' : ''}, Node ${process.version}, ` +
    `${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB`,
);
console.log('\n| step | wall | peak memory | note |\n|---|---:|---:|---|');
for (const s of steps) console.log(`| ${s.step} | ${s.seconds.toFixed(1)} s | ${mb(s.peakMb)} | ${s.note} |`);
console.log('\n| training stage | time | peak RSS | metrics |\n|---|---:|---:|---|');
for (const s of stages) console.log(`| ${s.stage} | ${s.seconds.toFixed(1)} s | ${mb(s.peakMb)} | ${s.metrics} |`);
const trainTotal = steps.find((s) => s.step === 'train')?.seconds ?? Number.NaN;
console.log(`\ntrain total ${(trainTotal / 60).toFixed(1)} min; serve peak memory ${mb(peakServe)}`);
console.log(
  `personalised requests (trained users, ${movies.toLocaleString('en-US')} movies, cache off): one at a time ` +
    `${latencies.length} requests, p50 ${q(0.5).toFixed(2)} ms, p99 ${q(0.99).toFixed(2)} ms, max ${latencies.at(-1)!.toFixed(1)} ms ` +
    `(strategies: ${[...sources].map(([k, v]) => `${k} ${v}`).join(', ')}); 16 connections: ${wrkLine}`,
);
if (peerTable) console.log(`\n${peerTable}`);
if (values.json)
  writeFileSync(
    values.json,
    JSON.stringify(
      {
        ratings: values.ratings,
        steps,
        stages,
        serve: { movies, users, loadSeconds, peakMb: peakServe },
        requests: { count: latencies.length, p50: q(0.5), p99: q(0.99), strategies: Object.fromEntries(sources) },
        wrk: wrkLine,
      },
      null,
      2,
    ),
  );
if (!values.keep && !serveOnly) rmSync(dir, { recursive: true, force: true });
else log(`kept ${dir}`);
