/**
 * The golden cases' tolerance rule (../shared/golden/README.md), applied to every expected.* tensor:
 *  - values: max|actual − expected| ≤ rtol·max|expected| + atol (tolerance.per_tensor overrides rtol/atol);
 *  - masks (expected.mask_patch): exact wherever |expected.margin| > margin_tol; expected.masked_images is compared
 *    only on pixels of those patches;
 *  - train_step parameters: also the update, (after − before) vs (expected − before), within update_rtol;
 *  - tolerance.exclude_elements (axis-0 ranges whose true gradient is exactly 0 on a fresh Adam step): those
 *    elements are not compared by value; their change must stay within |Δ| ≤ lr instead.
 */
export interface ToleranceSpec {
  rtol?: number;
  atol?: number;
  per_tensor?: Record<string, { rtol?: number; atol?: number }>;
  margin_tol?: number;
  update_rtol?: number;
  exclude_elements?: Record<string, { axis0_range: [number, number] }>;
}

export interface TensorCheck {
  name: string;
  pass: boolean;
  /** max error / allowed bound (≤ 1 passes); for masks the count of mismatches. */
  scaledError: number;
  /** max|a − e| / max|e|, for the report. */
  relativeError: number;
  detail: string;
}

export interface Array32 {
  data: ArrayLike<number>;
  shape: number[];
}

function maxAbs(values: ArrayLike<number>, include?: (i: number) => boolean): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) if (!include || include(i)) m = Math.max(m, Math.abs(values[i]));
  return m;
}

/** Scaled max-abs comparison; NaN anywhere in `actual` where expected is finite fails. */
export function compareValues(
  name: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  atol: number,
  include?: (i: number) => boolean,
): TensorCheck {
  if (actual.length !== expected.length) {
    return {
      name,
      pass: false,
      scaledError: Infinity,
      relativeError: Infinity,
      detail: `size ${actual.length} ≠ expected ${expected.length}`,
    };
  }
  let maxErr = 0;
  let worstIndex = -1;
  for (let i = 0; i < expected.length; i++) {
    if (include && !include(i)) continue;
    const err = Math.abs(actual[i] - expected[i]);
    const e = Number.isNaN(err) ? (Number.isNaN(expected[i]) && Number.isNaN(actual[i]) ? 0 : Infinity) : err;
    if (e > maxErr) {
      maxErr = e;
      worstIndex = i;
    }
  }
  const scale = maxAbs(expected, include);
  const bound = rtol * scale + atol;
  const scaledError = bound > 0 ? maxErr / bound : maxErr === 0 ? 0 : Infinity;
  const where = worstIndex >= 0 && maxErr > bound ? ` at flat index ${worstIndex}: ${actual[worstIndex]} vs ${expected[worstIndex]}` : '';
  return {
    name,
    pass: maxErr <= bound,
    scaledError,
    relativeError: scale > 0 ? maxErr / scale : maxErr,
    detail: `max|Δ| ${maxErr.toExponential(2)} (bound ${bound.toExponential(2)})${where}`,
  };
}

export function compareMask(
  name: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  margin: ArrayLike<number>,
  marginTol: number,
): TensorCheck {
  let mismatches = 0;
  let compared = 0;
  for (let i = 0; i < expected.length; i++) {
    if (Math.abs(margin[i]) <= marginTol) continue;
    compared++;
    if ((actual[i] > 0.5 ? 1 : 0) !== (expected[i] > 0.5 ? 1 : 0)) mismatches++;
  }
  return {
    name,
    pass: mismatches === 0 && actual.length === expected.length,
    scaledError: mismatches,
    relativeError: mismatches / Math.max(1, compared),
    detail: `${mismatches} of ${compared} decided patches differ (${expected.length - compared} within margin_tol ignored)`,
  };
}

/** Elements of a tensor whose axis-0 index lies in [from, to). */
export function axis0Selector(shape: number[], range: [number, number]): (i: number) => boolean {
  const inner = shape.slice(1).reduce((a, b) => a * b, 1);
  return (i) => {
    const row = Math.floor(i / inner);
    return row >= range[0] && row < range[1];
  };
}

export function compareUpdate(
  name: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  before: ArrayLike<number>,
  updateRtol: number,
  include?: (i: number) => boolean,
): TensorCheck {
  const n = expected.length;
  const dA = new Float64Array(n);
  const dE = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    dA[i] = actual[i] - before[i];
    dE[i] = expected[i] - before[i];
  }
  return compareValues(`${name} (update)`, dA, dE, updateRtol, 1e-7, include);
}
