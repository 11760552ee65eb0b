/**
 * `training.microBatch`: how many clips go through one forward/backward pass (gradients are accumulated over
 * batchClips / microBatch passes; the result is the full-batch step). "auto" plans it from the backend's memory:
 *  1. before the first step: the largest divisor of batchClips whose estimated footprint fits 85 % of the budget
 *     (estimateBaseBytes: parameters, moments and gradients; estimateClipBytes per clip, deliberately generous);
 *  2. after each step: the per-clip footprint is measured (peak − what was held before the step − the gradients,
 *     ÷ clips per pass) and the plan moves to the largest divisor that fits 85 % of the budget;
 *  3. an out-of-memory error retries the same step (nothing was updated yet) with half the clips, down to 1, and
 *     later plans stay below the size that failed; at 1 the run fails with one message that names the fix.
 * A number is used as given; an out-of-memory error then fails the step with the same message.
 */
import type { DoraConfig } from '../../core/config';
import { isOutOfMemory, memoryState, mib, recoverFromOutOfMemory, resetPeakMemory, type MemoryState } from '../backend';
import { doraParamShapes } from '../dora/model';
import { modelConfigOf } from './runConfig';

export interface MicroBatchPlan {
  clips: number;
  auto: boolean;
  reason: string;
}

/**
 * Generous bytes per clip of one student pass: what the fused backward keeps (10·D floats per token and block, plus
 * one attention row), the head's [rows, out] tensors, ×1.5 for what is transient (measured on wasm, paper preset, one
 * clip: 1.9 GiB; this gives 3.1 GiB).
 */
export function estimateClipBytes(config: DoraConfig): number {
  const m = config.model;
  const d = config.data;
  const tokens = (side: number) => Math.floor(side / m.patchSize) ** 2 + 1;
  const k = config.dora.tracker ? config.dora.objects : 1;
  const views = d.framesPerClip * (k * tokens(d.globalSize) + d.localCrops * tokens(d.localSize));
  const perTokenPerBlock = 12 * m.embedDim + m.numHeads * tokens(d.globalSize);
  const backbone = views * perTokenPerBlock * m.depth;
  const headRows = d.framesPerClip * (k + d.localCrops);
  const head = headRows * (6 * m.head.outDim + 8 * m.head.hiddenDim);
  return Math.ceil(4 * 1.5 * (backbone + head));
}

/** Bytes of one copy of the student's parameters. */
export function parameterBytes(config: DoraConfig): number {
  let n = 0;
  for (const shape of doraParamShapes(modelConfigOf(config)).values()) n += shape.reduce((a, b) => a * b, 1);
  return 4 * n;
}

/**
 * Bytes a step holds whatever its micro-batch: student, teacher, AdamW's two moments (4 copies of the parameters)
 * and, during the passes, the gradient sums and one pass's gradients (2 more).
 */
export function estimateBaseBytes(config: DoraConfig): number {
  return 6 * parameterBytes(config);
}

function budgetText(memory: MemoryState): string {
  return `budget ${mib(memory.budgetBytes)}: ${memory.budgetSource}`;
}

function divisorsDescending(n: number): number[] {
  const out: number[] = [];
  for (let c = n; c >= 1; c--) if (n % c === 0) out.push(c);
  return out;
}

/** The largest divisor of `batch` with base + clips·perClip ≤ fraction·budget (at least 1). */
export function largestFitting(batch: number, perClip: number, base: number, budget: number, fraction = 0.85): number {
  for (const c of divisorsDescending(batch)) if (base + c * perClip <= fraction * budget) return c;
  return 1;
}

export class OutOfMemoryFailure extends Error {
  constructor(
    message: string,
    readonly fix: string,
    /** `--set` overrides that apply the fix on resume (a resume reads the run's config.json, not the .dora.json). */
    readonly sets: readonly string[] = [],
  ) {
    super(message);
    this.name = 'OutOfMemoryFailure';
  }
}

export class MicroBatchPlanner {
  private plan: MicroBatchPlan;
  private perClipBytes: number | undefined;
  /** Smallest micro-batch that ran out of memory: later plans stay below it. */
  private ceiling = Infinity;

  constructor(
    private readonly config: DoraConfig,
    private readonly onChange: (plan: MicroBatchPlan, memory: MemoryState) => void = () => undefined,
  ) {
    const b = config.training.batchClips;
    const requested = config.training.microBatch;
    if (requested !== 'auto') {
      this.plan = { clips: Math.min(requested, b), auto: false, reason: `training.microBatch ${requested}` };
    } else {
      const memory = memoryState();
      const estimate = estimateClipBytes(config);
      // Before the first step the weights may not be on the device yet (webgpu uploads on first use): estimate them.
      const base = Math.max(memory.liveBytes + 2 * parameterBytes(config), estimateBaseBytes(config));
      const clips = largestFitting(b, estimate, base, memory.budgetBytes);
      const footprint = `estimated ${mib(estimate)} per clip and ${mib(base)} per step`;
      this.plan = { clips, auto: true, reason: `auto: ${clips} of ${b} clips per pass (${footprint}, ${budgetText(memory)})` };
    }
    this.onChange(this.plan, memoryState());
  }

  get current(): MicroBatchPlan {
    return this.plan;
  }

  private change(clips: number, reason: string): void {
    if (clips === this.plan.clips) return;
    this.plan = { clips, auto: this.plan.auto, reason };
    this.onChange(this.plan, memoryState());
  }

  /** After a successful step: re-plan from the measured footprint (auto only). */
  observe(before: number, peak: number): void {
    if (!this.plan.auto) return;
    const b = this.config.training.batchClips;
    // The gradients (sums and one pass's) are there whatever the micro-batch; the rest grows with the clips per pass.
    const base = before + 2 * parameterBytes(this.config);
    const perClip = Math.max(1, (peak - base) / this.plan.clips);
    this.perClipBytes = perClip;
    const memory = memoryState();
    const fitting = largestFitting(b, perClip, base, memory.budgetBytes);
    const clips = divisorsDescending(b).find((c) => c <= fitting && c < this.ceiling) ?? 1;
    this.change(
      clips,
      `auto: ${clips} of ${b} clips per pass (measured ${mib(perClip)} per clip and ${mib(base)} per step, ${budgetText(memory)})`,
    );
  }

  /** After an out-of-memory error: the next plan, or an OutOfMemoryFailure when there is nothing left to halve. */
  backOff(error: unknown): MicroBatchPlan {
    const memory = memoryState();
    const what = `${error instanceof Error ? error.message : String(error)}`.split('\n')[0];
    if (!this.plan.auto || this.plan.clips === 1) throw this.failure(memory, what);
    this.ceiling = Math.min(this.ceiling, this.plan.clips);
    const half = divisorsDescending(this.config.training.batchClips).find((c) => c <= this.plan.clips / 2) ?? 1;
    this.change(half, `auto: ${half} clips per pass after running out of memory with ${this.plan.clips} (${what})`);
    return this.plan;
  }

  /** The one message (and fix) of a run that ran out of memory with nothing left to halve. */
  private failure(memory: MemoryState, what: string): OutOfMemoryFailure {
    const c = this.config;
    const shapes = `${c.training.batchClips} clips × ${c.data.framesPerClip} frames, ${c.data.globalSize} px`;
    const message = `out of ${memory.backend} memory with ${this.plan.clips} clip(s) per pass (${shapes}): ${what}`;
    if (this.plan.auto)
      return new OutOfMemoryFailure(
        message,
        `One clip per pass does not fit ${mib(memory.budgetBytes)} (${memory.budgetSource}). Lower data.globalSize, ` +
          'data.localCrops or data.framesPerClip in the .dora.json and start a new run, or use a device with more memory ' +
          '(or raise DORA_MEMORY_BUDGET_MB if it was lowered)',
      );
    const fix = `Use training.microBatch "auto" (or a smaller divisor of ${c.training.batchClips}; "auto" halves it when memory runs out)`;
    return new OutOfMemoryFailure(message, fix, ['training.microBatch=auto']);
  }

  get measuredClipBytes(): number | undefined {
    return this.perClipBytes;
  }
}

/**
 * Runs one optimisation step with the planner's micro-batch; on an out-of-memory error, frees what can be freed and
 * retries the same step with a smaller one (`onRetry` is told why).
 */
export async function stepWithBackOff<T>(
  planner: MicroBatchPlanner,
  runStep: (clips: number) => Promise<T>,
  onRetry: (message: string) => void | Promise<void> = () => undefined,
): Promise<T> {
  for (;;) {
    const before = memoryState().liveBytes;
    resetPeakMemory();
    const clips = planner.current.clips;
    try {
      const result = await runStep(clips);
      planner.observe(before, memoryState().peakBytes);
      return result;
    } catch (error) {
      if (!isOutOfMemory(error)) throw error;
      await recoverFromOutOfMemory();
      const next = planner.backOff(error);
      await onRetry(`out of memory with ${clips} clips per pass; retrying the step with ${next.clips}`);
    }
  }
}
