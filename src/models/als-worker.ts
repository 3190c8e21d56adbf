/**
 * An ALS worker thread, started by the fit's KernelPool (als-kernels.ts): the kernel layer's worker
 * (src/math/kernels/worker.ts), which binds the row kernels to the fit's shared memory and solves the chunks
 * of rows it takes. A module of its own so that ALS threads start from the model's code.
 */
import '../math/kernels/worker.ts';
