/**
 * A kernel worker thread (started by KernelPool in pool.ts): binds the pool's backend to the shared kernel
 * memory once, then runs the range calls it is sent and answers with their result.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { bindKernels } from './index.ts';
import { KernelMemory } from './memory.ts';
import { type KernelWorkerInit, type KernelWorkerReply, type KernelWorkerRequest, runRange } from './pool.ts';

const port = parentPort;
if (!port) throw new Error('kernels/worker.ts must run in a worker thread');
const init = workerData as KernelWorkerInit;
const mem = KernelMemory.attach(init.memory);
const fn = bindKernels(mem, init.backend);

port.on('message', (m: KernelWorkerRequest) => {
  try {
    port.postMessage({ id: m.id, result: runRange(mem, fn, m.call, m.thread) } satisfies KernelWorkerReply);
  } catch (e) {
    port.postMessage({
      id: m.id,
      error: e instanceof Error ? (e.stack ?? e.message) : String(e),
    } satisfies KernelWorkerReply);
  }
});
port.postMessage({ ready: true } satisfies KernelWorkerReply);
