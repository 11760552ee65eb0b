// The PyTorch engine's interpreter: every way a Python can be unfit gets its own message naming what to install or
// set (fake interpreters: tiny shell scripts), the search order, and the one command line of the engine.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  findPython,
  probePython,
  PythonEngineError,
  pythonEngineCommand,
  pythonTrainLaunch,
  versionAtLeast,
} from '../../../src/core/node/pythonEngine';
import { brokenPython, fakePython, GOOD, MISSING_PYTHON } from './fakePython';

async function refusal(python: string, needs = {}): Promise<PythonEngineError> {
  const error = await findPython({ explicit: { python, source: 'dora.pythonPath' }, needs }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof PythonEngineError, `expected a PythonEngineError, got ${String(error)}`);
  assert.equal(error.setting, 'dora.pythonPath', 'the button opens the interpreter setting');
  return error;
}

test('no Python at the configured path: says so and how to install one', async () => {
  const e = await refusal(MISSING_PYTHON);
  assert.equal(e.kind, 'not-found');
  assert.match(e.problem, /no-such-python \(from dora\.pythonPath\): not found/);
  assert.match(e.fix, /apt-get install python3-torch/);
  assert.match(e.fix, /dora\.pythonPath/);
});

test('a Python without torch: names the interpreter and how to install torch into it', async () => {
  const python = fakePython({ python: '3.11.7', torchError: "ModuleNotFoundError: No module named 'torch'", missing: {} });
  const e = await refusal(python);
  assert.equal(e.kind, 'no-torch');
  assert.match(
    e.problem,
    /\(from dora\.pythonPath\): Python 3\.11\.7 cannot import torch \(ModuleNotFoundError: No module named 'torch'\)/,
  );
  assert.ok(e.fix.includes(`${python} -m pip install torch`), e.fix);
  assert.match(e.fix, /python3-torch/);
});

test('torch older than 1.13 and Python older than 3.11 are refused with the version found', async () => {
  const old = await refusal(fakePython({ ...GOOD, torch: '1.12.1' }));
  assert.equal(old.kind, 'old-torch');
  assert.match(old.problem, /has torch 1\.12\.1; the PyTorch engine needs torch ≥ 1\.13/);
  assert.match(old.fix, /pip install --upgrade torch/);
  const oldPython = await refusal(fakePython({ ...GOOD, python: '3.9.2' }));
  assert.equal(oldPython.kind, 'old-python');
  assert.match(oldPython.problem, /is Python 3\.9\.2; the PyTorch engine needs Python ≥ 3\.11/);
});

test('a package missing beside torch: names it, with the pip and Debian package names', async () => {
  const e = await refusal(fakePython({ ...GOOD, missing: { numpy: "ModuleNotFoundError: No module named 'numpy'" } }));
  assert.equal(e.kind, 'missing-package');
  assert.match(e.problem, /has torch 2\.3\.1 but cannot import numpy \(ModuleNotFoundError/);
  assert.match(e.fix, /-m pip install numpy/);
  assert.match(e.fix, /apt-get install python3-numpy/);
  const pil = await refusal(fakePython({ ...GOOD, missing: { PIL: 'ImportError: libjpeg' } }));
  assert.match(pil.fix, /pip install pillow.*python3-pil/);
});

test('CUDA asked for but absent: a CPU-only build and a CUDA build without a GPU are told apart', async () => {
  const cpuOnly = await refusal(fakePython(GOOD), { device: 'cuda', deviceSource: 'dora.device' });
  assert.equal(cpuOnly.kind, 'no-cuda');
  assert.match(cpuOnly.problem, /^dora\.device is "cuda" but torch 2\.3\.1 in .* is a CPU-only build$/);
  assert.match(cpuOnly.fix, /CUDA build of PyTorch .*or set dora\.device to "auto" or "cpu"/);
  const noGpu = await refusal(fakePython({ ...GOOD, cuda: '12.1' }), { device: 'cuda' });
  assert.match(noGpu.problem, /^runtime\.device is "cuda" but .* is built for CUDA 12\.1 and sees no GPU/);
  const ok = await findPython({
    explicit: { python: fakePython({ ...GOOD, cuda: '12.1', cudaAvailable: true }), source: 'x' },
    needs: { device: 'cuda' },
  });
  assert.equal(ok.cudaAvailable, true);
  const mps = await refusal(fakePython(GOOD), { device: 'mps' });
  assert.equal(mps.kind, 'no-mps');
});

test('something that is not a Python interpreter is reported with its own output', async () => {
  const e = await refusal(brokenPython());
  assert.equal(e.kind, 'did-not-run');
  assert.match(e.problem, /did not run as a Python interpreter \(Segmentation fault\)/);
});

test('search: the Python extension first, then the candidates; every failure is listed when none fits', async () => {
  const good = fakePython(GOOD);
  const noTorch = fakePython({ python: '3.11.7', torchError: 'ModuleNotFoundError: torch', missing: {} });
  const found = await findPython({ fromExtension: async () => noTorch, candidates: [MISSING_PYTHON, good], env: {} });
  assert.equal(found.python, good);
  assert.equal(found.source, 'search');
  const fromExtension = await findPython({ fromExtension: async () => good, candidates: [MISSING_PYTHON], env: {} });
  assert.equal(fromExtension.source, 'Python extension');
  const oldTorch = fakePython({ ...GOOD, torch: '1.10.0' });
  const none = await findPython({ candidates: [MISSING_PYTHON, noTorch, oldTorch], env: {} }).catch((e: PythonEngineError) => e);
  assert.ok(none instanceof PythonEngineError);
  assert.match(
    none.problem,
    /^No Python that can run the PyTorch engine was found \(.*not found; .*cannot import torch.*; .*has torch 1\.10\.0/,
  );
  assert.equal(none.kind, 'old-torch', 'the most specific failure gives the fix');
  const explicitEnv = await findPython({ env: { DORA_PYTHON: noTorch }, candidates: [good] }).catch((e: PythonEngineError) => e);
  assert.ok(explicitEnv instanceof PythonEngineError, 'DORA_PYTHON is used or refused, never skipped');
  assert.match(explicitEnv.problem, /from DORA_PYTHON/);
});

test('the probe passes on this machine’s Python with torch (Debian python3-torch)', async () => {
  const r = await probePython('/usr/bin/python3');
  assert.ok(r.ok, r.ok ? '' : r.reason);
  if (r.ok) assert.ok(versionAtLeast(r.interpreter.torchVersion, [1, 13]));
});

test('versions: Debian and local-build suffixes compare by their numbers', () => {
  assert.ok(versionAtLeast('1.13.0a0', [1, 13]));
  assert.ok(versionAtLeast('2.3.1+cu121', [1, 13]));
  assert.ok(!versionAtLeast('1.12.1+cpu', [1, 13]));
  assert.ok(versionAtLeast('3.11.2', [3, 11]) && !versionAtLeast('3.10.12', [3, 11]));
});

test('the engine command line: one builder, the package on PYTHONPATH, only the options that are set', () => {
  const launch = pythonTrainLaunch(
    '/opt/py/bin/python',
    '/ext/python',
    { runDir: '/r/run', resumeCheckpoint: '/r/run/checkpoints/step-000004.json', maxSteps: 8, frameCache: '/c/v-1', device: 'cuda' },
    { PYTHONPATH: '/site' },
  );
  assert.equal(launch.command, '/opt/py/bin/python');
  assert.deepEqual(launch.args, [
    '-m',
    'dora_studio',
    'train',
    '--run-dir',
    '/r/run',
    '--resume',
    '/r/run/checkpoints/step-000004.json',
    '--max-steps',
    '8',
    '--frame-cache',
    '/c/v-1',
    '--device',
    'cuda',
  ]);
  assert.deepEqual(launch.env, { PYTHONPATH: '/ext/python:/site', PYTHONUNBUFFERED: '1' });
  assert.deepEqual(pythonEngineCommand('python3', '/p', ['import_pth', 'x.pth'], {}).env.PYTHONPATH, '/p');
});
