// Loading packages that may be absent (tfjs-node, tfjs-node-gpu) or that must be resolved from node_modules at run
// time (the .wasm files). A require made with createRequire is opaque to esbuild, so the bundle never tries to
// inline these packages and a missing one is an ordinary run-time error we can report.
import { createRequire } from 'node:module';
import { join } from 'node:path';

// In the CommonJS bundle (and under tsx) __filename is the running file; the fallback keeps ESM callers working.
const anchor = typeof __filename === 'string' ? __filename : join(process.cwd(), 'index.js');

export const runtimeRequire: NodeJS.Require = createRequire(anchor);

export function loadOptionalModule(moduleId: string): unknown {
  return runtimeRequire(moduleId);
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0].trim();
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && 'message' in error) return String(error.message);
  return String(error);
}

/** Turns a failed require of an optional TF.js package into a one-line reason that names the cause. */
export function describeOptionalLoadFailure(moduleId: string, error: unknown): string {
  const message = firstLine(errorMessage(error));
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  if (code === 'MODULE_NOT_FOUND' && message.includes(`'${moduleId}'`)) {
    return `${moduleId} is not installed (${message}); it is optional because its install downloads libtensorflow`;
  }
  if (message.includes('tfjs_binding.node')) {
    return `${moduleId} is installed but its native binding is missing (${message})`;
  }
  return `${moduleId} failed to load: ${message}`;
}
