import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * A fitted model on disk: manifest.json (parameters, small objects, array directory) and arrays.bin
 * (typed arrays back to back, 8-byte aligned). Written to a temporary directory and renamed, so a
 * reader sees either the old model or the whole new one.
 */

type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;
const KINDS = { Float32Array, Float64Array, Int32Array, Uint8Array } as const;
type Kind = keyof typeof KINDS;

interface ArrayEntry {
  kind: Kind;
  offset: number;
  length: number;
}

interface Manifest<M> {
  format: string;
  meta: M;
  arrays: Record<string, ArrayEntry>;
}

export function writeArtifact<M>(dir: string, format: string, meta: M, arrays: Record<string, TypedArray>): void {
  const entries: Record<string, ArrayEntry> = {};
  let offset = 0;
  for (const [name, a] of Object.entries(arrays)) {
    entries[name] = { kind: a.constructor.name as Kind, offset, length: a.length };
    offset += Math.ceil(a.byteLength / 8) * 8;
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  // Streamed array by array: no second copy of a 25 M-rating column set in memory.
  const fd = openSync(join(tmp, 'arrays.bin'), 'w');
  try {
    const pad = new Uint8Array(8);
    for (const a of Object.values(arrays)) {
      const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, Math.min(bytes.length - off, 1 << 26));
      const rest = Math.ceil(a.byteLength / 8) * 8 - a.byteLength;
      if (rest > 0) writeSync(fd, pad, 0, rest);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  const manifest: Manifest<M> = { format, meta, arrays: entries };
  writeFileSync(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  mkdirSync(dirname(dir), { recursive: true });
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}

export interface Artifact<M> {
  meta: M;
  array<K extends Kind>(name: string, kind: K): InstanceType<(typeof KINDS)[K]>;
}

/** Reads an artifact written by writeArtifact; throws with the path on a missing or foreign file. */
export function readArtifact<M>(dir: string, format: string): Artifact<M> {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest<M>;
  if (manifest.format !== format) throw new Error(`${dir}: format ${manifest.format}, expected ${format}`);
  const bin = readFileSync(join(dir, 'arrays.bin'));
  return {
    meta: manifest.meta,
    array<K extends Kind>(name: string, kind: K) {
      const e = manifest.arrays[name];
      if (!e || e.kind !== kind) throw new Error(`${dir}: no ${kind} array "${name}"`);
      const Ctor = KINDS[kind];
      const bytes = e.length * Ctor.BYTES_PER_ELEMENT;
      if (e.offset + bytes > bin.length) throw new Error(`${dir}: arrays.bin is truncated`);
      // A view of the file's buffer when its offset suits the element size (arrays are written 8-byte aligned, and a
      // large file's buffer is its own): no second copy of a 25 M-rating column. Otherwise a copy, aligned.
      const at = bin.byteOffset + e.offset;
      if (at % Ctor.BYTES_PER_ELEMENT === 0)
        return new Ctor(bin.buffer, at, e.length) as InstanceType<(typeof KINDS)[K]>;
      const copy = new Uint8Array(bytes);
      copy.set(bin.subarray(e.offset, e.offset + bytes));
      return new Ctor(copy.buffer) as InstanceType<(typeof KINDS)[K]>;
    },
  };
}

/** A number JSON cannot carry (or carries without its sign): stored as null in the meta, listed by its path. */
type Special = 'NaN' | 'Infinity' | '-Infinity' | '-0';

/**
 * A model's meta as plain JSON: every NaN, ±Infinity and −0 (reports' missing validation figures,
 * unclipped rating bounds) is written as null and listed with its path, so reading restores it exactly
 * while a null the meta itself holds stays null.
 */
export interface PlainMeta {
  value: unknown;
  special: { path: (string | number)[]; value: Special }[];
}

function specialOf(x: number): Special | null {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Number.POSITIVE_INFINITY) return 'Infinity';
  if (x === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (Object.is(x, -0)) return '-0';
  return null;
}

const SPECIAL_VALUES: Record<Special, number> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
  '-0': -0,
};

export function toPlainMeta(meta: unknown): PlainMeta {
  const special: PlainMeta['special'] = [];
  const walk = (v: unknown, path: (string | number)[]): unknown => {
    if (typeof v === 'number') {
      const s = specialOf(v);
      if (s === null) return v;
      special.push({ path: [...path], value: s });
      return null;
    }
    if (v === null || typeof v !== 'object') return v;
    if (ArrayBuffer.isView(v)) throw new Error(`artifact meta: typed array at ${path.join('.')} belongs in the arrays`);
    if (Array.isArray(v)) return v.map((e, i) => walk(e, [...path, i]));
    const out: Record<string, unknown> = {};
    for (const [k, e] of Object.entries(v)) if (e !== undefined) out[k] = walk(e, [...path, k]);
    return out;
  };
  return { value: walk(meta, []), special };
}

export function fromPlainMeta<M>(plain: PlainMeta): M {
  const root = { value: plain.value } as Record<string | number, unknown>;
  for (const { path, value } of plain.special) {
    let at = root as Record<string | number, unknown>;
    const full = ['value', ...path];
    for (let i = 0; i < full.length - 1; i++) at = at[full[i]!] as Record<string | number, unknown>;
    at[full.at(-1)!] = SPECIAL_VALUES[value];
  }
  return root.value as M;
}

/** writeArtifact with the meta made plain JSON (toPlainMeta); read back with readModel. */
export function writeModel<M>(dir: string, format: string, meta: M, arrays: Record<string, TypedArray>): void {
  writeArtifact(dir, format, toPlainMeta(meta), arrays);
}

/** Reads a model written by writeModel, restoring its meta's non-finite numbers. */
export function readModel<M>(dir: string, format: string): Artifact<M> {
  const a = readArtifact<PlainMeta>(dir, format);
  return { meta: fromPlainMeta<M>(a.meta), array: a.array };
}
