// Typed wrapper around acquireVsCodeApi(). VS Code allows one call per page, so every view goes
// through this module. Outside VS Code (a plain browser, e.g. while designing) it degrades to a
// console-logging stub, so a view never crashes because the API is missing.

interface RawVsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): unknown;
}

declare const acquireVsCodeApi: (() => RawVsCodeApi) | undefined;

export interface WebviewBridge<Outgoing, Persisted> {
  post(message: Outgoing): void;
  /** The persisted UI state merged over `defaults`; wrong-typed or unknown keys fall back to the defaults. */
  loadState(): Persisted;
  /** Persist the UI state (getState/setState survive a reload and a hidden panel). */
  saveState(state: Persisted): void;
}

let rawApi: RawVsCodeApi | undefined;

function raw(): RawVsCodeApi {
  if (!rawApi) {
    rawApi =
      typeof acquireVsCodeApi === 'function'
        ? acquireVsCodeApi()
        : { postMessage: (m) => console.info('[no VS Code] postMessage', m), getState: () => undefined, setState: (s) => s };
  }
  return rawApi;
}

export function createBridge<Outgoing, Persisted extends object>(defaults: Persisted): WebviewBridge<Outgoing, Persisted> {
  return {
    post: (message) => raw().postMessage(message),
    loadState: () => mergePersisted(defaults, raw().getState()),
    saveState: (state) => void raw().setState(state),
  };
}

/**
 * Keeps each key of `defaults` whose persisted value has the same JSON type. An older build may have
 * saved another shape, and a restore must never break the view.
 */
export function mergePersisted<T extends object>(defaults: T, saved: unknown): T {
  const result = { ...defaults };
  if (typeof saved !== 'object' || saved === null) return result;
  const source = saved as Record<string, unknown>;
  for (const key of Object.keys(defaults) as (keyof T & string)[]) {
    const fallback = defaults[key];
    const value = source[key];
    if (value === undefined) continue;
    const sameKind =
      (Array.isArray(fallback) && Array.isArray(value)) ||
      (fallback === null
        ? value === null || typeof value === 'object' || typeof value === 'number' || typeof value === 'string'
        : typeof value === typeof fallback && !Array.isArray(value));
    if (sameKind) result[key] = value as T[typeof key];
  }
  return result;
}
