/**
 * `dora bench --engine pytorch [--config cpu-small|paper|demo|file.dora.json]`: the config is resolved here with the
 * TS config code (the Python engine never re-resolves configs), then `python -m dora_studio bench` times the DoRA
 * step — and, with `--official DIR`, the official step on the same shapes in the same run — and prints one JSON line
 * per precision (the TF.js bench's fields plus engine, device, precision, microBatch, ratioToOfficial …).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { DoraConfig, PresetName } from '../../core/config';
import { loadConfigFile, resolveConfig } from '../../core/node/configFile';
import { isPresetName } from '../../core/presets';
import { findCliPython, PythonEngineError, runDoraStudio } from './interpreter';

export interface PytorchBenchOptions {
  config: string;
  python?: string;
  device?: string;
  precision?: string;
  microBatch?: string;
  steps?: number;
  warmup?: number;
  rounds?: number;
  threads?: number;
  official?: string;
  anchors?: string;
}

async function configFor(name: string): Promise<DoraConfig> {
  if (isPresetName(name))
    return resolveConfig({ preset: name as PresetName, data: { video: 'bench-has-no-video.mp4' } }, { file: `${name}.dora.json` });
  return loadConfigFile(resolve(name));
}

/** Runs the Python bench; its JSON lines go to stdout, its log to stderr. Returns the exit code. */
export async function benchPytorchCommand(options: PytorchBenchOptions): Promise<number> {
  const config = await configFor(options.config);
  const interpreter = await findCliPython(options.python, { device: options.device, deviceSource: '--device' });
  const dir = mkdtempSync(join(tmpdir(), 'dora-bench-pytorch-'));
  try {
    const configJson = join(dir, 'config.json');
    writeFileSync(configJson, JSON.stringify(config));
    const args = ['bench', '--config-json', configJson, '--config-name', options.config];
    const optional: [string, string | number | undefined][] = [
      ['--device', options.device],
      ['--precision', options.precision],
      ['--micro-batch', options.microBatch],
      ['--steps', options.steps],
      ['--warmup', options.warmup],
      ['--rounds', options.rounds],
      ['--threads', options.threads],
      ['--official', options.official && resolve(options.official)],
      ['--anchors', options.anchors && resolve(options.anchors)],
    ];
    for (const [flag, value] of optional) if (value !== undefined) args.push(flag, String(value));
    // OpenBLAS sizes its thread pool when it loads, so the thread count must be in the environment.
    const env = options.threads ? { OPENBLAS_NUM_THREADS: String(options.threads), OMP_NUM_THREADS: String(options.threads) } : {};
    const run = await runDoraStudio(interpreter.python, args, { env, echoStderr: true });
    process.stdout.write(run.stdout);
    if (run.code !== 0)
      throw new PythonEngineError(`the PyTorch bench exited with code ${run.code}`, 'See the message above.', 'did-not-run');
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
