// The interpreter selected in the VS Code Python extension (ms-python.python), when it is installed: its
// `environments` API (getActiveEnvironmentPath → resolveEnvironment), else the older `settings.getExecutionDetails`.
// Optional in every way: no extension, an API that changed, or an activation that fails or hangs → undefined.

import * as vscode from 'vscode';

const PYTHON_EXTENSION = 'ms-python.python';
const ACTIVATION_TIMEOUT_MS = 10_000;

interface PythonApi {
  environments?: {
    getActiveEnvironmentPath?: (resource?: vscode.Uri) => { path?: string } | undefined;
    resolveEnvironment?: (env: unknown) => Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
  };
  settings?: { getExecutionDetails?: (resource?: vscode.Uri) => { execCommand?: string[] } | undefined };
}

export async function pythonExtensionInterpreter(resource?: vscode.Uri): Promise<string | undefined> {
  const extension = vscode.extensions.getExtension<PythonApi>(PYTHON_EXTENSION);
  if (!extension) return undefined;
  try {
    const api = extension.isActive ? extension.exports : await withTimeout(Promise.resolve(extension.activate()), ACTIVATION_TIMEOUT_MS);
    const active = api?.environments?.getActiveEnvironmentPath?.(resource);
    if (active) {
      const resolved = await withTimeout(Promise.resolve(api?.environments?.resolveEnvironment?.(active)), ACTIVATION_TIMEOUT_MS).catch(
        () => undefined,
      );
      return resolved?.executable?.uri?.fsPath ?? active.path;
    }
    return api?.settings?.getExecutionDetails?.(resource)?.execCommand?.[0];
  } catch {
    return undefined;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([promise, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms))]);
}
