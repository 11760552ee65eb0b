/**
 * The CLI's side of the PyTorch engine's process: the interpreter (`--python`, DORA_PYTHON, else the search of
 * src/core/node/pythonEngine.ts), the checkout's `python/` package folder, and running `python -m dora_studio …`
 * through the one command-line builder (`pythonEngineCommand`).
 */
import { spawn, type StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  findPython,
  PythonEngineError,
  pythonEngineCommand,
  type PythonInterpreter,
  type PythonLaunch,
  type PythonRequirements,
} from '../../core/node/pythonEngine';

export { PythonEngineError, type PythonInterpreter } from '../../core/node/pythonEngine';

/** The interpreter for a CLI command: `--python` when given (used or refused), else DORA_PYTHON, else the search. */
export function findCliPython(python?: string, needs: PythonRequirements = {}): Promise<PythonInterpreter> {
  return findPython({ explicit: python ? { python, source: '--python' } : undefined, needs });
}

/**
 * The folder that holds the `dora_studio` package (the checkout's `python/`): $DORA_STUDIO_PYTHON_DIR, else found
 * upwards from this file (dist/ or src/), else from the working directory (a re-bundled CLI, e.g. on a GPU machine).
 */
export function pythonPackageDir(from = __dirname): string {
  const explicit = process.env.DORA_STUDIO_PYTHON_DIR;
  if (explicit) {
    if (existsSync(join(explicit, 'dora_studio', '__init__.py'))) return resolve(explicit);
    throw new PythonEngineError(
      `DORA_STUDIO_PYTHON_DIR=${explicit} has no dora_studio package`,
      'Point it at the python/ folder of a DoRA Studio checkout.',
      'not-found',
    );
  }
  for (const start of [from, process.cwd()]) {
    for (let dir = resolve(start); ; dir = dirname(dir)) {
      if (existsSync(join(dir, 'python', 'dora_studio', '__init__.py'))) return join(dir, 'python');
      if (dirname(dir) === dir) break;
    }
  }
  throw new PythonEngineError(
    'the dora_studio Python package is missing',
    'Run DoRA Studio from a complete checkout (it needs the python/ folder).',
    'not-found',
  );
}

/** `python -m dora_studio <args>` of the checkout's package, with the environment to add. */
export function doraStudioCommand(python: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): PythonLaunch {
  const launch = pythonEngineCommand(python, pythonPackageDir(), args);
  return { ...launch, env: { ...(env as Record<string, string>), ...launch.env } };
}

export interface PythonRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `python -m dora_studio <args>`. Output is returned in full and, as it comes, echoed to this process's stderr:
 * both streams with `echo`, stderr only with `echoStderr`.
 */
export function runDoraStudio(
  python: string,
  args: string[],
  options: { echo?: boolean; echoStderr?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<PythonRun> {
  const launch = doraStudioCommand(python, args, options.env);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(launch.command, launch.args, { env: { ...process.env, ...launch.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (options.echo) process.stderr.write(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (options.echo || options.echoStderr) process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

/** Starts a launch with the given stdio (the terminal's, for `train`); resolves with the exit code (128+n on a signal). */
export function runLaunch(launch: PythonLaunch, stdio: StdioOptions, onStart?: (pid: number | undefined) => void): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(launch.command, launch.args, { env: { ...process.env, ...launch.env }, stdio });
    onStart?.(child.pid);
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise(code ?? (signal ? 128 + signalNumber(signal) : 1)));
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return ({ SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ?? 1;
}
