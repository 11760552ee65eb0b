// Axis tick values shared by the charts. Pure.

/** "Nice" tick values (1, 2, 5 × 10^n) covering [min, max] with about `target` ticks. */
export function niceTicks(min: number, max: number, target = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) return [min];
  const raw = (max - min) / Math.max(1, target);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw * (1 - 1e-9)) ?? 10 * magnitude;
  const ticks: number[] = [];
  const first = Math.ceil(min / step - 1e-9);
  // Multiply rather than accumulate, and round to the step's decimals, so 0.1 steps print as 7.3, not 7.300000001.
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  for (let i = first; i * step <= max + step * 1e-9; i++) ticks.push(Number((i * step).toFixed(Math.min(20, decimals))));
  return ticks;
}

/** Ticks for the step axis: whole steps only (a short run zoomed to 1..4 gets 1, 2, 3, 4, never 1.5 printed as "2"). */
export function stepTicks(min: number, max: number, target = 5): number[] {
  return niceTicks(min, max, target).filter(Number.isInteger);
}

/** Ticks for a log10 axis given the range in log10 units: powers of ten, plus 2× and 5× when few decades. */
export function logTicks(log10Min: number, log10Max: number): number[] {
  const decades = log10Max - log10Min;
  if (decades < 1) return niceTicks(10 ** log10Min, 10 ** log10Max, 4);
  const ticks: number[] = [];
  const multipliers = decades <= 3 ? [1, 2, 5] : [1];
  const stride = Math.max(1, Math.ceil(decades / 8));
  for (let e = Math.floor(log10Min); e <= Math.ceil(log10Max); e += stride) {
    for (const m of multipliers) {
      const v = Number(`${m}e${e}`); // exact decimal, unlike m * 10 ** e
      const lv = Math.log10(v);
      if (lv >= log10Min - 1e-9 && lv <= log10Max + 1e-9) ticks.push(v);
    }
  }
  return ticks;
}
