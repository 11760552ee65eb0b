// Number and time formatting shared by the views. Metric values span 1e-6 (lr) to 1e4 (img/s).

/** Compact, precision-aware: 4 significant digits, exponent notation for very small or large values. */
export function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude < 1e-3 || magnitude >= 1e6)
    return value
      .toExponential(2)
      .replace(/\.?0+e/, 'e')
      .replace('e+', 'e');
  return trimZeros(value.toPrecision(4));
}

/** Full precision for hover read-outs, where researchers compare exact numbers. */
export function formatExact(value: number): string {
  if (value === 0 || !Number.isFinite(value)) return formatValue(value);
  const magnitude = Math.abs(value);
  if (magnitude < 1e-3 || magnitude >= 1e6) return value.toExponential(5).replace('e+', 'e');
  return trimZeros(value.toPrecision(6));
}

function trimZeros(text: string): string {
  return text.includes('.') && !text.includes('e') ? text.replace(/\.?0+$/, '') : text;
}

export function formatStep(step: number): string {
  return Math.round(step).toLocaleString('en-US');
}

/** 3725 → "1h 02m", 185 → "3m 05s", 9.4 → "9s". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h >= 24) return `${Math.floor(h / 24)}d ${h % 24}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(rest).padStart(2, '0')}s`;
  return `${rest}s`;
}

/** Human label for a metrics key: `teacherEntropy` → `teacher entropy`, `imgPerSec` → `img/s`. */
export function metricLabel(key: string): string {
  const known: Record<string, string> = {
    imgPerSec: 'img/s',
    secPerStep: 's/step',
    lr: 'learning rate',
    wd: 'weight decay',
    gradNorm: 'grad norm',
  };
  return known[key] ?? key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
}
