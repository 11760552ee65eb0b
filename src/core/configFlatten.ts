// A nested config as dotted keys, for diffs and tables (the compare view, the runs table). Pure.

/** `{a: {b: 1}, c: [1, 2]}` → `a.b = 1`, `c = [1,2]` (arrays are leaves: they are compared whole). Values are JSON text. */
export function flattenConfig(value: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix) out.set(prefix, '{}');
    for (const [key, child] of entries) flattenConfig(child, prefix ? `${prefix}.${key}` : key, out);
  } else if (prefix) {
    out.set(prefix, JSON.stringify(value) ?? 'undefined');
  }
  return out;
}
