// The Python engine's tests (python/tests, pytest) and its format check (black, line length 120), run by `npm test`
// through `npm run test:python`. Extra arguments go to pytest, e.g. `npm run test:python -- -k sinkhorn`.
// The interpreter is found as the product finds it (BRIEF contract 2): $DORA_PYTHON or --python, else the first of
// python3, /usr/bin/python3, python that can `import torch`. None → one clear line and exit 1 (never a silent skip).
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pythonDir = join(root, 'python');
const INSTALL_HINT =
  'install PyTorch for Python ≥ 3.11 (Debian/Ubuntu: `sudo apt-get install python3-torch python3-numpy python3-pil python3-pytest`, ' +
  'or `bash scripts/install-system-deps.sh`), or point DORA_PYTHON at an interpreter that has torch';

function canImportTorch(python) {
  const r = spawnSync(python, ['-c', 'import sys, torch; assert sys.version_info >= (3, 11), sys.version'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return r.status === 0;
}

function findPython(args) {
  const i = args.indexOf('--python');
  const explicit = i >= 0 ? args.splice(i, 2)[1] : process.env.DORA_PYTHON;
  if (explicit) {
    if (!canImportTorch(explicit)) {
      console.error(`test:python: ${explicit} (from ${i >= 0 ? '--python' : 'DORA_PYTHON'}) cannot import torch: ${INSTALL_HINT}`);
      process.exit(1);
    }
    return explicit;
  }
  for (const candidate of ['python3', '/usr/bin/python3', 'python']) if (canImportTorch(candidate)) return candidate;
  console.error(`test:python: no Python interpreter with torch found (tried python3, /usr/bin/python3, python): ${INSTALL_HINT}`);
  process.exit(1);
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  if (r.error) return { status: 1, error: r.error };
  return r;
}

const args = process.argv.slice(2);
const python = findPython(args);
const version = spawnSync(python, ['-c', 'import sys, torch; print(sys.version.split()[0], torch.__version__)'], { encoding: 'utf8' });
console.log(`test:python: ${python} (Python/torch ${version.stdout.trim()})`);

// Format check: black from PATH, else as a module of the same interpreter.
const blackArgs = ['--check', '--quiet', pythonDir];
let black = run('black', blackArgs, { cwd: root });
if (black.error) black = run(python, ['-m', 'black', ...blackArgs], { cwd: root });
if (black.status !== 0) {
  console.error(
    'test:python: `black --check python` failed: run `black python` to format (install black with `sudo apt-get install black` if it is missing)',
  );
  process.exit(1);
}

const env = { ...process.env, PYTHONPATH: [pythonDir, process.env.PYTHONPATH].filter(Boolean).join(':'), PYTHONDONTWRITEBYTECODE: '1' };
const pytest = run(python, ['-m', 'pytest', '-p', 'no:cacheprovider', '-q', '-rs', 'tests', ...args], { cwd: pythonDir, env });
process.exit(pytest.status ?? 1);
