// The PyTorch engine's process, for every front door (the CLI, the extension's engine client, a cluster launcher):
// finding a Python that can run it (BRIEF contract 2) and THE one place its command line and environment are built
// (`pythonEngineCommand`, `pythonTrainLaunch`): a launcher such as torchrun or srun wraps what these return.
//
// Discovery: an explicit interpreter (`--python`, the `dora.pythonPath` setting, env DORA_PYTHON) is used or refused
// as it is; else the VS Code Python extension's interpreter (extension only), then the first of `python3`,
// `/usr/bin/python3`, `python` that passes the probe. The probe imports torch, numpy and Pillow in the interpreter and
// reports versions and devices; each way it can fail has its own message naming what to install or set.

import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';

export const PYTHON_CANDIDATES = ['python3', '/usr/bin/python3', 'python'] as const;
export const MIN_PYTHON = [3, 11] as const;
export const MIN_TORCH = [1, 13] as const;
/** The setting that chooses the interpreter (the button of every interpreter error opens it). */
export const PYTHON_SETTING = 'dora.pythonPath';

/** Modules the engine imports besides torch: import name → what to install (pip name, Debian package). */
export const REQUIRED_MODULES: Readonly<Record<string, { pip: string; apt: string }>> = {
  numpy: { pip: 'numpy', apt: 'python3-numpy' },
  PIL: { pip: 'pillow', apt: 'python3-pil' },
};

export const INSTALL_HINT =
  'Install PyTorch ≥ 1.13 for Python ≥ 3.11 — Debian/Ubuntu: `sudo apt-get install python3-torch python3-numpy python3-pil`; ' +
  'elsewhere `pip install torch numpy pillow` (for a GPU, the CUDA build from pytorch.org) — then point the dora.pythonPath ' +
  'setting (CLI: --python or DORA_PYTHON) at that interpreter.';

export type PythonProblem =
  'not-found' | 'did-not-run' | 'old-python' | 'no-torch' | 'old-torch' | 'missing-package' | 'no-cuda' | 'no-mps';

/** A Python that cannot run the engine: what is wrong, and the fix (what to install or set). */
export class PythonEngineError extends Error {
  constructor(
    readonly problem: string,
    readonly fix: string,
    readonly kind: PythonProblem | 'none-found',
    /** The setting that fixes it (the extension offers a button that opens it). */
    readonly setting = PYTHON_SETTING,
  ) {
    super(`${problem}. Fix: ${fix}`);
    this.name = 'PythonEngineError';
  }
}

export interface PythonInterpreter {
  /** The command or path that was run. */
  python: string;
  /** Where it came from: `--python`, `dora.pythonPath`, `DORA_PYTHON`, `Python extension` or `search`. */
  source: string;
  pythonVersion: string;
  torchVersion: string;
  /** The CUDA version torch was built for, null for a CPU-only build. */
  cuda: string | null;
  cudaAvailable: boolean;
  mpsAvailable: boolean;
}

/** What the run needs of the interpreter beyond torch itself. */
export interface PythonRequirements {
  /** The device asked for (`cuda` and `mps` must be there; `auto`/`cpu` always are). */
  device?: string;
  /** Where that device came from, for the message (`runtime.device`, `dora.device`, `--device`). */
  deviceSource?: string;
}

export type ProbeResult = { ok: true; interpreter: PythonInterpreter } | { ok: false; kind: PythonProblem; reason: string; fix: string };

const PROBE = [
  'import json, sys, importlib',
  'out = {"python": sys.version.split()[0], "missing": {}}',
  'try:',
  '    import torch',
  '    out["torch"] = torch.__version__',
  '    out["cuda"] = torch.version.cuda',
  '    out["cudaAvailable"] = bool(torch.cuda.is_available())',
  '    mps = getattr(torch.backends, "mps", None)',
  '    out["mpsAvailable"] = bool(mps is not None and mps.is_available())',
  'except Exception as e:',
  '    out["torchError"] = f"{type(e).__name__}: {e}"',
  `for name in ${JSON.stringify(Object.keys(REQUIRED_MODULES))}:`,
  '    try:',
  '        importlib.import_module(name)',
  '    except Exception as e:',
  '        out["missing"][name] = f"{type(e).__name__}: {e}"',
  'print(json.dumps(out))',
].join('\n');

/** The probe as a command line: `<python> -c <script>` printing one JSON line. */
export function probeCommand(python: string): [string, string[]] {
  return [python, ['-c', PROBE]];
}

export function versionAtLeast(version: string, min: readonly number[]): boolean {
  const parts = version.split(/[.+a-z]/).map((p) => Number(p));
  for (let i = 0; i < min.length; i++) {
    const v = Number.isFinite(parts[i]) ? parts[i] : 0;
    if (v !== min[i]) return v > min[i];
  }
  return true;
}

interface ProbeOutput {
  python?: string;
  torch?: string;
  torchError?: string;
  cuda?: string | null;
  cudaAvailable?: boolean;
  mpsAvailable?: boolean;
  missing?: Record<string, string>;
}

/** What the probe's run says about `python` (pure: the wording of every problem is unit-tested). */
export function judgeProbe(
  python: string,
  source: string,
  run: { error?: NodeJS.ErrnoException; stdout: string; stderr: string; status: number | null },
  needs: PythonRequirements = {},
): ProbeResult {
  const who = source === 'search' ? python : `${python} (from ${source})`;
  if (run.error) {
    const missing = run.error.code === 'ENOENT';
    return {
      ok: false,
      kind: missing ? 'not-found' : 'did-not-run',
      reason: `${who}: ${missing ? 'not found' : run.error.message}`,
      fix: INSTALL_HINT,
    };
  }
  let info: ProbeOutput;
  try {
    info = JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as ProbeOutput;
  } catch {
    const last = (run.stderr || run.stdout).trim().split('\n').pop() || `exit status ${run.status}`;
    return { ok: false, kind: 'did-not-run', reason: `${who} did not run as a Python interpreter (${last})`, fix: INSTALL_HINT };
  }
  return judgeVersions({ python, source, who }, info, needs);
}

interface Candidate {
  python: string;
  source: string;
  /** How messages name it: the path, and where it came from unless found by the search. */
  who: string;
}

function judgeVersions({ python, source, who }: Candidate, info: ProbeOutput, needs: PythonRequirements): ProbeResult {
  const other = `or set dora.pythonPath (CLI: --python) to an interpreter that has it`;
  if (!info.python || !versionAtLeast(info.python, MIN_PYTHON))
    return {
      ok: false,
      kind: 'old-python',
      reason: `${who} is Python ${info.python ?? '?'}; the PyTorch engine needs Python ≥ ${MIN_PYTHON.join('.')}`,
      fix: `Set dora.pythonPath (CLI: --python) to a Python ≥ ${MIN_PYTHON.join('.')} that has PyTorch. ${INSTALL_HINT}`,
    };
  if (!info.torch)
    return {
      ok: false,
      kind: 'no-torch',
      reason: `${who}: Python ${info.python} cannot import torch (${info.torchError ?? 'no torch'})`,
      fix:
        `Install PyTorch ≥ ${MIN_TORCH.join('.')} into this interpreter (\`${python} -m pip install torch\`; for Debian's ` +
        `/usr/bin/python3: \`sudo apt-get install python3-torch\`), ${other}.`,
    };
  if (!versionAtLeast(info.torch, MIN_TORCH))
    return {
      ok: false,
      kind: 'old-torch',
      reason: `${who} has torch ${info.torch}; the PyTorch engine needs torch ≥ ${MIN_TORCH.join('.')}`,
      fix: `Upgrade it (\`${python} -m pip install --upgrade torch\`), ${other.replace('has it', 'has a newer PyTorch')}.`,
    };
  const missing = Object.entries(info.missing ?? {});
  if (missing.length > 0) {
    const names = missing.map(([name]) => REQUIRED_MODULES[name]?.pip ?? name);
    const apt = missing.map(([name]) => REQUIRED_MODULES[name]?.apt ?? `python3-${name}`);
    return {
      ok: false,
      kind: 'missing-package',
      reason: `${who} has torch ${info.torch} but cannot import ${missing.map(([n, e]) => `${n} (${e})`).join(', ')}`,
      fix:
        `Install ${names.join(' and ')} into this interpreter (\`${python} -m pip install ${names.join(' ')}\`; ` +
        `Debian: \`sudo apt-get install ${apt.join(' ')}\`), ${other}.`,
    };
  }
  return judgeDevice({ python, source, who }, info, needs);
}

function judgeDevice({ python, source, who }: Candidate, info: ProbeOutput, needs: PythonRequirements): ProbeResult {
  const setting = needs.deviceSource ?? 'runtime.device';
  const elsewhere = `or set ${setting} to "auto" or "cpu"`;
  if (needs.device === 'cuda' && !info.cudaAvailable)
    return {
      ok: false,
      kind: 'no-cuda',
      reason: `${setting} is "cuda" but torch ${info.torch} in ${who} ${cudaProblem(info.cuda)}`,
      fix:
        'Install a CUDA build of PyTorch (pytorch.org) into this interpreter or set dora.pythonPath (CLI: --python) to one ' +
        `that has it, ${elsewhere}.`,
    };
  if (needs.device === 'mps' && !info.mpsAvailable)
    return {
      ok: false,
      kind: 'no-mps',
      reason: `${setting} is "mps" but torch ${info.torch} in ${who} cannot use Apple MPS`,
      fix: `Use a PyTorch with MPS support on an Apple-silicon Mac, ${elsewhere}.`,
    };
  return {
    ok: true,
    interpreter: {
      python,
      source,
      pythonVersion: info.python!,
      torchVersion: info.torch!,
      cuda: info.cuda ?? null,
      cudaAvailable: info.cudaAvailable === true,
      mpsAvailable: info.mpsAvailable === true,
    },
  };
}

function cudaProblem(cuda: string | null | undefined): string {
  return cuda ? `is built for CUDA ${cuda} and sees no GPU (driver, CUDA_VISIBLE_DEVICES?)` : 'is a CPU-only build';
}

const PROBE_TIMEOUT_MS = 120_000;

/** Runs the probe in `python` (asynchronously: importing torch takes seconds). */
export function probePython(
  python: string,
  source = 'search',
  needs: PythonRequirements = {},
  env?: NodeJS.ProcessEnv,
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const [command, args] = probeCommand(python);
    let stdout = '';
    let stderr = '';
    let settled = false;
    const done = (run: Parameters<typeof judgeProbe>[2]) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(judgeProbe(python, source, run, needs));
    };
    const child = spawn(command, args, { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done({ stdout: '', stderr: `no answer within ${PROBE_TIMEOUT_MS / 1000} s`, status: null });
    }, PROBE_TIMEOUT_MS);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (error: NodeJS.ErrnoException) => done({ error, stdout, stderr, status: null }));
    child.on('close', (status) => done({ stdout, stderr, status }));
  });
}

/** The synchronous probe (scripts and tests that cannot wait). */
export function probePythonSync(python: string, source = 'search', needs: PythonRequirements = {}): ProbeResult {
  const [command, args] = probeCommand(python);
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: PROBE_TIMEOUT_MS });
  return judgeProbe(
    python,
    source,
    { error: r.error as NodeJS.ErrnoException | undefined, stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status },
    needs,
  );
}

export interface FindPythonOptions {
  /** An explicit interpreter and where it came from (`--python`, `dora.pythonPath`): used or refused, never skipped. */
  explicit?: { python: string; source: string };
  /** The VS Code Python extension's selected interpreter, tried before the search (extension only). */
  fromExtension?: () => Promise<string | undefined>;
  needs?: PythonRequirements;
  /** Environment to read DORA_PYTHON from and to run the probe in (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Replace the probe (tests). */
  probe?: typeof probePython;
  /** Replace the searched names (tests; default PYTHON_CANDIDATES). */
  candidates?: readonly string[];
}

/** The interpreter to run the engine with; throws PythonEngineError naming every interpreter tried and the fix. */
export async function findPython(options: FindPythonOptions = {}): Promise<PythonInterpreter> {
  const env = options.env ?? process.env;
  const probe = options.probe ?? probePython;
  const explicit = options.explicit ?? (env.DORA_PYTHON ? { python: env.DORA_PYTHON, source: 'DORA_PYTHON' } : undefined);
  if (explicit) {
    const r = await probe(explicit.python, explicit.source, options.needs, env);
    if (r.ok) return r.interpreter;
    throw new PythonEngineError(r.reason, r.fix, r.kind);
  }
  const tried: Extract<ProbeResult, { ok: false }>[] = [];
  const fromExtension = await options.fromExtension?.().catch(() => undefined);
  const candidates: [string, string][] = [
    ...(fromExtension ? [[fromExtension, 'Python extension'] as [string, string]] : []),
    ...(options.candidates ?? PYTHON_CANDIDATES).map((c): [string, string] => [c, 'search']),
  ];
  for (const [python, source] of candidates) {
    const r = await probe(python, source, options.needs, env);
    if (r.ok) return r.interpreter;
    tried.push(r);
  }
  // The most specific failure (an interpreter that has torch but lacks something) gives the fix.
  const best = tried.find((t) => t.kind !== 'not-found' && t.kind !== 'no-torch' && t.kind !== 'did-not-run');
  const problem = `No Python that can run the PyTorch engine was found (${tried.map((t) => t.reason).join('; ')})`;
  throw new PythonEngineError(problem, best?.fix ?? INSTALL_HINT, best?.kind ?? 'none-found');
}

// ---- the engine's command line ----------------------------------------------------------------------------------

export interface PythonLaunch {
  command: string;
  args: string[];
  /** Added to the caller's environment. */
  env: Record<string, string>;
}

/** `python -m dora_studio <args>` with the package folder (the checkout's or the extension's `python/`) on PYTHONPATH. */
export function pythonEngineCommand(
  python: string,
  packageDir: string,
  args: readonly string[],
  baseEnv: NodeJS.ProcessEnv = process.env,
): PythonLaunch {
  return {
    command: python,
    args: ['-m', 'dora_studio', ...args],
    env: { PYTHONPATH: [packageDir, baseEnv.PYTHONPATH].filter(Boolean).join(path.delimiter), PYTHONUNBUFFERED: '1' },
  };
}

/** What a training launch of the engine needs (the `start` request's fields plus engine-only ones). */
export interface PythonTrainRequest {
  runDir: string;
  resumeCheckpoint?: string;
  maxSteps?: number;
  snapshotEvery?: number;
  cacheRoot?: string;
  frameCache?: string;
  device?: string;
  precision?: string;
  workers?: number;
}

/** The arguments of `python -m dora_studio train` for one run (the engine reads everything else from config.json). */
export function pythonTrainArgs(request: PythonTrainRequest): string[] {
  const args = ['train', '--run-dir', request.runDir];
  const optional: [string, string | number | undefined][] = [
    ['--resume', request.resumeCheckpoint],
    ['--max-steps', request.maxSteps],
    ['--snapshot-every', request.snapshotEvery || undefined],
    ['--cache-root', request.cacheRoot],
    ['--frame-cache', request.frameCache],
    ['--device', request.device],
    ['--precision', request.precision],
    ['--workers', request.workers],
  ];
  for (const [flag, value] of optional) if (value !== undefined && value !== '') args.push(flag, String(value));
  return args;
}

/** The training process of one run: the command line a launcher (torchrun, srun) would wrap. */
export function pythonTrainLaunch(
  python: string,
  packageDir: string,
  request: PythonTrainRequest,
  baseEnv: NodeJS.ProcessEnv = process.env,
): PythonLaunch {
  return pythonEngineCommand(python, packageDir, pythonTrainArgs(request), baseEnv);
}
