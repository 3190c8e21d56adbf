/**
 * Indices of the k best entries of `scores` (descending), ties broken by the lower index so results
 * are deterministic. Entries equal to -Infinity are never returned. With `tiers`, a higher tier
 * always ranks first and the score orders within a tier. O(n log k), one small allocation.
 */
export function topK(scores: Float32Array | Float64Array, k: number, tiers?: Uint8Array): Int32Array {
  const n = scores.length;
  const heap = new Int32Array(Math.min(k, n));
  let size = 0;
  // "a ranks below b": the heap keeps the worst of the current best at its root.
  const worse = (a: number, b: number): boolean => {
    if (tiers && tiers[a] !== tiers[b]) return tiers[a]! < tiers[b]!;
    const sa = scores[a]!;
    const sb = scores[b]!;
    return sa < sb || (sa === sb && a > b);
  };
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let w = i;
      if (l < size && worse(heap[l]!, heap[w]!)) w = l;
      if (r < size && worse(heap[r]!, heap[w]!)) w = r;
      if (w === i) return;
      const t = heap[i]!;
      heap[i] = heap[w]!;
      heap[w] = t;
      i = w;
    }
  };
  if (heap.length === 0) return heap;
  for (let i = 0; i < n; i++) {
    if (scores[i] === Number.NEGATIVE_INFINITY || Number.isNaN(scores[i]!)) continue;
    if (size < heap.length) {
      heap[size] = i;
      let c = size++;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (!worse(heap[c]!, heap[p]!)) break;
        const t = heap[c]!;
        heap[c] = heap[p]!;
        heap[p] = t;
        c = p;
      }
    } else if (worse(heap[0]!, i)) {
      heap[0] = i;
      siftDown(0);
    }
  }
  const out = heap.slice(0, size);
  // Sort best-first with the same ordering.
  const sorted = Array.from(out).sort((a, b) => (worse(a, b) ? 1 : worse(b, a) ? -1 : 0));
  return Int32Array.from(sorted);
}
