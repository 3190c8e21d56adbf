/**
 * Property-based importer fuzzing (issue 15): fast-check mutates real release files (a small consistent slice of
 * ./data/ml-latest-small) and every fixture release (CSV, ml-1m and ml-10m `::` .dat, ml-100k, the broken ones) —
 * truncation, random bytes, wrong encodings (Latin-1 for UTF-8 and back, UTF-16, BOMs, NULs, Windows-1252 bytes),
 * swapped, dropped and extra columns, huge lines, odd values, duplicated headers and lines, CR/CRLF/LF, empty files,
 * stray quotes, other delimiters, missing files — and imports each mutated directory through the real importer
 * (`detectFormat` and `DuckDbStore.importDataset`, as `cinerec data import` does) into a store that already holds a
 * valid import. The properties: the import succeeds (and reports the counts the store then holds) or fails with one of
 * the project's clear errors (ImportError, FormatError, ValidationError), never anything else; a failed import leaves
 * the store exactly as it was (counts, dataset and a hash of every row of every table); no staging table outlives an
 * import. A few cases also go through the real CLI binary (exit 0, or 1 with one line and no stack trace). Used by
 * test/fuzz/import.test.ts (a short run) and bench/fuzz-import.ts (`npm run fuzz:import`, the long one).
 *
 * Known limit, not a crash: a line with very many extra fields is slow to reject, because DuckDB's CSV reader records
 * one reject per extra field and copies the line into each (time ∝ extra fields × line length: 16,000 extra fields
 * in a 32 KB line take ~7 s, a 2 MB line of 700,000 fields hours). The `many-fields` mutation stays below that.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { detectFormat, FormatError, type SourceFile } from '../../src/data/formats.ts';
import { Db } from '../../src/store/duckdb/connection.ts';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.ts';
import { ImportError } from '../../src/store/import-types.ts';
import { ValidationError } from '../../src/util/errors.ts';
import { PROJECT_ROOT, realData } from '../helpers/real-data.ts';

/** One change to one file of a release (`file` indexes the release's files, modulo their number). */
export type Mutation =
  | { kind: 'truncate'; file: number; at: number }
  | { kind: 'truncate-lines'; file: number; keep: number }
  | { kind: 'random-bytes'; file: number; edits: { at: number; byte: number; op: 'set' | 'insert' | 'delete' }[] }
  | { kind: 'encoding'; file: number; to: 'latin-1' | 'utf-8-from-latin-1' | 'utf-16le' | 'utf-16be' }
  | { kind: 'bom'; file: number; bom: 'utf-8' | 'utf-8-twice' | 'utf-16le' | 'utf-8-mid-file'; at: number }
  | { kind: 'bad-byte'; file: number; at: number; byte: number }
  | { kind: 'nul'; file: number; at: number; count: number }
  | {
      kind: 'swap-columns';
      file: number;
      i: number;
      j: number;
      scope: 'all' | 'header' | 'data' | 'one-line';
      line: number;
    }
  | { kind: 'column-count'; file: number; change: 'drop' | 'add'; col: number; scope: 'all' | 'one-line'; line: number }
  | { kind: 'huge-line'; file: number; line: number; size: number; shape: 'field' | 'many-fields' | 'new-line' }
  | { kind: 'value'; file: number; line: number; col: number; value: number }
  | { kind: 'duplicate-header'; file: number; at: number }
  | { kind: 'duplicate-lines'; file: number; line: number; times: number }
  | { kind: 'line-endings'; file: number; to: 'crlf' | 'lf' | 'cr' | 'mixed' | 'no-final-newline' | 'blank-lines' }
  | { kind: 'empty'; file: number; content: 'nothing' | 'newline' | 'header' | 'spaces' | 'crlf' }
  | { kind: 'quote'; file: number; at: number; how: 'insert' | 'wrap-field' | 'unterminated' }
  | { kind: 'delimiter'; file: number; to: ',' | ';' | '\t' | '|' | ':' | '::' }
  | { kind: 'shuffle'; file: number; seed: number }
  | { kind: 'delete-file'; file: number };

export interface ImportCase {
  /** A release under the fuzzer's sources (fixture name or `ml-latest-small-slice`). */
  source: string;
  mutations: Mutation[];
  lenient: boolean;
}

export type Outcome = 'success' | 'ImportError' | 'FormatError' | 'ValidationError' | 'crash';

export interface ImportFuzzReport {
  /** Cases run (fewer than asked when the time limit stopped the run). */
  cases: number;
  successes: number;
  /** Imports that failed with ImportError, FormatError or ValidationError. */
  clearErrors: number;
  /** Failures by error class (the clear ones and, for crashes, the class that was thrown). */
  byError: Record<string, number>;
  /** Imports that threw anything other than a clear error (or rejected a promise nobody awaited). */
  crashes: number;
  /** Failed imports after which the store differed from before. */
  storeChangedOnError: number;
  /** Successful imports whose report disagreed with the counts the store then held. */
  wrongReports: number;
  /** Cases after which a staging table was left in the store's connection. */
  leakedStaging: number;
  /** Outcomes by mutation kind (a case with several mutations counts for each). */
  byMutation: Record<string, Record<string, number>>;
  /** Outcomes by source release. */
  bySource: Record<string, Record<string, number>>;
  /** Cases also run through the real CLI, and the ones whose exit or output was wrong. */
  cli: { cases: number; failures: number };
  /** Longest clear error message (a message is one line of a terminal: very long ones are worth a look). */
  longestMessage: number;
  /** The first failures in full: case, what went wrong. */
  failures: string[];
  /** A few clear error messages, one per error class and mutation kind, to read. */
  samples: string[];
  seconds: number;
}

export interface ImportFuzzOptions {
  cases: number;
  seed: number;
  /** Stops starting new cases after this many milliseconds (the cases run so far are reported). */
  timeLimitMs?: number;
  /** How many of the cases (spread evenly) also go through `node bin/cinerec.js data import`. */
  cliCases?: number;
  log?: (line: string) => void;
  /** Logs every case with its outcome and time. */
  verbose?: boolean;
}

const FIXTURES = path.join(PROJECT_ROOT, 'fixtures');
const REAL_SLICE = 'ml-latest-small-slice';
const BASE_SOURCE = 'genome';
/** Extra fields a `many-fields` huge line gets at most. */
const MANY_FIELDS = 1000;
/** Seconds a single import may take before the run is stopped as hung. */
const HANG_SECONDS = 120;

/** Odd values written into a field; bytes as a Latin-1 string, so `Caf\xE9` is the single byte 0xE9. */
const VALUES: readonly string[] = [
  '',
  ' ',
  '-1',
  '0',
  '2147483647',
  '2147483648',
  '-2147483649',
  '9223372036854775808',
  '99999999999999999999999',
  '1e400',
  '-1e400',
  '1e-400',
  'NaN',
  'nan',
  'inf',
  '-Infinity',
  '0x1F',
  '+3',
  '3.',
  '.5',
  '4,5',
  '5.0000001',
  '0.50000000000000001',
  '  4.5  ',
  'null',
  'NULL',
  '\\N',
  'true',
  '"5"',
  '"',
  "'",
  '\\',
  ';DROP TABLE ratings;--',
  'x'.repeat(300),
  '\u0000',
  'a\u0007b',
  'Caf\xE9',
  utf8('Café ١٢٣ １２ 😀 \u2028'),
  utf8('\uFEFF1'),
  '\x92',
  '\xFF\xFE',
  '1\r2',
  '(no genres listed)',
  'Action|Action||Comedy|',
  'Toy Story (19955)',
  'Title (3000)',
  '()',
];

function utf8(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

// ---------------------------------------------------------------------------------------------------------------
// Generators

/** A position in a file or a list, 0 ≤ x < 1: uniform (fast-check's own bias would put every edit at the start), or an end. */
const frac = fc.oneof(
  { arbitrary: fc.noBias(fc.nat({ max: 999_999 })).map((n) => n / 1_000_000), weight: 8 },
  { arbitrary: fc.constantFrom(0, 0.999_999), weight: 1 },
);
const fileIx = fc.nat({ max: 1000 });
const lineIx = frac;

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('truncate' as const), file: fileIx, at: frac }), weight: 3 },
  {
    arbitrary: fc.record({ kind: fc.constant('truncate-lines' as const), file: fileIx, keep: fc.nat({ max: 12 }) }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('random-bytes' as const),
      file: fileIx,
      edits: fc.array(
        fc.record({
          at: frac,
          byte: fc.nat({ max: 255 }),
          op: fc.constantFrom('set' as const, 'insert' as const, 'delete' as const),
        }),
        { minLength: 1, maxLength: 24 },
      ),
    }),
    weight: 5,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('encoding' as const),
      file: fileIx,
      to: fc.constantFrom('latin-1' as const, 'utf-8-from-latin-1' as const, 'utf-16le' as const, 'utf-16be' as const),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('bom' as const),
      file: fileIx,
      bom: fc.constantFrom('utf-8' as const, 'utf-8-twice' as const, 'utf-16le' as const, 'utf-8-mid-file' as const),
      at: frac,
    }),
    weight: 2,
  },
  // Windows-1252 punctuation (0x80–0x9F) is not Latin-1 text; 0xC0–0xFF starts invalid UTF-8 on its own.
  {
    arbitrary: fc.record({
      kind: fc.constant('bad-byte' as const),
      file: fileIx,
      at: frac,
      byte: fc.oneof(fc.integer({ min: 0x80, max: 0x9f }), fc.integer({ min: 0xc0, max: 0xff })),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('nul' as const),
      file: fileIx,
      at: frac,
      count: fc.integer({ min: 1, max: 4 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('swap-columns' as const),
      file: fileIx,
      i: fc.nat({ max: 5 }),
      j: fc.nat({ max: 5 }),
      scope: fc.constantFrom('all' as const, 'header' as const, 'data' as const, 'one-line' as const),
      line: lineIx,
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('column-count' as const),
      file: fileIx,
      change: fc.constantFrom('drop' as const, 'add' as const),
      col: fc.nat({ max: 5 }),
      scope: fc.constantFrom('all' as const, 'one-line' as const),
      line: lineIx,
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('huge-line' as const),
      file: fileIx,
      line: lineIx,
      // Around DuckDB's 2 MiB maximum line size, and well below and above it.
      size: fc.constantFrom(70_000, 1_000_000, 2_097_140, 2_097_160, 3_000_000),
      shape: fc.constantFrom('field' as const, 'many-fields' as const, 'new-line' as const),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('value' as const),
      file: fileIx,
      line: lineIx,
      col: fc.nat({ max: 5 }),
      value: fc.nat({ max: VALUES.length - 1 }),
    }),
    weight: 6,
  },
  { arbitrary: fc.record({ kind: fc.constant('duplicate-header' as const), file: fileIx, at: frac }), weight: 2 },
  {
    arbitrary: fc.record({
      kind: fc.constant('duplicate-lines' as const),
      file: fileIx,
      line: lineIx,
      times: fc.integer({ min: 1, max: 3 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('line-endings' as const),
      file: fileIx,
      to: fc.constantFrom(
        'crlf' as const,
        'lf' as const,
        'cr' as const,
        'mixed' as const,
        'no-final-newline' as const,
        'blank-lines' as const,
      ),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('empty' as const),
      file: fileIx,
      content: fc.constantFrom(
        'nothing' as const,
        'newline' as const,
        'header' as const,
        'spaces' as const,
        'crlf' as const,
      ),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('quote' as const),
      file: fileIx,
      at: frac,
      how: fc.constantFrom('insert' as const, 'wrap-field' as const, 'unterminated' as const),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('delimiter' as const),
      file: fileIx,
      to: fc.constantFrom(',' as const, ';' as const, '\t' as const, '|' as const, ':' as const, '::' as const),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant('shuffle' as const), file: fileIx, seed: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('delete-file' as const), file: fileIx }), weight: 1 },
);

function caseArbitrary(sources: readonly string[]): fc.Arbitrary<ImportCase> {
  return fc.record({
    // The real slice and the good fixtures first: the broken ones fail before any mutation.
    source: fc.oneof(
      { arbitrary: fc.constantFrom(...sources.filter((s) => !s.startsWith('broken/'))), weight: 4 },
      { arbitrary: fc.constantFrom(...sources.filter((s) => s.startsWith('broken/'))), weight: 1 },
    ),
    mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }),
    lenient: fc.boolean().chain((b) => (b ? fc.boolean() : fc.constant(false))), // a quarter of the cases
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Mutations, on bytes held as Latin-1 strings (one character per byte)

interface FileInfo {
  name: string;
  delimiter: string;
  header: boolean;
}

function splitLines(s: string): string[] {
  return s.split('\n');
}

/** Index of a line with text (not the empty piece after the final newline), or -1. */
function pickLine(lines: string[], at: number, skipHeader: boolean): number {
  const candidates: number[] = [];
  for (let i = skipHeader ? 1 : 0; i < lines.length; i++) if (lines[i]!.replace(/\r$/, '') !== '') candidates.push(i);
  if (candidates.length === 0) return -1;
  return candidates[Math.floor(at * candidates.length)]!;
}

function mapFields(line: string, delimiter: string, fn: (fields: string[]) => string[]): string {
  const cr = line.endsWith('\r');
  const body = cr ? line.slice(0, -1) : line;
  if (body === '') return line;
  return fn(body.split(delimiter)).join(delimiter) + (cr ? '\r' : '');
}

function swap(fields: string[], i: number, j: number): string[] {
  if (fields.length < 2) return fields;
  const a = i % fields.length;
  let b = j % fields.length;
  if (a === b) b = (b + 1) % fields.length;
  const out = fields.slice();
  [out[a], out[b]] = [out[b]!, out[a]!];
  return out;
}

/** Deterministic shuffle (mulberry32). */
function shuffled<T>(items: T[], seed: number): T[] {
  let t = seed >>> 0;
  const next = () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const k = Math.floor(next() * (i + 1));
    [out[i], out[k]] = [out[k]!, out[i]!];
  }
  return out;
}

function at(s: string, f: number): number {
  return Math.floor(f * (s.length + 1));
}

function headerOf(file: FileInfo, s: string): string {
  if (file.header) return splitLines(s)[0] ?? '';
  // A header where none belongs: what a CSV release would have.
  return ['userId', 'movieId', 'rating', 'timestamp'].join(file.delimiter);
}

/** Applies one mutation to the bytes of one file (Latin-1 string); null deletes the file. */
export function mutate(s: string, m: Mutation, file: FileInfo): string | null {
  const d = file.delimiter;
  switch (m.kind) {
    case 'truncate':
      return s.slice(0, Math.floor(m.at * s.length));
    case 'truncate-lines':
      return splitLines(s).slice(0, m.keep).join('\n') + (m.keep > 0 ? '\n' : '');
    case 'random-bytes': {
      let out = s;
      for (const e of m.edits) {
        const p = Math.min(at(out, e.at), out.length);
        const ch = String.fromCharCode(e.byte);
        if (e.op === 'insert') out = out.slice(0, p) + ch + out.slice(p);
        else if (e.op === 'delete') out = out.slice(0, p) + out.slice(p + 1);
        else out = out.slice(0, p) + ch + out.slice(p + 1);
      }
      return out;
    }
    case 'encoding': {
      const bytes = Buffer.from(s, 'latin1');
      switch (m.to) {
        case 'latin-1':
          // Characters above U+00FF keep their low byte, as a careless converter would.
          return Buffer.from(bytes.toString('utf8'), 'latin1').toString('latin1');
        case 'utf-8-from-latin-1':
          return Buffer.from(bytes.toString('latin1'), 'utf8').toString('latin1');
        case 'utf-16le':
          return `\xFF\xFE${Buffer.from(bytes.toString('utf8'), 'utf16le').toString('latin1')}`;
        case 'utf-16be': {
          const le = Buffer.from(bytes.toString('utf8'), 'utf16le');
          return `\xFE\xFF${Buffer.from(le).swap16().toString('latin1')}`;
        }
      }
      return s;
    }
    case 'bom': {
      const bom = m.bom === 'utf-16le' ? '\xFF\xFE' : '\xEF\xBB\xBF';
      if (m.bom === 'utf-8-twice') return bom + bom + s;
      if (m.bom === 'utf-8-mid-file') {
        const lines = splitLines(s);
        const i = pickLine(lines, m.at, false);
        if (i >= 0) lines[i] = bom + lines[i];
        return lines.join('\n');
      }
      return bom + s;
    }
    case 'bad-byte': {
      const p = at(s, m.at);
      return s.slice(0, p) + String.fromCharCode(m.byte) + s.slice(p);
    }
    case 'nul': {
      const p = at(s, m.at);
      return s.slice(0, p) + '\0'.repeat(m.count) + s.slice(p);
    }
    case 'swap-columns': {
      const lines = splitLines(s);
      const one = pickLine(lines, m.line, file.header);
      return lines
        .map((line, i) => {
          const isHeader = file.header && i === 0;
          const hit =
            m.scope === 'all' ||
            (m.scope === 'header' && (isHeader || (!file.header && i === 0))) ||
            (m.scope === 'data' && !isHeader) ||
            (m.scope === 'one-line' && i === one);
          return hit ? mapFields(line, d, (f) => swap(f, m.i, m.j)) : line;
        })
        .join('\n');
    }
    case 'column-count': {
      const lines = splitLines(s);
      const one = pickLine(lines, m.line, file.header);
      return lines
        .map((line, i) =>
          m.scope === 'all' || i === one
            ? mapFields(line, d, (f) => {
                const out = f.slice();
                const c = m.col % (out.length + (m.change === 'add' ? 1 : 0));
                if (m.change === 'drop') out.splice(c, 1);
                else out.splice(c, 0, out[c] ?? '1');
                return out;
              })
            : line,
        )
        .join('\n');
    }
    case 'huge-line': {
      const lines = splitLines(s);
      const i = pickLine(lines, m.line, file.header);
      if (m.shape === 'new-line' || i < 0) {
        const line = 'x'.repeat(m.size);
        lines.splice(i < 0 ? lines.length : i, 0, line);
      } else if (m.shape === 'field') {
        lines[i] = mapFields(lines[i]!, d, (f) => {
          const out = f.slice();
          out[out.length > 1 ? 1 : 0] = 'y'.repeat(m.size);
          return out;
        });
      } else {
        // At most MANY_FIELDS extra fields: DuckDB's reader spends time ∝ extra fields × line length (one reject
        // per extra field, each with the line), so a 2 MB line of 700,000 fields would take hours (see the module doc).
        const n = Math.min(MANY_FIELDS, Math.floor(m.size / (d.length + 1)));
        lines[i] = `${lines[i]!.replace(/\r$/, '')}${`${d}1`.repeat(n)}`;
      }
      return lines.join('\n');
    }
    case 'value': {
      const lines = splitLines(s);
      const i = pickLine(lines, m.line, file.header);
      if (i < 0) return s;
      lines[i] = mapFields(lines[i]!, d, (f) => {
        const out = f.slice();
        out[m.col % out.length] = VALUES[m.value]!;
        return out;
      });
      return lines.join('\n');
    }
    case 'duplicate-header': {
      const lines = splitLines(s);
      const header = headerOf(file, s);
      lines.splice(Math.floor(m.at * lines.length), 0, header);
      return lines.join('\n');
    }
    case 'duplicate-lines': {
      const lines = splitLines(s);
      const i = pickLine(lines, m.line, file.header);
      if (i < 0) return s;
      lines.splice(i + 1, 0, ...Array<string>(m.times).fill(lines[i]!));
      return lines.join('\n');
    }
    case 'line-endings': {
      const lf = s.replace(/\r\n/g, '\n');
      switch (m.to) {
        case 'crlf':
          return lf.replace(/\n/g, '\r\n');
        case 'lf':
          return lf;
        case 'cr':
          return lf.replace(/\n/g, '\r');
        case 'mixed':
          return lf
            .split('\n')
            .map((l, i) => (i % 3 === 1 ? `${l}\r` : l))
            .join('\n');
        case 'no-final-newline':
          return s.replace(/\r?\n$/, '');
        case 'blank-lines':
          return lf
            .split('\n')
            .flatMap((l, i) => (i % 4 === 2 ? [l, '', ' '] : [l]))
            .join('\n');
      }
      return s;
    }
    case 'empty':
      switch (m.content) {
        case 'nothing':
          return '';
        case 'newline':
          return '\n';
        case 'header':
          return file.header ? `${splitLines(s)[0]}\n` : '';
        case 'spaces':
          return '   \n \n';
        case 'crlf':
          return '\r\n\r\n';
      }
      return s;
    case 'quote': {
      if (m.how === 'insert') {
        const p = at(s, m.at);
        return `${s.slice(0, p)}"${s.slice(p)}`;
      }
      const lines = splitLines(s);
      const i = pickLine(lines, m.at, file.header);
      if (i < 0) return s;
      lines[i] = mapFields(lines[i]!, d, (f) => {
        const out = f.slice();
        const c = out.length > 1 ? 1 : 0;
        out[c] = m.how === 'wrap-field' ? `"${out[c]}"` : `"${out[c]}`;
        return out;
      });
      return lines.join('\n');
    }
    case 'delimiter':
      return s.split(d).join(m.to);
    case 'shuffle': {
      const lines = splitLines(s);
      const last = lines[lines.length - 1] === '' ? lines.pop() : undefined;
      return shuffled(lines, m.seed).join('\n') + (last !== undefined ? '\n' : '');
    }
    case 'delete-file':
      return null;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Sources

/**
 * A small consistent slice of ml-latest-small, the real bytes of its lines: the first 400 ratings, the first 200 tags,
 * the first 300 movies and every movie those ratings and tags name, and their links.
 */
function writeRealSlice(realDir: string, out: string): void {
  mkdirSync(out, { recursive: true });
  const read = (f: string) => readFileSync(path.join(realDir, f), 'latin1').split('\n');
  const idAt = (line: string, col: number) => line.split(',')[col];
  const ratings = read('ratings.csv').slice(0, 401);
  const tags = read('tags.csv').slice(0, 201);
  const movies = read('movies.csv');
  const wanted = new Set<string>();
  for (const l of ratings.slice(1)) wanted.add(idAt(l, 1)!);
  for (const l of tags.slice(1)) wanted.add(idAt(l, 1)!);
  for (const l of movies.slice(1, 301)) wanted.add(idAt(l, 0)!);
  const keep = (lines: string[]) => [lines[0]!, ...lines.slice(1).filter((l) => wanted.has(idAt(l, 0)!))];
  const write = (f: string, lines: string[]) =>
    writeFileSync(path.join(out, f), Buffer.from(`${lines.join('\n')}\n`, 'latin1'));
  write('movies.csv', keep(movies));
  write('ratings.csv', ratings);
  write('tags.csv', tags);
  write('links.csv', keep(read('links.csv')));
}

function fixtureSources(): string[] {
  const broken = readdirSync(path.join(FIXTURES, 'broken')).map((k) => `broken/${k}`);
  return ['ml-100k', 'ml-1m', 'ml-10m', 'genome', ...broken];
}

// ---------------------------------------------------------------------------------------------------------------
// The store

/** The store's connection, to fingerprint what the Store interface does not expose (tests only). */
function dbOf(store: DuckDbStore): Db {
  const db = (store as unknown as { db: unknown }).db;
  if (!(db instanceof Db)) throw new Error('DuckDbStore no longer keeps its connection in `db`: update the fuzzer');
  return db;
}

/** Counts, dataset and a hash of every row of every table: equal fingerprints mean an unchanged store. */
async function fingerprint(store: DuckDbStore): Promise<{ print: string; staging: number }> {
  const db = dbOf(store);
  const tables = await db.all<{ table_name: string; temporary: boolean }>(
    'SELECT table_name, temporary FROM duckdb_tables() ORDER BY table_name',
  );
  const parts: Record<string, string> = {};
  let staging = 0;
  for (const t of tables) {
    if (t.temporary) {
      staging++;
      continue;
    }
    const row = await db.one(
      `SELECT count(*) AS n, coalesce(sum(hash(t) % 1000000007), 0) AS h, coalesce(bit_xor(hash(t)), 0) AS x FROM "${t.table_name}" t`,
    );
    parts[t.table_name] = `${row?.n}:${row?.h}:${row?.x}`;
  }
  const [counts, dataset] = await Promise.all([store.counts(), store.dataset()]);
  return { print: JSON.stringify({ counts, dataset, parts }), staging };
}

function classify(err: unknown): Outcome {
  if (err instanceof ImportError) return 'ImportError';
  if (err instanceof FormatError) return 'FormatError';
  if (err instanceof ValidationError) return 'ValidationError';
  return 'crash';
}

function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.constructor.name}: ${err.message}`;
  return `thrown ${typeof err}: ${String(err)}`;
}

/** A case in words; `files` (the source's file names) names the file each mutation touches. */
export function describeCase(c: ImportCase, files?: readonly string[]): string {
  return `${c.source}${c.lenient ? ' --lenient' : ''}: ${c.mutations
    .map((m) => {
      const { kind, file, ...rest } = m;
      const shown = JSON.stringify(rest, (k, v) => (k === 'edits' ? `${(v as unknown[]).length} edits` : v));
      const name = files ? files[file % files.length] : `file ${file}`;
      return `${kind}(${name}${shown === '{}' ? '' : ` ${shown}`})`;
    })
    .join(', ')}`;
}

interface CliResult {
  code: number | null;
  stderr: string;
}

function runCli(args: string[], env: Record<string, string>, cwd: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    delete childEnv.CINEREC_CONFIG;
    const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'cinerec.js'), ...args], {
      cwd,
      env: childEnv,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), HANG_SECONDS * 1000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

function bump(table: Record<string, Record<string, number>>, key: string, outcome: string): void {
  const row = table[key] ?? {};
  table[key] = row;
  row[outcome] = (row[outcome] ?? 0) + 1;
}

// ---------------------------------------------------------------------------------------------------------------

export async function fuzzImport(options: ImportFuzzOptions): Promise<ImportFuzzReport> {
  const log = options.log ?? (() => {});
  const started = performance.now();
  const deadline = options.timeLimitMs !== undefined ? started + options.timeLimitMs : Number.POSITIVE_INFINITY;
  const root = await mkdtemp(path.join(os.tmpdir(), 'cinerec-import-fuzz-'));
  const report: ImportFuzzReport = {
    cases: 0,
    successes: 0,
    clearErrors: 0,
    byError: {},
    crashes: 0,
    storeChangedOnError: 0,
    wrongReports: 0,
    leakedStaging: 0,
    byMutation: {},
    bySource: {},
    cli: { cases: 0, failures: 0 },
    longestMessage: 0,
    failures: [],
    samples: [],
    seconds: 0,
  };
  let names = new Map<string, string[]>();
  const fail = (c: ImportCase, index: number, why: string) => {
    if (report.failures.length < 50)
      report.failures.push(`case ${index} (${describeCase(c, names.get(c.source))}): ${why}`);
  };
  const sampled = new Set<string>();

  // Promises rejected with nobody waiting (a stream error inside the importer) are crashes too.
  const stray: unknown[] = [];
  const onStray = (err: unknown) => {
    stray.push(err);
  };
  process.on('unhandledRejection', onStray);

  let store = null as DuckDbStore | null;
  try {
    // Sources: the real slice and every fixture, copied so that a mutation never touches the originals.
    const sourcesDir = path.join(root, 'sources');
    writeRealSlice(await realData('ml-latest-small'), path.join(sourcesDir, REAL_SLICE));
    const sources = [REAL_SLICE, ...fixtureSources()];
    for (const s of sources.slice(1)) cpSync(path.join(FIXTURES, s), path.join(sourcesDir, s), { recursive: true });
    const files = new Map<string, FileInfo[]>(
      sources.map((s) => [
        s,
        detectFormat(path.join(sourcesDir, s)).files.map((f: SourceFile) => ({
          name: f.name,
          delimiter: f.delimiter,
          header: f.header,
        })),
      ]),
    );

    names = new Map([...files].map(([s, infos]) => [s, infos.map((f) => f.name)]));

    // The store starts with a small valid import (with a genome, so that every table holds rows); a successful
    // import is undone by copying that store back, so every case starts from the same data.
    const baseFile = path.join(root, 'base.duckdb');
    const storeFile = path.join(root, 'store.duckdb');
    {
      const base = await DuckDbStore.open(baseFile);
      await base.importDataset(detectFormat(path.join(FIXTURES, BASE_SOURCE)));
      await base.close();
    }
    const restore = async () => {
      if (store) await store.close();
      rmSync(`${storeFile}.wal`, { force: true });
      copyFileSync(baseFile, storeFile);
      store = await DuckDbStore.open(storeFile);
    };
    await restore();
    const baseline = await fingerprint(store!);

    const cases = fc.sample(caseArbitrary(sources), { numRuns: options.cases, seed: options.seed });
    const cliEvery = options.cliCases ? Math.max(1, Math.floor(cases.length / options.cliCases)) : 0;
    log(`${sources.length} sources, ${cases.length} cases, seed ${options.seed}`);

    for (let index = 0; index < cases.length; index++) {
      if (performance.now() > deadline) {
        log(`time limit: stopping after ${index} cases`);
        break;
      }
      const c = cases[index]!;
      const caseStarted = performance.now();
      const work = path.join(root, 'work', String(index));
      const dir = path.join(work, path.basename(c.source));
      cpSync(path.join(sourcesDir, c.source), dir, { recursive: true });
      const infos = files.get(c.source)!;
      for (const m of c.mutations) {
        const info = infos[m.file % infos.length]!;
        const file = path.join(dir, info.name);
        if (!existsSync(file)) continue;
        const out = mutate(readFileSync(file, 'latin1'), m, info);
        if (out === null) rmSync(file);
        else writeFileSync(file, Buffer.from(out, 'latin1'));
      }

      if (options.verbose) log(`case ${index}: ${describeCase(c, names.get(c.source))}`);
      const before = await fingerprint(store!);
      let outcome: Outcome;
      let error: unknown = null;
      let counts: unknown = null;
      let timer: NodeJS.Timeout | undefined;
      try {
        const imported = (async () => {
          const plan = detectFormat(dir);
          return store!.importDataset(plan, { lenient: c.lenient });
        })();
        const hang = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`HANG: no answer within ${HANG_SECONDS} s`)), HANG_SECONDS * 1000);
        });
        const result = await Promise.race([imported, hang]);
        counts = result.counts;
        outcome = 'success';
      } catch (err) {
        error = err;
        outcome = classify(err);
      } finally {
        clearTimeout(timer);
      }
      await new Promise((r) => setImmediate(r));
      if (stray.length > 0) {
        error = stray.splice(0);
        outcome = 'crash';
      }

      report.cases++;
      bump(report.bySource, c.source, outcome);
      for (const kind of new Set(c.mutations.map((m) => m.kind))) bump(report.byMutation, kind, outcome);
      if (outcome !== 'success') {
        const name =
          outcome === 'crash' ? `crash: ${error instanceof Error ? error.constructor.name : typeof error}` : outcome;
        report.byError[name] = (report.byError[name] ?? 0) + 1;
      }
      const after = await fingerprint(store!);
      if (after.staging > 0) {
        report.leakedStaging++;
        fail(c, index, `${after.staging} staging table(s) left after the import`);
      }

      if (outcome === 'success') {
        report.successes++;
        const held = JSON.parse(after.print).counts;
        if (JSON.stringify(held) !== JSON.stringify(counts)) {
          report.wrongReports++;
          fail(c, index, `reported ${JSON.stringify(counts)} but the store holds ${JSON.stringify(held)}`);
        }
      } else {
        if (outcome === 'crash') {
          report.crashes++;
          const text = Array.isArray(error) ? error.map(describeError).join(' | ') : describeError(error);
          fail(c, index, `crash: ${text}${error instanceof Error && error.stack ? `\n${error.stack}` : ''}`);
          if (text.startsWith('Error: HANG')) {
            log('an import hung: stopping the run');
            break;
          }
        } else {
          report.clearErrors++;
          const message = (error as Error).message;
          report.longestMessage = Math.max(report.longestMessage, message.length);
          const key = `${outcome}/${c.mutations[0]!.kind}`;
          if (!sampled.has(key) && report.samples.length < 40) {
            sampled.add(key);
            report.samples.push(`${key}: ${JSON.stringify(message.slice(0, 300))}`);
          }
        }
        if (after.print !== before.print) {
          report.storeChangedOnError++;
          fail(c, index, `the store changed on ${outcome}: ${before.print} → ${after.print}`);
        }
      }

      if (cliEvery > 0 && index % cliEvery === 0 && report.cli.cases < (options.cliCases ?? 0)) {
        report.cli.cases++;
        const cliStore = path.join(root, 'cli.duckdb');
        rmSync(`${cliStore}.wal`, { force: true });
        copyFileSync(baseFile, cliStore);
        const res = await runCli(
          ['data', 'import', dir, ...(c.lenient ? ['--lenient'] : [])],
          {
            CINEREC_STORE: cliStore,
            CINEREC_DATA_DIR: path.join(root, 'cli-data'),
            CINEREC_MODELS_DIR: path.join(root, 'cli-models'),
            CINEREC_REPORTS_DIR: path.join(root, 'cli-reports'),
            CINEREC_LOG_LEVEL: 'error',
          },
          root,
        );
        // Progress lines aside (stderr is not a terminal here), an error is one line "cinerec: …" without a stack.
        const lines = res.stderr
          .trim()
          .split('\n')
          .filter((l) => !/^import .*: \d+\/\d+ \(\d+%\)/.test(l));
        let wrong: string | null = null;
        if (outcome === 'success' && res.code !== 0) wrong = `exit ${res.code} where the import succeeds`;
        else if (outcome !== 'success' && outcome !== 'crash' && res.code !== 1)
          wrong = `exit ${res.code} where the import fails with ${outcome}`;
        else if (
          res.code === 1 &&
          (lines.length !== 1 || !lines[0]!.startsWith('cinerec: ') || /\n\s+at /.test(res.stderr))
        )
          wrong = `error output is not one line: ${res.stderr.slice(0, 500)}`;
        if (!wrong && res.code !== 0) {
          const cli = await DuckDbStore.open(cliStore);
          try {
            if ((await fingerprint(cli)).print !== baseline.print) wrong = 'the store changed on a failed CLI import';
          } finally {
            await cli.close();
          }
        }
        if (wrong) {
          report.cli.failures++;
          fail(c, index, `CLI: ${wrong}`);
        }
      }

      if (outcome === 'success' || after.print !== baseline.print) await restore();
      await rm(work, { recursive: true, force: true });
      if (options.verbose) log(`case ${index}: ${outcome} in ${Math.round(performance.now() - caseStarted)} ms`);
      if (report.cases % 100 === 0)
        log(
          `${report.cases} cases: ${report.successes} imported, ${report.clearErrors} clear errors, ${report.crashes} crashes, ${report.storeChangedOnError} changed on error`,
        );
    }
    report.seconds = Math.round((performance.now() - started) / 100) / 10;
    return report;
  } finally {
    process.off('unhandledRejection', onStray);
    if (store) await (store as DuckDbStore).close();
    await rm(root, { recursive: true, force: true });
  }
}
