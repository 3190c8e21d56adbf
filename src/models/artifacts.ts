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
      // Copy into a fresh, aligned buffer: the file buffer's offset need not suit the element size.
      const copy = new Uint8Array(bytes);
      copy.set(bin.subarray(e.offset, e.offset + bytes));
      return new Ctor(copy.buffer) as InstanceType<(typeof KINDS)[K]>;
    },
  };
}
