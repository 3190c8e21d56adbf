/**
 * The WebAssembly SIMD backend: kernels.wat's module (bytes in kernels.wasm.ts), instantiated on a
 * KernelMemory. Compiled once per thread on first use; an instance per memory (instantiating a compiled
 * module takes microseconds).
 */
import type { KernelFunctions } from './functions.ts';
import { KERNELS_WASM_BASE64 } from './kernels.wasm.ts';
import type { KernelMemory, WasmMemory } from './memory.ts';

/** The slice of the WebAssembly JS API used here. */
interface WasmModule {
  readonly __module: unique symbol;
}
interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: { env: { memory: WasmMemory } }) => WasmInstance;
  validate(bytes: Uint8Array): boolean;
}

const bytes: Uint8Array = Buffer.from(KERNELS_WASM_BASE64, 'base64');

function api(): WasmApi | null {
  const wa = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  return wa && typeof wa.validate === 'function' ? wa : null;
}

/** Whether this engine validates the module (SIMD, shared memory, bulk memory). */
export function wasmKernelsSupported(): boolean {
  try {
    return api()?.validate(bytes) ?? false;
  } catch {
    return false;
  }
}

let compiled: WasmModule | undefined;

/** The kernels of the SIMD module, bound to `mem` (which must be a WebAssembly memory). */
export function instantiateWasmKernels(mem: KernelMemory): KernelFunctions {
  const wa = api();
  if (!wa || !mem.memory) throw new Error('WebAssembly kernels need a shared WebAssembly.Memory');
  compiled ??= new wa.Module(bytes);
  const instance = new wa.Instance(compiled, { env: { memory: mem.memory } });
  return instance.exports as unknown as KernelFunctions;
}
