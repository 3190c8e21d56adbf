/**
 * The memory the kernels work in: one shared WebAssembly.Memory (its buffer is a SharedArrayBuffer), with a
 * bump allocator handing out 16-byte-aligned regions addressed by byte offset ("pointers").
 *
 * Why one memory for everything: a WebAssembly kernel can only touch its own memory, so matrices that kernels
 * use again and again (ALS factors, the interaction matrix) live there for good instead of being copied in per
 * call; and because the memory is shared, worker threads instantiate the kernels on the same memory and work
 * on the same matrices without copies (ALS does). The TypeScript reference kernels use the same memory
 * through typed-array views, so both backends take the same pointers.
 *
 * Views (f32(), f64(), i32()) are refreshed after growth; re-fetch them after anything that may grow the memory.
 */

/** The slice of the WebAssembly JS API used here (tsconfig's lib has no DOM; @types/node 20 lacks it). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(deltaPages: number): number;
}
interface WasmMemoryConstructor {
  new (descriptor: { initial: number; maximum: number; shared: boolean }): WasmMemory;
}
interface WasmApi {
  Memory: WasmMemoryConstructor;
}

export const PAGE_BYTES = 65536;
/** wasm32's limit: 2^16 pages (4 GiB). */
export const MAX_PAGES = 65536;

export const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

function wasmApi(): WasmApi | null {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  return api && typeof api.Memory === 'function' ? api : null;
}

/** Serialisable form of a KernelMemory for a worker thread (postMessage clones a shared memory as itself). */
export interface KernelMemoryHandle {
  memory: WasmMemory | null;
  buffer: SharedArrayBuffer | null;
}

export class KernelMemory {
  private top: number;
  private viewsOf: ArrayBuffer | SharedArrayBuffer | null = null;
  private f32View: Float32Array = new Float32Array(0);
  private f64View: Float64Array = new Float64Array(0);
  private i32View: Int32Array = new Int32Array(0);

  private constructor(
    /** The WebAssembly memory, or null where the engine cannot make a shared one (reference kernels only). */
    readonly memory: WasmMemory | null,
    private readonly fixedBuffer: SharedArrayBuffer | null,
    private readonly maxPages: number,
  ) {
    // Offsets below 16 stay unused, so that pointer 0 can mean "none".
    this.top = 16;
  }

  /**
   * A memory of at least `bytes` bytes that can grow to `maxBytes` (default: 4 GiB, wasm32's limit; a shared
   * memory reserves its maximum as address space up front, not as RAM).
   */
  static create(bytes: number, maxBytes = MAX_PAGES * PAGE_BYTES): KernelMemory {
    const initial = Math.max(1, Math.ceil(bytes / PAGE_BYTES));
    const maximum = Math.min(MAX_PAGES, Math.max(initial, Math.ceil(maxBytes / PAGE_BYTES)));
    if (initial > MAX_PAGES) throw new RangeError(`kernel memory: ${bytes} bytes exceed the 4 GiB of wasm32`);
    const api = wasmApi();
    if (api) {
      try {
        return new KernelMemory(new api.Memory({ initial, maximum, shared: true }), null, maximum);
      } catch {
        // Fall through: engines without shared WebAssembly memories still run the reference kernels.
      }
    }
    return new KernelMemory(null, new SharedArrayBuffer(initial * PAGE_BYTES), initial);
  }

  /** The same memory in another thread (see handle()). Allocation is the creating thread's job. */
  static attach(handle: KernelMemoryHandle): KernelMemory {
    const m = new KernelMemory(handle.memory, handle.buffer, 0);
    m.top = Number.POSITIVE_INFINITY;
    return m;
  }

  handle(): KernelMemoryHandle {
    return { memory: this.memory, buffer: this.fixedBuffer };
  }

  get buffer(): ArrayBuffer | SharedArrayBuffer {
    return this.memory ? this.memory.buffer : this.fixedBuffer!;
  }

  get byteLength(): number {
    return this.buffer.byteLength;
  }

  /** Bytes handed out so far (the next allocation starts here). */
  get used(): number {
    return this.top;
  }

  /** A fresh region of `bytes` bytes (16-byte aligned, not zeroed after a release()); returns its offset. */
  alloc(bytes: number): number {
    if (!(bytes >= 0 && Number.isSafeInteger(bytes))) throw new RangeError(`kernel memory: bad size ${bytes}`);
    if (!Number.isFinite(this.top)) throw new Error('kernel memory: attached views cannot allocate');
    const at = align16(this.top);
    this.ensure(at + align16(bytes));
    this.top = at + align16(bytes);
    return at;
  }

  /** Frees everything allocated after `mark` (a value of `used`): scratch for one call. */
  release(mark: number): void {
    if (mark < 16 || mark > this.top) throw new RangeError(`kernel memory: bad mark ${mark}`);
    this.top = mark;
  }

  /** Grows the memory to at least `bytes` bytes. Views taken before are stale afterwards. */
  ensure(bytes: number): void {
    const have = this.byteLength;
    if (bytes <= have) return;
    const pages = Math.ceil(bytes / PAGE_BYTES);
    if (!this.memory || pages > this.maxPages) {
      throw new RangeError(`kernel memory: ${bytes} bytes exceed this memory's limit of ${this.maxPages} pages`);
    }
    this.memory.grow(pages - have / PAGE_BYTES);
  }

  private refresh(): void {
    const b = this.buffer;
    if (b === this.viewsOf && this.f32View.byteLength === b.byteLength) return;
    this.viewsOf = b;
    this.f32View = new Float32Array(b);
    this.f64View = new Float64Array(b);
    this.i32View = new Int32Array(b);
  }

  /** The whole memory as float32 (index = byte offset / 4). */
  f32(): Float32Array {
    this.refresh();
    return this.f32View;
  }

  f64(): Float64Array {
    this.refresh();
    return this.f64View;
  }

  i32(): Int32Array {
    this.refresh();
    return this.i32View;
  }

  /** Typed views of regions (valid until the memory grows). */
  f32At(ptr: number, length: number): Float32Array {
    return new Float32Array(this.buffer, ptr, length);
  }

  f64At(ptr: number, length: number): Float64Array {
    return new Float64Array(this.buffer, ptr, length);
  }

  i32At(ptr: number, length: number): Int32Array {
    return new Int32Array(this.buffer, ptr, length);
  }

  /** Allocates and fills a copy of `data`; returns its offset. */
  copyIn(data: Float32Array | Float64Array | Int32Array): number {
    const ptr = this.alloc(data.byteLength);
    new Uint8Array(this.buffer, ptr, data.byteLength).set(
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    );
    return ptr;
  }
}
