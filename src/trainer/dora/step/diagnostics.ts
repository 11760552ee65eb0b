/**
 * The optional diagnostics collector of a step: what the golden cases and snapshots compare beyond the loss (the
 * teacher and student outputs, and the gradients AdamW consumed). Collecting costs a few device → host reads, so the
 * training loop only asks for it when it writes a snapshot.
 */
import type * as tf from '@tensorflow/tfjs';

export interface StepDiagnostics {
  teacherOut: Float32Array; // [F, B, out]
  studentMasked: Float32Array; // [k, F, B, out]
  studentLocal: Float32Array; // [F, nl·B, out]
  /** The gradients AdamW consumed (after clipping and the last-layer freeze). */
  clippedGrads: Map<string, Float32Array>;
}

/** Copies [groups, bc, D] rows of a chunk into [groups, B, D] at clip offset b0. */
function scatterClips(chunk: Float32Array, full: Float32Array, groups: number, bc: number, b: number, b0: number, d: number): void {
  for (let g = 0; g < groups; g++) full.set(chunk.subarray(g * bc * d, (g + 1) * bc * d), (g * b + b0) * d);
}

export class DiagnosticsCollector {
  private readonly studentMasked: Float32Array;
  private readonly studentLocal: Float32Array;

  /** k objects, F frames, B clips, nl local crops, D head outputs. */
  constructor(private readonly dims: { k: number; f: number; b: number; nl: number; outDim: number }) {
    this.studentMasked = new Float32Array(dims.k * dims.f * dims.b * dims.outDim);
    this.studentLocal = new Float32Array(dims.f * dims.nl * dims.b * dims.outDim);
  }

  /** The student outputs of clips [b0, b0 + bc): masked [k, F, bc, D] and local [F, nl·bc, D]. */
  addStudentChunk(masked: Float32Array, local: Float32Array, b0: number, bc: number): void {
    const { k, f, b, nl, outDim } = this.dims;
    scatterClips(masked, this.studentMasked, k * f, bc, b, b0, outDim);
    scatterClips(local, this.studentLocal, f * nl, bc, b, b0, outDim);
  }

  async finish(teacherOut: tf.Tensor, appliedGrads: ReadonlyMap<string, tf.Tensor>): Promise<StepDiagnostics> {
    const clipped = await Promise.all([...appliedGrads].map(async ([n, g]) => [n, (await g.data()) as Float32Array] as const));
    return {
      teacherOut: (await teacherOut.data()) as Float32Array,
      studentMasked: this.studentMasked,
      studentLocal: this.studentLocal,
      clippedGrads: new Map(clipped),
    };
  }
}
