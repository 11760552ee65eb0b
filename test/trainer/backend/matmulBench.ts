// Benchmark, not a test: stock vs patched wasm matMul with transpose flags (the patch's reason to exist).
//   node --import tsx test/backend/matmulBench.ts [repeats]
import * as tf from '@tensorflow/tfjs';
import { initBackend, installWasmKernelPatches, removeWasmKernelPatches } from '../../../src/trainer/backend';

interface Case {
  label: string;
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
}

// M×K×N shapes from a ViT-Ti/S step: linear layers forward (NN) and backward (NT: dY·Wᵀ, TN: Xᵀ·dY), attention.
const CASES: Case[] = [
  { label: '296x192x576 NN', a: [296, 192], b: [192, 576], transposeA: false, transposeB: false },
  { label: '296x192x576 NT', a: [296, 192], b: [576, 192], transposeA: false, transposeB: true },
  { label: '296x192x576 TN', a: [192, 296], b: [192, 576], transposeA: true, transposeB: false },
  { label: '1024^3 TN', a: [1024, 1024], b: [1024, 1024], transposeA: true, transposeB: false },
  { label: '1024^3 NT', a: [1024, 1024], b: [1024, 1024], transposeA: false, transposeB: true },
  { label: 'tokens 8x197x192 by 192x576 NN (folded)', a: [8, 197, 192], b: [192, 576], transposeA: false, transposeB: false },
  { label: 'batched 24x(197x64x197) NT', a: [24, 197, 64], b: [24, 197, 64], transposeA: false, transposeB: true },
  { label: 'batched 24x(197x197x64) TN', a: [24, 197, 197], b: [24, 197, 64], transposeA: true, transposeB: false },
  // Attention of the cpu-small preset (96 px / 16 → 37 tokens, head dim 64) and of the demo preset (48 px / 8, head dim 32).
  { label: 'cpu-small attention 96x(37x64x37) NT', a: [96, 37, 64], b: [96, 37, 64], transposeA: false, transposeB: true },
  { label: 'cpu-small attention 96x(37x37x64) NN', a: [96, 37, 37], b: [96, 37, 64], transposeA: false, transposeB: false },
  { label: 'demo attention 96x(37x32x37) NT', a: [96, 37, 32], b: [96, 37, 32], transposeA: false, transposeB: true },
  { label: 'local crops 96x(10x64x10) NT', a: [96, 10, 64], b: [96, 10, 64], transposeA: false, transposeB: true },
];

function gflops(c: Case, ms: number): number {
  const m = c.transposeA ? c.a.at(-1)! : c.a.at(-2)!;
  const k = c.transposeA ? c.a.at(-2)! : c.a.at(-1)!;
  const n = c.transposeB ? c.b.at(-2)! : c.b.at(-1)!;
  const batch = c.a.length === 3 ? c.a[0] : 1; // a 3-D `a` with a 2-D `b` is still batch × m rows
  return (2 * batch * m * k * n) / (ms * 1e6);
}

function timeMs(c: Case, repeats: number): number {
  const a = tf.randomNormal(c.a);
  const b = tf.randomNormal(c.b);
  tf.matMul(a, b, c.transposeA, c.transposeB).dispose(); // warm-up
  let best = Infinity;
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    const out = tf.matMul(a, b, c.transposeA, c.transposeB);
    out.dataSync();
    best = Math.min(best, performance.now() - start);
    out.dispose();
  }
  tf.dispose([a, b]);
  return best;
}

async function main(): Promise<void> {
  const repeats = Number(process.argv[2] ?? 3);
  await initBackend('wasm');
  console.log('case | stock ms (GFLOP/s) | patched ms (GFLOP/s) | speed-up');
  for (const c of CASES) {
    removeWasmKernelPatches();
    const stock = timeMs(c, repeats);
    installWasmKernelPatches();
    const patched = timeMs(c, repeats);
    console.log(
      `${c.label} | ${stock.toFixed(1)} (${gflops(c, stock).toFixed(1)}) | ${patched.toFixed(1)} ` +
        `(${gflops(c, patched).toFixed(1)}) | ${(stock / patched).toFixed(2)}x`,
    );
  }
}

void main();
