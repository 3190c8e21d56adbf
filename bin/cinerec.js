#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm install` or `npm run build`) when it is at least as new as every
// source file; otherwise (a checkout being edited) the TypeScript sources through tsx, so the CLI never runs stale code.
import { readdirSync, statSync } from 'node:fs';

const root = new URL('..', import.meta.url);

function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function built() {
  try {
    return statSync(new URL('dist/.built', root)).mtimeMs >= newestSource(new URL('src', root).pathname);
  } catch {
    return false;
  }
}

if (built()) {
  await import('../dist/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
