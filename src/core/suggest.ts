// "Did you mean …?" for unknown config keys and enum values.

/** Lower-case and drop '_', '-' and spaces, so `warmup_epochs` and `warmupEpochs` compare equal. */
export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[_\-\s]/g, '');
}

/** Optimal-string-alignment distance: Levenshtein plus adjacent transpositions ("lcoal" → "local" is 1). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[rows - 1][cols - 1];
}

/**
 * The candidate closest to `input` (compared in normalised form), or undefined when none is
 * plausibly a typo: at most 1 edit for short words, about a third of the length for longer ones.
 */
export function suggest(input: string, candidates: readonly string[]): string | undefined {
  const normalizedInput = normalizeKey(input);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(normalizedInput, normalizeKey(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best === undefined) return undefined;
  const allowed = Math.max(1, Math.floor(Math.max(normalizedInput.length, normalizeKey(best).length) / 3));
  return bestDistance <= allowed ? best : undefined;
}
