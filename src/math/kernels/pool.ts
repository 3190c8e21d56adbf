/**
 * Kernel calls on worker threads over one shared KernelMemory: every worker binds the same backend to the
 * same memory at start-up, then runs whatever calls it is sent. The calling thread takes part too: a pool of
 * `threads` has threads − 1 workers.
 *
 * Work split: a "range" call names a job block whose i32 slots 1 and 2 are a row range [from, to) (the ALS
 * jobs, als-job.ts), plus a list of chunk boundaries and a shared counter; every thread (workers and caller)
 * takes the next chunk with an atomic add, writes it into its own job block and calls the kernel, until none
 * is left. Which thread solves a chunk varies from run to run, but a kernel's result for a row does not
 * depend on the thread, so results are deterministic.
 */
import { Worker } from 'node:worker_threads';
import type { KernelFunctions } from './functions.ts';
import { bindKernels, type KernelBackend } from './index.ts';
import type { KernelMemory, KernelMemoryHandle } from './memory.ts';

/** A kernel taking one job pointer, run over chunks of rows. */
export type RangeKernel = 'als_cg' | 'als_exact' | 'gram_range' | 'gemm_range';

export interface RangeCall {
  fn: RangeKernel;
  /** One job block per thread (index 0 is the caller's): same fields, own scratch. */
  jobs: number[];
  /** i32 chunk boundaries (count + 1) and an i32 counter, both in kernel memory. */
  bounds: number;
  count: number;
  counter: number;
}

export interface KernelWorkerInit {
  memory: KernelMemoryHandle;
  backend: KernelBackend;
}

export type KernelWorkerRequest = { id: number; call: RangeCall; thread: number };
export type KernelWorkerReply = { ready: true } | { id: number; result: number } | { id: number; error: string };

/**
 * Runs chunks of a range call until the counter passes the last one; returns the first non-zero kernel
 * result (a failing row + 1), or 0. Shared by the workers and the calling thread.
 */
export function runRange(mem: KernelMemory, fn: KernelFunctions, call: RangeCall, thread: number): number {
  const i32 = mem.i32();
  const job = call.jobs[thread]!;
  const kernel = fn[call.fn] as (job: number) => number | undefined;
  for (;;) {
    const c = Atomics.add(i32, call.counter >> 2, 1);
    if (c >= call.count) return 0;
    i32[(job >> 2) + 1] = i32[(call.bounds >> 2) + c]!;
    i32[(job >> 2) + 2] = i32[(call.bounds >> 2) + c + 1]!;
    const result = kernel(job) ?? 0;
    if (result !== 0) {
      // Stop the others early: no chunk is left for anyone.
      Atomics.store(i32, call.counter >> 2, call.count);
      return result;
    }
  }
}

/**
 * Starts a worker on worker.ts. Under tsx (sources run as .ts) a worker does not inherit the loader that
 * bin/cinerec.js registers, and Node 20 will not take a .ts worker entry even with `--import tsx`; an eval'd
 * bootstrap that registers tsx's ESM hooks and then imports the .ts module works under `tsx` (CLI, --test)
 * and under `node bin/cinerec.js` alike.
 */
function startWorker(entry: URL, data: KernelWorkerInit): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL(entry.href.replace(/\.ts$/, '.js')), { workerData: data });
  }
  const target = entry.href;
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(target)}); });`;
  return new Worker(code, { eval: true, workerData: data });
}

export class KernelPool {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: number) => void; reject: (e: Error) => void }>();
  private failure: Error | null = null;

  private constructor(
    readonly mem: KernelMemory,
    readonly fn: KernelFunctions,
    private readonly workers: Worker[],
  ) {}

  /** Threads in all, the caller included. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /**
   * A pool of `threads` (≥ 1; 1 = the caller alone) over `mem`, every thread on `backend`. `entry` is the
   * workers' module: worker.ts, or a module that imports it (so that a model's threads can carry its name).
   */
  static async start(
    mem: KernelMemory,
    threads: number,
    backend: KernelBackend,
    entry: URL = new URL('./worker.ts', import.meta.url),
  ): Promise<KernelPool> {
    const fn = bindKernels(mem, backend);
    const workers: Worker[] = [];
    const ready: Promise<void>[] = [];
    for (let t = 1; t < threads; t++) {
      const w = startWorker(entry, { memory: mem.handle(), backend });
      workers.push(w);
      ready.push(
        new Promise<void>((resolve, reject) => {
          const onExit = (code: number) => reject(new Error(`kernel worker exited with code ${code} while starting`));
          const onMessage = (m: KernelWorkerReply) => {
            if ('ready' in m) {
              w.off('message', onMessage);
              w.off('error', reject);
              w.off('exit', onExit);
              resolve();
            }
          };
          w.on('message', onMessage);
          w.once('error', reject);
          w.once('exit', onExit);
        }),
      );
    }
    const pool = new KernelPool(mem, fn, workers);
    try {
      await Promise.all(ready);
    } catch (e) {
      await pool.close();
      throw e;
    }
    for (const w of workers) {
      w.on('message', (m: KernelWorkerReply) => pool.reply(m));
      w.on('error', (e) => pool.fail(e));
      w.on('exit', (code) => pool.fail(new Error(`kernel worker exited with code ${code}`)));
    }
    return pool;
  }

  private reply(m: KernelWorkerReply): void {
    if ('ready' in m) return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if ('error' in m) p.reject(new Error(`kernel worker failed: ${m.error}`));
    else p.resolve(m.result);
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /**
   * Runs a range call on every thread (the counter must be 0); resolves to the first non-zero kernel result,
   * or 0, once all threads are done.
   */
  async runRange(range: RangeCall): Promise<number> {
    if (this.failure) throw this.failure;
    // Only the call's own fields cross to the workers.
    const call: RangeCall = {
      fn: range.fn,
      jobs: range.jobs,
      bounds: range.bounds,
      count: range.count,
      counter: range.counter,
    };
    const replies = this.workers.map((w, t) => {
      const id = this.nextId++;
      return new Promise<number>((resolve, reject) => {
        this.pending.set(id, { resolve, reject });
        w.postMessage({ id, call, thread: t + 1 } satisfies KernelWorkerRequest);
      });
    });
    let own: number;
    try {
      own = runRange(this.mem, this.fn, call, 0);
    } catch (e) {
      // Leave no chunk to the workers and let them finish before reporting.
      Atomics.store(this.mem.i32(), call.counter >> 2, call.count);
      await Promise.allSettled(replies);
      throw e;
    }
    const results = await Promise.all(replies);
    return own || results.find((r) => r !== 0) || 0;
  }

  async close(): Promise<void> {
    this.failure ??= new Error('kernel pool closed');
    for (const w of this.workers) w.removeAllListeners('exit');
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
