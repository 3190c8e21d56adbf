/** "a ranks below b": a lower tier, else a lower score, else (a tie) the higher index. */
function worse(scores: Float32Array | Float64Array, tiers: Uint8Array | undefined, a: number, b: number): boolean {
  if (tiers && tiers[a] !== tiers[b]) return tiers[a]! < tiers[b]!;
  const sa = scores[a]!;
  const sb = scores[b]!;
  return sa < sb || (sa === sb && a > b);
}

/** Restores the heap (worst of the kept entries at the root) below position i, over heap[0, size). */
function siftDown(
  heap: Int32Array,
  size: number,
  i: number,
  scores: Float32Array | Float64Array,
  tiers: Uint8Array | undefined,
): void {
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let w = i;
    if (l < size && worse(scores, tiers, heap[l]!, heap[w]!)) w = l;
    if (r < size && worse(scores, tiers, heap[r]!, heap[w]!)) w = r;
    if (w === i) return;
    const t = heap[i]!;
    heap[i] = heap[w]!;
    heap[w] = t;
    i = w;
  }
}

/**
 * The k best entries of `scores` written into `out` (descending; out.length ≥ min(k, n)), ties broken by the
 * lower index so results are deterministic; returns how many were written. Entries equal to -Infinity (and NaN)
 * are never returned. With `tiers`, a higher tier always ranks first and the score orders within a tier.
 * O(n log k); allocates nothing (`out` is the heap, then sorted in place).
 */
export function topKInto(scores: Float32Array | Float64Array, k: number, out: Int32Array, tiers?: Uint8Array): number {
  const n = scores.length;
  const cap = Math.max(0, Math.min(k, n));
  if (out.length < cap) throw new RangeError(`topKInto: out holds ${out.length} entries, k = ${cap}`);
  const heap = out;
  let size = 0;
  if (cap === 0) return 0;
  for (let i = 0; i < n; i++) {
    const s = scores[i]!;
    if (s === Number.NEGATIVE_INFINITY || Number.isNaN(s)) continue;
    if (size < cap) {
      heap[size] = i;
      let c = size++;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (!worse(scores, tiers, heap[c]!, heap[p]!)) break;
        const t = heap[c]!;
        heap[c] = heap[p]!;
        heap[p] = t;
        c = p;
      }
    } else if (worse(scores, tiers, heap[0]!, i)) {
      heap[0] = i;
      siftDown(heap, size, 0, scores, tiers);
    }
  }
  // Heap sort: the worst goes to the end each time, leaving the best first.
  for (let end = size - 1; end > 0; end--) {
    const t = heap[0]!;
    heap[0] = heap[end]!;
    heap[end] = t;
    siftDown(heap, end, 0, scores, tiers);
  }
  return size;
}

/**
 * Indices of the k best entries of `scores` (descending), ties broken by the lower index so results
 * are deterministic. Entries equal to -Infinity are never returned. With `tiers`, a higher tier
 * always ranks first and the score orders within a tier. O(n log k), one small allocation.
 */
export function topK(scores: Float32Array | Float64Array, k: number, tiers?: Uint8Array): Int32Array {
  const out = new Int32Array(Math.max(0, Math.min(k, scores.length)));
  const count = topKInto(scores, k, out, tiers);
  return count === out.length ? out : out.slice(0, count);
}
