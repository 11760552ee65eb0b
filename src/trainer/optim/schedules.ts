/**
 * The official schedules (DINO utils.cosine_scheduler and DINOLoss.teacher_temp_schedule), in float64 like numpy.
 * Quirks kept: the warm-up is np.linspace(start, base, warmup_iters) INCLUDING its endpoint, after which the cosine
 * part starts at `base` again (base appears twice), and the cosine part never reaches `final`.
 */

/** numpy.linspace(start, stop, num) with endpoint=True. */
export function linspace(start: number, stop: number, num: number): number[] {
  if (num <= 0) return [];
  if (num === 1) return [start];
  const step = (stop - start) / (num - 1);
  const out = Array.from({ length: num }, (_, i) => start + i * step);
  out[num - 1] = stop;
  return out;
}

/** utils.cosine_scheduler: one value per iteration, epochs × niterPerEpoch long. */
export function cosineScheduler(
  base: number,
  final: number,
  epochs: number,
  niterPerEpoch: number,
  warmupEpochs = 0,
  startWarmupValue = 0,
): Float64Array {
  const total = epochs * niterPerEpoch;
  // Official warm-up epochs are integers; a fractional value (short demo runs) rounds to whole iterations.
  const warmupIters = Math.round(warmupEpochs * niterPerEpoch);
  const warmup = warmupEpochs > 0 ? linspace(startWarmupValue, base, warmupIters) : [];
  const cosineLength = total - warmupIters;
  if (cosineLength < 0) throw new Error(`cosineScheduler: ${warmupEpochs} warm-up epochs exceed the ${epochs} epochs`);
  const schedule = new Float64Array(total);
  schedule.set(warmup, 0);
  for (let i = 0; i < cosineLength; i++) {
    schedule[warmupIters + i] = final + 0.5 * (base - final) * (1 + Math.cos((Math.PI * i) / cosineLength));
  }
  return schedule;
}

/** DINOLoss.teacher_temp_schedule: per EPOCH, linspace(warmup, final, warmupEpochs) then constant. */
export function teacherTempSchedule(warmupTeacherTemp: number, teacherTemp: number, warmupEpochs: number, epochs: number): Float64Array {
  const values = [
    ...linspace(warmupTeacherTemp, teacherTemp, warmupEpochs),
    ...Array(Math.max(0, epochs - warmupEpochs)).fill(teacherTemp),
  ];
  return Float64Array.from(values);
}

export interface TrainingSchedules {
  lr: Float64Array;
  wd: Float64Array;
  momentum: Float64Array;
  teacherTemp: Float64Array;
}
