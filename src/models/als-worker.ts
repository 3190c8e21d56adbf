/**
 * An ALS worker thread (started by AlsPool in als.ts). It receives views of the shared factor matrices, the
 * shared Gramian and both sides of the interaction matrix once, in workerData, then solves whatever row range
 * each message names and answers when done. All arithmetic is in als-kernels.ts, the same code the main thread
 * runs when threads = 1.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type HalfStep, RowSolver } from './als-kernels.ts';

/** What the pool passes in workerData: the two half-steps, differing only in which side is solved. */
export interface AlsWorkerInit {
  user: HalfStep;
  item: HalfStep;
}

/** A request: solve rows [from, to) of the user (side 0) or item (side 1) half-step. */
export interface AlsWorkerJob {
  id: number;
  side: 0 | 1;
  from: number;
  to: number;
  /** Record each row's loss share (the item half-step that ends an iteration). */
  loss: boolean;
}

export type AlsWorkerReply = { ready: true } | { id: number; ok: true } | { id: number; error: string };

const port = parentPort;
if (!port) throw new Error('als-worker.ts must run in a worker thread');
const init = workerData as AlsWorkerInit;
const solver = new RowSolver(init.user.f);
const rowLoss = init.item.rowLoss;

port.on('message', (job: AlsWorkerJob) => {
  try {
    if (job.side === 0) solver.solveRange(init.user, job.from, job.to);
    else solver.solveRange({ ...init.item, rowLoss: job.loss ? rowLoss : null }, job.from, job.to);
    port.postMessage({ id: job.id, ok: true } satisfies AlsWorkerReply);
  } catch (e) {
    port.postMessage({
      id: job.id,
      error: e instanceof Error ? (e.stack ?? e.message) : String(e),
    } satisfies AlsWorkerReply);
  }
});
port.postMessage({ ready: true } satisfies AlsWorkerReply);
