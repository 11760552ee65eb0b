// The DoRA wasm SIMD kernels (AssemblyScript). Built by scripts/build.mjs into dist/kernels/ twice: with relaxed
// SIMD (fused multiply-add) and without. The module imports TF.js-wasm's memory and works on its tensors in place.
import { GEMM_SCRATCH_FLOATS } from './gemm';
export { gemm } from './gemm';
export { layerNormForward, layerNormBackward, geluForward, geluBackward, initRows, columnSums, softmaxRows } from './rows';
export { attentionForward, attentionBackward, attentionScratchFloats } from './attention';
export { sumSquares, adamwEma, emaOnly, accumulate } from './optim';

export function gemmScratchFloats(): i32 {
  return GEMM_SCRATCH_FLOATS;
}
