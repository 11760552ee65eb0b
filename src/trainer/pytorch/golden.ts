/**
 * `dora golden <cases> --engine pytorch`: the Python engine computes every case's outputs from its inputs
 * (`python -m dora_studio golden-run`, float32), and they are checked here with the same tolerance code as the TF.js
 * engine's (golden/runGolden.ts checkCase, golden/tolerance.ts) — one implementation of the rule for both engines.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { readSafetensors } from '../io/safetensors';
import { loadGoldenCase } from '../golden/cases';
import { checkCase, collectGoldenFiles, formatCaseLine, type CaseResult } from '../golden/runGolden';
import { findCliPython, PythonEngineError, runDoraStudio, type PythonInterpreter } from './interpreter';

export interface PytorchGoldenOptions {
  python?: string;
  /** auto | cpu | cuda | mps (default cpu). */
  device?: string;
}

interface ManifestCase {
  file: string;
  name?: string;
  kind?: string;
  outputs: string | null;
  error: string | null;
  traceback?: string;
  seconds: number;
}

interface Manifest {
  device: string;
  torch: string;
  cases: ManifestCase[];
}

function resultOf(entry: ManifestCase): CaseResult {
  const base = { file: entry.file, name: entry.name ?? basename(entry.file), kind: entry.kind ?? '?', seconds: entry.seconds };
  if (entry.error || !entry.outputs)
    return { ...base, checks: [], pass: false, error: [entry.error ?? 'no outputs', entry.traceback].filter(Boolean).join('\n') };
  try {
    const c = loadGoldenCase(entry.file);
    const outputs = new Map([...readSafetensors(entry.outputs).tensors].map(([n, t]) => [n, { data: t.data, shape: t.shape }]));
    const checks = checkCase(c, outputs);
    return { ...base, name: c.name, kind: c.kind, checks, pass: checks.length > 0 && checks.every((x) => x.pass) };
  } catch (e) {
    return { ...base, checks: [], pass: false, error: (e as Error).message };
  }
}

/** Runs the cases through the Python engine and checks them; the interpreter and device are reported. */
export async function runGoldenPytorch(
  files: string[],
  options: PytorchGoldenOptions = {},
): Promise<{ results: CaseResult[]; interpreter: PythonInterpreter; device: string }> {
  const interpreter = await findCliPython(options.python, { device: options.device, deviceSource: '--device' });
  const dir = mkdtempSync(join(tmpdir(), 'dora-golden-pytorch-'));
  try {
    const run = await runDoraStudio(interpreter.python, ['golden-run', '--out', dir, '--device', options.device ?? 'cpu', ...files]);
    if (run.code !== 0) {
      const last = (run.stderr || run.stdout).trim().split('\n').slice(-3).join('\n');
      throw new PythonEngineError(
        `the PyTorch engine's golden-run exited with code ${run.code}: ${last}`,
        'See the message above.',
        'did-not-run',
      );
    }
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    return { results: manifest.cases.map(resultOf), interpreter, device: manifest.device };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The CLI command: same output format as the TF.js golden command; returns the exit code. */
export async function goldenPytorchCommand(paths: string[], options: PytorchGoldenOptions & { verbose?: boolean }): Promise<number> {
  const files = collectGoldenFiles(paths);
  const { results, interpreter, device } = await runGoldenPytorch(files, options);
  console.log(
    `engine: pytorch — Python ${interpreter.pythonVersion}, torch ${interpreter.torchVersion} ` +
      `(${interpreter.python}), device ${device}, float32`,
  );
  let failed = 0;
  for (const result of results) {
    console.log(formatCaseLine(result));
    if (!result.pass) failed++;
    if (options.verbose || !result.pass) {
      for (const c of result.checks) if (options.verbose || !c.pass) console.log(`    ${c.pass ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
    }
  }
  console.log(`${results.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}
