// Where the extension's PyTorch engine comes from: the `dora.pythonPath` setting (used or refused as it is), else the
// Python extension's selected interpreter, else the search of src/core/node/pythonEngine.ts (python3,
// /usr/bin/python3, python). A found interpreter is remembered for a minute per (setting, device), so starting runs
// back to back does not import torch each time; failures are never remembered (the user is installing something).
// No vscode import: the setting and the extension's interpreter come in as functions.

import { findPython, type probePython, type PythonInterpreter, type PythonRequirements } from '../../core/node/pythonEngine';

export interface PythonHostOptions {
  /** The dora.pythonPath setting ('' when unset). */
  setting: () => string;
  /** The Python extension's interpreter, if any. */
  fromExtension: () => Promise<string | undefined>;
  env?: NodeJS.ProcessEnv;
  /** Replace the probe (tests). */
  probe?: typeof probePython;
  rememberMs?: number;
}

export function pythonInterpreterResolver(options: PythonHostOptions): (needs: PythonRequirements) => Promise<PythonInterpreter> {
  const remembered = new Map<string, { interpreter: PythonInterpreter; at: number }>();
  const rememberMs = options.rememberMs ?? 60_000;
  return async (needs) => {
    const setting = options.setting();
    const key = JSON.stringify([setting, needs.device ?? 'auto']);
    const hit = remembered.get(key);
    if (hit && Date.now() - hit.at < rememberMs) return hit.interpreter;
    const interpreter = await findPython({
      explicit: setting ? { python: setting, source: 'dora.pythonPath' } : undefined,
      fromExtension: options.fromExtension,
      needs,
      env: options.env,
      probe: options.probe,
    });
    remembered.set(key, { interpreter, at: Date.now() });
    return interpreter;
  };
}
