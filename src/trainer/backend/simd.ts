// Loads the project's own wasm SIMD kernels (kernels/wasm/, AssemblyScript, built by `npm run build` into
// dist/kernels/) into TF.js-wasm's heap: the module imports the backend's WebAssembly.Memory, so the kernels read and
// write tensors where they are, with no copies. Two builds exist: relaxed SIMD (fused multiply-add; Node 20 needs
// V8's --experimental-wasm-relaxed-simd, which this file turns on) and plain SIMD128.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { errorMessage } from './optionalModule';

/** The exports of kernels/wasm/index.ts (pointers are byte offsets into the TF.js-wasm heap). */
export interface SimdExports {
  gemm(
    batch: number,
    m: number,
    n: number,
    k: number,
    a: number,
    aBatch: number,
    ars: number,
    acs: number,
    b: number,
    bBatch: number,
    brs: number,
    bcs: number,
    c: number,
    cBatch: number,
    ldc: number,
    accumulate: number,
    scratch: number,
  ): void;
  gemmScratchFloats(): number;
  layerNormForward(rows: number, n: number, x: number, w: number, b: number, y: number, mean: number, rstd: number, eps: number): void;
  layerNormBackward(
    rows: number,
    n: number,
    dy: number,
    x: number,
    w: number,
    mean: number,
    rstd: number,
    dx: number,
    dw: number,
    db: number,
  ): void;
  geluForward(count: number, u: number, g: number): void;
  geluBackward(count: number, u: number, dg: number, du: number): void;
  initRows(rows: number, n: number, c: number, bias: number, r: number): void;
  columnSums(rows: number, n: number, x: number, out: number): void;
  softmaxRows(rows: number, n: number, s: number, ld: number, scale: number): void;
  attentionForward(
    batch: number,
    t: number,
    heads: number,
    dh: number,
    qkv: number,
    out: number,
    probs: number,
    scale: number,
    scratch: number,
  ): void;
  attentionBackward(
    batch: number,
    t: number,
    heads: number,
    dh: number,
    qkv: number,
    dout: number,
    dqkv: number,
    scale: number,
    scratch: number,
  ): void;
  attentionScratchFloats(t: number): number;
  sumSquares(n: number, x: number): number;
  adamwEma(
    n: number,
    p: number,
    g: number,
    m: number,
    v: number,
    teacher: number,
    gradScale: number,
    decay: number,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    stepSize: number,
    bc2Sqrt: number,
    eps: number,
    ema: number,
    oneMinusEma: number,
  ): void;
  emaOnly(n: number, teacher: number, student: number, ema: number, oneMinusEma: number): void;
  accumulate(n: number, s: number, g: number): void;
}

export interface SimdModule {
  exports: SimdExports;
  /** 'relaxed' (fused multiply-add) or 'simd128'. */
  flavour: 'relaxed' | 'simd128';
  file: string;
  /** A 16-byte aligned scratch area of at least `floats` floats in the TF.js heap (grown on demand, kept). */
  scratch(floats: number): number;
}

interface HeapAllocator {
  _malloc(bytes: number): number;
  _free(ptr: number): void;
}

export const SIMD_FILES = { relaxed: 'dora-simd-relaxed.wasm', simd128: 'dora-simd.wasm' } as const;

/** Where `npm run build` puts the kernels: dist/kernels beside the bundle, or <checkout>/dist/kernels from sources. */
export function findSimdFile(name: string): string | undefined {
  const here = typeof __filename === 'string' ? dirname(__filename) : process.cwd();
  const candidates = [join(here, 'kernels', name)];
  for (let dir = here, i = 0; i < 8; i++, dir = dirname(dir)) candidates.push(join(dir, 'dist', 'kernels', name));
  return candidates.find((c) => existsSync(c));
}

/** Relaxed SIMD is standard (Chrome 114, Node 22) but behind a V8 flag in Node 20; validate a one-instruction module. */
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2, 253, 133, 2, 11,
]);

export function relaxedSimdAvailable(): boolean {
  if (process.env.DORA_WASM_RELAXED_SIMD === '0') return false;
  if (WebAssembly.validate(RELAXED_PROBE)) return true;
  try {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    return false;
  }
  return WebAssembly.validate(RELAXED_PROBE);
}

/** Instantiates the kernels on `memory` (TF.js-wasm's). Throws with the reason when they cannot be used. */
export function loadSimdModule(memory: WebAssembly.Memory, heap: HeapAllocator): SimdModule {
  const wanted = relaxedSimdAvailable() ? (['relaxed', 'simd128'] as const) : (['simd128'] as const);
  let lastError = '';
  for (const flavour of wanted) {
    const file = findSimdFile(SIMD_FILES[flavour]);
    if (file === undefined) {
      lastError = `${SIMD_FILES[flavour]} not found beside the bundle or in dist/kernels (run npm run build)`;
      continue;
    }
    try {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(file)), { env: { memory } });
      return makeModule(instance.exports as unknown as SimdExports, flavour, file, heap);
    } catch (error) {
      lastError = `${file}: ${errorMessage(error)}`;
    }
  }
  throw new Error(`the DoRA SIMD kernels could not be loaded: ${lastError}`);
}

function makeModule(exports: SimdExports, flavour: SimdModule['flavour'], file: string, heap: HeapAllocator): SimdModule {
  let base = 0;
  let capacity = 0;
  return {
    exports,
    flavour,
    file,
    scratch(floats: number): number {
      if (floats > capacity) {
        if (base !== 0) heap._free(base);
        capacity = Math.max(floats, Math.ceil(capacity * 1.5));
        base = heap._malloc(capacity * 4 + 16) >>> 0;
        if (base === 0) throw new Error(`wasm heap: could not allocate ${capacity * 4} bytes of kernel scratch`);
      }
      return Math.ceil(base / 16) * 16; // no bitwise ops: heap offsets can exceed 2^31
    },
  };
}
