/**
 * Finding the Python that runs the PyTorch engine (BRIEF contract 2): an explicit choice (`--python`, the
 * `dora.pythonPath` setting or the VS Code Python extension's interpreter, passed in by the caller; env DORA_PYTHON),
 * else the first of `python3`, `/usr/bin/python3`, `python` that can `import torch`. None → one clear message naming
 * what to install or set.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export const PYTHON_CANDIDATES = ['python3', '/usr/bin/python3', 'python'] as const;
export const MIN_TORCH = [1, 13] as const;

export const INSTALL_HINT =
  'Install PyTorch (≥ 1.13) for Python ≥ 3.11 — on Debian/Ubuntu `sudo apt-get install python3-torch python3-numpy python3-pil`, ' +
  'elsewhere the CUDA build from pytorch.org — then select that interpreter with --python, the dora.pythonPath setting or DORA_PYTHON.';

export class PythonEngineError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(`${message}. ${fix}`);
    this.name = 'PythonEngineError';
  }
}

export interface PythonInterpreter {
  /** The command or path that was run. */
  python: string;
  pythonVersion: string;
  torchVersion: string;
  cuda: string | null;
}

const PROBE = [
  'import json, sys',
  'try:',
  '    import torch',
  'except Exception as e:',
  '    print(json.dumps({"python": sys.version.split()[0], "error": f"{type(e).__name__}: {e}"})); sys.exit(0)',
  'print(json.dumps({"python": sys.version.split()[0], "torch": torch.__version__, "cuda": torch.version.cuda}))',
].join('\n');

interface Probe {
  ok: boolean;
  reason: string;
  interpreter?: PythonInterpreter;
}

function versionAtLeast(version: string, min: readonly number[]): boolean {
  const parts = version.split(/[.+a-z]/).map((p) => Number(p));
  for (let i = 0; i < min.length; i++) {
    const v = parts[i] ?? 0;
    if (v !== min[i]) return v > min[i];
  }
  return true;
}

/** Runs the probe: can this interpreter run the engine? */
export function probePython(python: string): Probe {
  const r = spawnSync(python, ['-c', PROBE], { encoding: 'utf8', timeout: 120_000 });
  if (r.error)
    return { ok: false, reason: `${python}: ${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : r.error.message}` };
  let info: { python?: string; torch?: string; cuda?: string | null; error?: string };
  try {
    info = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
  } catch {
    return { ok: false, reason: `${python}: did not run (${(r.stderr || r.stdout).trim().split('\n').pop() ?? `exit ${r.status}`})` };
  }
  if (!info.python || !versionAtLeast(info.python, [3, 11]))
    return { ok: false, reason: `${python}: Python ${info.python} is older than 3.11` };
  if (!info.torch) return { ok: false, reason: `${python}: Python ${info.python} cannot import torch (${info.error})` };
  if (!versionAtLeast(info.torch, MIN_TORCH))
    return { ok: false, reason: `${python}: torch ${info.torch} is older than ${MIN_TORCH.join('.')}` };
  return { ok: true, reason: '', interpreter: { python, pythonVersion: info.python, torchVersion: info.torch, cuda: info.cuda ?? null } };
}

/** The interpreter to use; throws PythonEngineError naming every candidate tried and what to install. */
export function findPython(explicit?: string, source = '--python'): PythonInterpreter {
  const chosen = explicit ?? process.env.DORA_PYTHON;
  if (chosen) {
    const probe = probePython(chosen);
    if (probe.interpreter) return probe.interpreter;
    throw new PythonEngineError(
      `the Python from ${explicit ? source : 'DORA_PYTHON'} cannot run the PyTorch engine: ${probe.reason}`,
      INSTALL_HINT,
    );
  }
  const reasons: string[] = [];
  for (const candidate of PYTHON_CANDIDATES) {
    const probe = probePython(candidate);
    if (probe.interpreter) return probe.interpreter;
    reasons.push(probe.reason);
  }
  throw new PythonEngineError(`no Python with PyTorch found (${reasons.join('; ')})`, INSTALL_HINT);
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
  );
}

export interface PythonRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `python -m dora_studio <args>` with the checkout's package on PYTHONPATH. Output is returned in full and, as it
 * comes, echoed to this process's stderr: both streams with `echo`, stderr only with `echoStderr`.
 */
export function runDoraStudio(
  python: string,
  args: string[],
  options: { echo?: boolean; echoStderr?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<PythonRun> {
  const pkg = pythonPackageDir();
  const env = {
    ...process.env,
    ...options.env,
    PYTHONPATH: [pkg, process.env.PYTHONPATH].filter(Boolean).join(':'),
    PYTHONUNBUFFERED: '1',
  };
  return new Promise((resolvePromise, reject) => {
    const child = spawn(python, ['-m', 'dora_studio', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
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
