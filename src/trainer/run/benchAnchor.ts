/**
 * The speed anchor of `dora bench --anchor`: the OFFICIAL DoRA training step (scripts/anchors/time_official.py),
 * on the same shapes, one thread, timed in the same run as ours (scripts/anchors/README.md).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { DoraConfig } from '../../core/config';

export const OFFICIAL_COMMIT = '0508b2c';
const OFFICIAL_FILES = ['main.py', 'utils.py', 'vision_transformer.py', 'sinkhorn_knopp.py', 'WTDataloader.py'];

export class AnchorError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(`${message}\nFix: ${fix}`);
    this.name = 'AnchorError';
  }
}

/** scripts/anchors beside the checkout (from dist/ or from src/ under tsx). */
export function anchorScript(name: string): string {
  const here = typeof __filename === 'string' ? dirname(__filename) : process.cwd();
  for (let dir = here, i = 0; i < 8; i++, dir = dirname(dir)) {
    const candidate = join(dir, 'scripts', 'anchors', name);
    if (existsSync(candidate)) return candidate;
  }
  throw new AnchorError(`scripts/anchors/${name} was not found above ${here}`, 'run the benchmark from a checkout of DoRA Studio');
}

/** A folder with the exported official files: `path` itself, or exported from `path` as a git directory. */
export function officialDir(path: string): { dir: string; cleanup: () => void } {
  const abs = resolve(path);
  if (OFFICIAL_FILES.every((f) => existsSync(join(abs, f)))) return { dir: abs, cleanup: () => undefined };
  const isGitDir = existsSync(join(abs, 'HEAD')) && existsSync(join(abs, 'objects'));
  const gitDir = isGitDir ? abs : existsSync(join(abs, '.git')) ? join(abs, '.git') : undefined;
  if (gitDir === undefined) {
    throw new AnchorError(
      `--anchor ${path}: neither the exported official files (${OFFICIAL_FILES.join(', ')}) nor a git directory`,
      `pass the folder of the exported files or the official repository's git directory (scripts/anchors/README.md)`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'dora-official-'));
  try {
    for (const f of OFFICIAL_FILES) {
      writeFileSync(join(dir, f), execFileSync('git', ['--git-dir', gitDir, 'show', `${OFFICIAL_COMMIT}:${f}`], { maxBuffer: 1 << 26 }));
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new AnchorError(
      `could not export ${OFFICIAL_COMMIT} from ${gitDir}: ${(error as Error).message}`,
      'check that the git directory holds the official repository',
    );
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An interpreter that imports torch: explicit, DORA_PYTHON, else the first of python3, /usr/bin/python3, python. */
export function torchPython(explicit?: string): string {
  const candidates = explicit
    ? [explicit]
    : process.env.DORA_PYTHON
      ? [process.env.DORA_PYTHON]
      : ['python3', '/usr/bin/python3', 'python'];
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore', timeout: 120_000 });
    if (r.status === 0) return python;
  }
  throw new AnchorError(
    `no Python interpreter with PyTorch among ${candidates.join(', ')}`,
    'install PyTorch (Debian: apt-get install python3-torch libopenblas0-pthread) or pass --python /path/to/python',
  );
}

/** time_official.py arguments for the config's shapes, and the shapes the official script cannot follow. */
export function officialArgs(config: DoraConfig): { args: string[]; mismatches: string[] } {
  const m = config.model;
  const d = config.data;
  const mismatches: string[] = [];
  if (d.localSize !== Math.floor(d.globalSize / 2))
    mismatches.push(`local crops ${d.localSize} px (the official script uses global/2 = ${Math.floor(d.globalSize / 2)})`);
  if (!config.dora.tracker) mismatches.push('dora.tracker false (the official step always tracks)');
  const args = [
    ['--embed-dim', m.embedDim],
    ['--depth', m.depth],
    ['--heads', m.numHeads],
    ['--patch', m.patchSize],
    ['--img', d.globalSize],
    ['--frames', d.framesPerClip],
    ['--batch', config.training.batchClips],
    ['--local-crops', d.localCrops],
    ['--out-dim', m.head.outDim],
    ['--hidden-dim', m.head.hiddenDim],
    ['--bottleneck-dim', m.head.bottleneckDim],
  ].flatMap(([k, v]) => [String(k), String(v)]);
  return { args, mismatches };
}

export interface OfficialTiming {
  stepSeconds: number[];
  torch: string;
  blas: string[];
  threads: number;
}

/** One official process: `warmup` + `steps` steps; returns the timed steps. */
export function timeOfficial(python: string, dir: string, args: string[], steps: number, warmup: number): OfficialTiming {
  const out = join(mkdtempSync(join(tmpdir(), 'dora-anchor-')), 'anchor.jsonl');
  const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  const cmd = [
    anchorScript('time_official.py'),
    '--official',
    dir,
    ...args,
    '--threads',
    '1',
    '--warmup',
    String(warmup),
    '--steps',
    String(steps),
    '--json',
    out,
  ];
  const r = spawnSync(python, cmd, { env, encoding: 'utf8', maxBuffer: 1 << 26, timeout: 3_600_000 });
  try {
    if (r.status !== 0 || !existsSync(out)) {
      const tail = `${r.stderr ?? ''}`.trim().split('\n').slice(-5).join('\n');
      throw new AnchorError(
        `the official step failed (${python} ${cmd[0]} exited ${r.status ?? r.signal}):\n${tail}`,
        'run the same command by hand to see the full error',
      );
    }
    const res = JSON.parse(readFileSync(out, 'utf8').trim().split('\n').pop()!) as {
      step_s_all: number[];
      torch: string;
      blas_libraries_loaded: string[];
      threads: number;
    };
    return { stepSeconds: res.step_s_all, torch: res.torch, blas: res.blas_libraries_loaded, threads: res.threads };
  } finally {
    rmSync(dirname(out), { recursive: true, force: true });
  }
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
