import type { Readable } from 'node:stream';

/**
 * Reads PostgreSQL's binary COPY format (COPY … TO STDOUT (FORMAT binary)) straight into typed arrays: 25 M
 * ratings arrive as four columns without a JavaScript object per row. Only fixed-width, non-null columns.
 * Format: an 11-byte signature, flags and an extension area, then per row a 16-bit field count and, per field,
 * a 32-bit length and the big-endian value; a field count of −1 ends the data.
 */

export type FixedType = 'int4' | 'float4' | 'int8' | 'float8';

const WIDTH: Record<FixedType, number> = { int4: 4, float4: 4, int8: 8, float8: 8 };

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

export interface Columns {
  /** One array per column: Int32Array for int4, Float32Array for float4, Float64Array for int8 and float8. */
  arrays: (Int32Array | Float32Array | Float64Array)[];
  rows: number;
}

function arrayFor(type: FixedType, n: number): Int32Array | Float32Array | Float64Array {
  return type === 'int4' ? new Int32Array(n) : type === 'float4' ? new Float32Array(n) : new Float64Array(n);
}

/** Parses `expected` rows of the given column types from a binary COPY stream. */
export async function readBinaryCopy(
  stream: Readable,
  types: readonly FixedType[],
  expected: number,
): Promise<Columns> {
  const arrays = types.map((t) => arrayFor(t, expected));
  const rowBytes = 2 + types.reduce((s, t) => s + 4 + WIDTH[t], 0);
  let pending: Buffer = Buffer.alloc(0);
  let headerDone = false;
  let rows = 0;
  let ended = false;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let at = 0;
    if (!headerDone) {
      if (pending.length < 19) continue;
      if (!pending.subarray(0, 11).equals(SIGNATURE)) throw new Error('not a PostgreSQL binary COPY stream');
      const extension = pending.readUInt32BE(15);
      if (pending.length < 19 + extension) continue;
      at = 19 + extension;
      headerDone = true;
    }
    while (!ended && pending.length - at >= 2) {
      const fields = pending.readInt16BE(at);
      if (fields === -1) {
        ended = true;
        at += 2;
        break;
      }
      if (pending.length - at < rowBytes) break;
      if (fields !== types.length) throw new Error(`binary COPY: ${fields} fields in a row, expected ${types.length}`);
      if (rows >= expected) throw new Error(`binary COPY: more than the ${expected} rows counted`);
      let p = at + 2;
      for (let c = 0; c < types.length; c++) {
        const len = pending.readInt32BE(p);
        p += 4;
        const t = types[c]!;
        if (len !== WIDTH[t]) throw new Error(`binary COPY: a ${t} field of ${len} bytes (nulls are not expected)`);
        const a = arrays[c]!;
        if (t === 'int4') a[rows] = pending.readInt32BE(p);
        else if (t === 'float4') a[rows] = pending.readFloatBE(p);
        else if (t === 'float8') a[rows] = pending.readDoubleBE(p);
        else a[rows] = Number(pending.readBigInt64BE(p));
        p += len;
      }
      rows++;
      at = p;
    }
    pending = pending.subarray(at);
  }
  if (!ended) throw new Error('binary COPY: the stream ended before its trailer');
  if (rows !== expected) throw new Error(`binary COPY: ${rows} rows, expected ${expected}`);
  return { arrays, rows };
}
