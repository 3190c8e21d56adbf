/**
 * The README, walked as a new user would (issue 20; `npm run test:readme`, run by CI after `npm test`): the code
 * blocks marked ```sh walk run in order, as written, in a fresh copy of the project (its git files, this install's
 * node_modules and build, the MovieLens data linked into ./data); a ```sh walk-server block runs while `npm start`
 * serves. Each must exit 0 and print no stack trace. `npm install` itself is not run: CI is offline.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { PROJECT_ROOT, realData } from '../helpers/real-data.ts';

const STACK_LINE = /^\s+at .+(:\d+:\d+\)?|\(node:internal.*\))$/m;
const TOKEN = 'readme-walk-token-0123456789abcdef';
const copy = mkdtempSync(join(tmpdir(), 'cinerec-readme-'));
// CINEREC_WALK_KEEP=1 keeps the copy to look into after a failure.
after(() => {
  if (!process.env.CINEREC_WALK_KEEP) rmSync(copy, { recursive: true, force: true });
  else process.stderr.write(`the walked copy: ${copy}\n`);
});

interface Block {
  kind: 'walk' | 'walk-server';
  script: string;
  line: number;
}

function blocks(readme: string): Block[] {
  const out: Block[] = [];
  for (const m of readme.matchAll(/^```sh (walk|walk-server)\n([\s\S]*?)^```$/gm))
    out.push({
      kind: m[1] as Block['kind'],
      script: m[2]!,
      line: readme.slice(0, m.index).split('\n').length,
    });
  return out;
}

/** A fresh copy: the files git tracks, plus what `npm install` would have made here. */
async function freshCopy(): Promise<void> {
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: PROJECT_ROOT, encoding: 'utf8' })
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    cpSync(join(PROJECT_ROOT, file), join(copy, file));
  }
  // The install's packages, linked; its own .bin, so that `npx cinerec` runs the copy (npm install's prepare links it).
  const modules = join(copy, 'node_modules');
  mkdirSync(join(modules, '.bin'), { recursive: true });
  for (const entry of readdirSync(join(PROJECT_ROOT, 'node_modules')))
    if (entry !== '.bin') symlinkSync(join(PROJECT_ROOT, 'node_modules', entry), join(modules, entry));
  for (const entry of readdirSync(join(PROJECT_ROOT, 'node_modules', '.bin')))
    if (entry !== 'cinerec')
      symlinkSync(realpathSync(join(PROJECT_ROOT, 'node_modules', '.bin', entry)), join(modules, '.bin', entry));
  symlinkSync('../../bin/cinerec.js', join(modules, '.bin', 'cinerec'));
  cpSync(join(PROJECT_ROOT, 'dist'), join(copy, 'dist'), { recursive: true });
  cpSync(join(PROJECT_ROOT, 'web', 'dist'), join(copy, 'web', 'dist'), { recursive: true });
  mkdirSync(join(copy, 'data'));
  symlinkSync(await realData('ml-latest-small'), join(copy, 'data', 'ml-latest-small'));
}

/** The environment of a user who followed the quick start: no cinerec settings but the admin token. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CINEREC_')) env[k] = v;
  return { ...env, CINEREC_ADMIN_TOKEN: TOKEN, NO_COLOR: '1' };
}

function runBlock(block: Block): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', block.script], { cwd: copy, env: userEnv() });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

async function startServer(): Promise<() => Promise<void>> {
  const child = spawn('npm', ['start'], { cwd: copy, env: userEnv(), detached: true });
  let log = '';
  child.stdout.on('data', (c: Buffer) => (log += c.toString()));
  child.stderr.on('data', (c: Buffer) => (log += c.toString()));
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}:\n${log}`);
    if (Date.now() > deadline) throw new Error(`npm start did not answer /health within 300 s:\n${log}`);
    try {
      if ((await fetch('http://localhost:8080/health')).ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.doesNotMatch(log, STACK_LINE, 'npm start prints no stack trace');
  return async () => {
    process.kill(-child.pid!, 'SIGTERM');
    await new Promise((r) => child.once('exit', r));
  };
}

test('the README walked as written: every runnable block exits 0 without a stack trace', {
  timeout: 900_000,
}, async (t) => {
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
  const walk = blocks(readme);
  assert.ok(walk.some((b) => b.kind === 'walk') && walk.some((b) => b.kind === 'walk-server'), 'runnable blocks');
  await freshCopy();
  for (const block of walk) {
    await t.test(`README.md line ${block.line}: ${block.script.split('\n')[0]}…`, async () => {
      const stop = block.kind === 'walk-server' ? await startServer() : null;
      try {
        const { code, output } = await runBlock(block);
        assert.equal(code, 0, `the block exits 0:\n${output}`);
        assert.doesNotMatch(output, STACK_LINE, `no stack trace:\n${output}`);
      } finally {
        await stop?.();
      }
    });
  }
});
