import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * The files a module runs: itself and, transitively, every module it imports by a relative specifier. A training
 * stage's cache key hashes this closure, so touching any file a stage really executes (a strategy, a kernel)
 * invalidates it, and nothing else does. Computed from the source, never listed by hand.
 *
 * Type-only imports are skipped (they are erased before anything runs); packages (bare specifiers, node:) are
 * outside the project's code. Besides static imports and re-exports, `import('./x')` with a literal and
 * `new URL('./worker.ts', base)` (worker threads) count; a .js specifier of a .ts module (or the reverse, as
 * the same code runs from sources and compiled) resolves to whichever exists.
 */

const FROM = /(?:^|[;}\n])\s*(import|export)\s+(type\s+)?([^'";]*?)\bfrom\s*['"]([^'"\n]+)['"]/g;
const BARE = /(?:^|[;\n])\s*import\s*['"]([^'"\n]+)['"]/g;
const DYNAMIC = /\bimport\(\s*['"]([^'"\n]+)['"]\s*\)/g;
const WORKER = /\bnew\s+URL\(\s*['"](\.\.?\/[^'"\n]+)['"]\s*,/g;

/** True when every specifier of `{ ... }` is marked `type` (e.g. `import { type A, type B } from`). */
function allTypes(clause: string): boolean {
  const m = /^\{([\s\S]*)\}$/.exec(clause.trim());
  if (!m) return false;
  const names = m[1]!
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return names.length > 0 && names.every((n) => n.startsWith('type '));
}

/** Relative specifiers a module's source refers to at run time. */
export function runtimeImports(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(FROM)) {
    if (m[2] || allTypes(m[3]!)) continue;
    out.push(m[4]!);
  }
  for (const re of [BARE, DYNAMIC, WORKER]) for (const m of source.matchAll(re)) out.push(m[1]!);
  return out.filter((s) => s.startsWith('./') || s.startsWith('../'));
}

/** The source a compiled module came from (dist/x.js → src/x.ts), so keys match however the code runs. */
function sourceOf(path: string): string {
  const at = path.lastIndexOf('/dist/');
  if (at < 0 || !path.endsWith('.js')) return path;
  const src = `${path.slice(0, at)}/src/${path.slice(at + 6, -3)}.ts`;
  return existsSync(src) ? src : path;
}

function existing(path: string): string | null {
  const other = path.endsWith('.js')
    ? `${path.slice(0, -3)}.ts`
    : path.endsWith('.ts')
      ? `${path.slice(0, -3)}.js`
      : '';
  for (const p of [path, other]) {
    if (!p) continue;
    const source = sourceOf(p.endsWith('.ts') ? `${p.slice(0, -3)}.js` : p);
    if (existsSync(source)) return source;
    if (existsSync(p)) return p;
  }
  return null;
}

/** Every file in the run-time import closure of `entries` (absolute paths), sorted. */
export function importClosure(entries: readonly string[]): string[] {
  const seen = new Set<string>();
  const stack = entries.map((e) => {
    const file = existing(resolve(e));
    if (!file) throw new Error(`import closure: ${e} does not exist`);
    return file;
  });
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!/\.(m?[jt]s)$/.test(file)) continue;
    for (const spec of runtimeImports(readFileSync(file, 'utf8'))) {
      const target = existing(resolve(dirname(file), spec));
      if (!target) throw new Error(`import closure: ${file} imports ${spec}, which does not exist`);
      stack.push(target);
    }
  }
  return [...seen].sort();
}
