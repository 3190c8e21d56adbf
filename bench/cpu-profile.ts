/**
 * Reads V8 `.cpuprofile` files (written by `node --cpu-prof`) and says where the time went: self time per function
 * and per part of the request path (Node's HTTP, the web framework, JSON, the recommenders' scoring, the store, GC).
 * Used by `npm run bench:serve -- --profile`; also runnable on its own:
 *
 *   npx tsx bench/cpu-profile.ts <file-or-dir> [...]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The part of the system a frame belongs to, judged by its script's path. */
export function partOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (functionName === '(idle)') return 'idle (waiting for requests)';
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(program)') return 'V8 and native code (parsing, sockets, compiling)';
  if (url.startsWith('wasm://')) return 'scoring (recommenders, models, kernels)';
  if (url === '') return functionName === 'stringify' || functionName === 'parse' ? 'JSON' : 'V8 built-ins';
  if (
    /node_modules\/(fastify|@fastify|find-my-way|avvio|light-my-request|fast-json-stringify|ajv|secure-json-parse|toad-cache)/.test(
      url,
    )
  )
    return 'web framework (fastify, routing, validation, serialisation)';
  if (/node_modules\/(pino|thread-stream|sonic-boom)/.test(url)) return 'logging';
  if (/node_modules\/prom-client/.test(url)) return 'metrics';
  if (/node_modules\/(@duckdb|pg)/.test(url)) return 'store driver';
  if (url.includes('node_modules')) return 'other packages';
  if (
    /^node:(_http|http|net|stream|internal\/(http|streams|stream_base|net|timers|dns|url))/.test(url) ||
    /node:internal\/(http|streams|stream_base|net|timers|url)/.test(url)
  )
    return 'Node HTTP, sockets and streams';
  if (url.startsWith('node:')) return 'Node (other)';
  if (/\/(recommend|models|math|features)\//.test(url)) return 'scoring (recommenders, models, kernels)';
  if (/\/(rules|catalogue)\//.test(url) || /\/data\//.test(url)) return 'rules and catalogue';
  if (/\/store\//.test(url)) return 'store';
  if (/\/(server|serving)\//.test(url)) return 'cinerec server (routes, views, cache)';
  return 'cinerec (other)';
}

export interface ProfileSummary {
  totalMs: number;
  busyMs: number;
  parts: { part: string; ms: number; share: number }[];
  functions: { name: string; where: string; part: string; ms: number; share: number }[];
}

/**
 * Self time per function and per part over one or more profiles; shares are of busy (non-idle) time. `window`
 * (µs of the monotonic clock, which V8's profiler and `process.hrtime` share on Linux) keeps only the samples taken
 * while the load ran, leaving out start-up and shutdown.
 */
export function summarise(profiles: CpuProfile[], top = 20, window?: { from: number; to: number }): ProfileSummary {
  const perFunction = new Map<string, { name: string; where: string; part: string; ms: number }>();
  const perPart = new Map<string, number>();
  let totalMs = 0;
  for (const p of profiles) {
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    let at = p.startTime;
    for (let i = 0; i < p.samples.length; i++) {
      at += p.timeDeltas[i] ?? 0;
      const node = byId.get(p.samples[i]!);
      if (!node || (window && (at < window.from || at > window.to))) continue;
      const ms = (p.timeDeltas[i] ?? 0) / 1000;
      totalMs += ms;
      const f = node.callFrame;
      const part = partOf(f);
      perPart.set(part, (perPart.get(part) ?? 0) + ms);
      const where = f.url
        ? `${f.url.replace(/^file:\/\/.*?\/(src|node_modules|dist)\//, '$1/')}:${f.lineNumber + 1}`
        : '';
      const key = `${f.functionName}@${where}`;
      const entry = perFunction.get(key) ?? { name: f.functionName || '(anonymous)', where, part, ms: 0 };
      entry.ms += ms;
      perFunction.set(key, entry);
    }
  }
  const idle = perPart.get('idle (waiting for requests)') ?? 0;
  const busyMs = totalMs - idle;
  const share = (ms: number) => (busyMs > 0 ? ms / busyMs : 0);
  return {
    totalMs,
    busyMs,
    parts: [...perPart]
      .filter(([part]) => part !== 'idle (waiting for requests)')
      .map(([part, ms]) => ({ part, ms, share: share(ms) }))
      .sort((a, b) => b.ms - a.ms),
    functions: [...perFunction.values()]
      .filter((f) => f.part !== 'idle (waiting for requests)')
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top)
      .map((f) => ({ ...f, share: share(f.ms) })),
  };
}

export function readProfiles(paths: string[]): CpuProfile[] {
  const files = paths.flatMap((p) =>
    statSync(p).isDirectory()
      ? readdirSync(p)
          .filter((f) => f.endsWith('.cpuprofile'))
          .map((f) => join(p, f))
      : [p],
  );
  return files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as CpuProfile);
}

/** Markdown tables: the parts, then the top functions by self time. */
export function formatSummary(s: ProfileSummary, requests?: number): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const perRequest = (ms: number) => (requests ? ` | ${((1000 * ms) / requests).toFixed(1)} µs` : '');
  const head = requests ? ' | per request |\n|---|---:|---:|---:|' : ' |\n|---|---:|---:|';
  const lines = [
    `CPU busy ${(s.busyMs / 1000).toFixed(1)} s of ${(s.totalMs / 1000).toFixed(1)} s sampled${requests ? ` over ${requests.toLocaleString('en-US')} requests` : ''}`,
    '',
    `| part | self time | share${head}`,
    ...s.parts.map((p) => `| ${p.part} | ${(p.ms / 1000).toFixed(2)} s | ${pct(p.share)}${perRequest(p.ms)} |`),
    '',
    '| function | where | part | share |\n|---|---|---|---:|',
    ...s.functions.map((f) => `| ${f.name} | ${f.where} | ${f.part} | ${pct(f.share)} |`),
  ];
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const paths = process.argv.slice(2);
  if (paths.length === 0) {
    console.error('usage: npx tsx bench/cpu-profile.ts <file-or-dir> [...]');
    process.exit(2);
  }
  console.log(formatSummary(summarise(readProfiles(paths))));
}
