/**
 * `dora train … --engine pytorch` (or a config with `runtime.engine: "pytorch"`): the CLI stays the one front door.
 * It finds the interpreter first (so a missing Python, torch or GPU leaves nothing behind), creates the run folder,
 * writes config.json and builds the frame cache (prepareRun.ts), then runs `python -m dora_studio train --run-dir …`
 * (built by src/core/node/pythonEngine.ts, the one place its command line is made) on the terminal: its progress line,
 * Ctrl-C finishing the step with a checkpoint, its exit status.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import type { DoraConfig } from '../../core/config';
import { loadConfigFile } from '../../core/node/configFile';
import { pythonTrainArgs, type PythonTrainRequest } from '../../core/node/pythonEngine';
import { createRunDir, removeUnstartedRunDir } from '../../core/node/runDir';
import { runDirOfCheckpoint } from '../../core/node/runPaths';
import { launchSlurm, launchTorchrun, resolveLaunch, type LaunchOverrides } from '../launch/launchers';
import { ProgressBar } from '../run/progressBar';
import { loadRunConfig, TrainingError } from '../run/runConfig';
import { doraStudioCommand, findCliPython, runLaunch } from './interpreter';
import { prepareRun } from './prepareRun';

export interface PytorchTrainOptions {
  configPath?: string;
  /** A checkpoint sidecar, or 'latest' (with runDir). */
  resume?: string;
  runDir?: string;
  python?: string;
  device?: string;
  precision?: string;
  ffmpegPath?: string;
  cacheRoot?: string;
  maxSteps?: number;
  snapshotEvery?: number;
  workers?: number;
  /** --launcher / --nproc / --nodes / --partition / --wait / --rdzv-endpoint (src/trainer/launch). */
  launch?: LaunchOverrides;
  /** `--set key=value` config overrides (as the TF.js engine's; on resume they rewrite config.json). */
  overrides?: readonly string[];
}

interface RunTarget {
  config: DoraConfig;
  /** Undefined: a new folder under the config's runsDir. */
  runDir?: string;
  resuming: boolean;
}

async function runTarget(o: PytorchTrainOptions): Promise<RunTarget> {
  if (o.resume) {
    const runDir = o.runDir ? resolve(o.runDir) : o.resume !== 'latest' ? runDirOfCheckpoint(resolve(o.resume)) : undefined;
    if (!runDir)
      throw new TrainingError(
        '--resume latest needs --run-dir',
        'Pass the run folder to resume, e.g. --run-dir runs/20250101-120000-demo.',
      );
    return { config: await loadRunConfig(runDir), runDir, resuming: true };
  }
  if (!o.configPath) throw new TrainingError('no config file given', 'Pass a *.dora.json file (create one with `dora init <preset>`).');
  return { config: await loadConfigFile(resolve(o.configPath)), runDir: o.runDir && resolve(o.runDir), resuming: false };
}

/** Creates the run folder of a new run (a given --run-dir, or a fresh one); returns it and whether this made it. */
async function claimRunDir(target: RunTarget): Promise<{ runDir: string; created: boolean }> {
  if (target.resuming) return { runDir: target.runDir!, created: false };
  if (target.runDir) {
    const created = !existsSync(target.runDir);
    await mkdir(target.runDir, { recursive: true });
    return { runDir: target.runDir, created };
  }
  return { runDir: (await createRunDir(target.config.runtime.runsDir, target.config.name)).dir, created: true };
}

export async function trainPytorchCommand(o: PytorchTrainOptions): Promise<number> {
  const target = await runTarget(o);
  const device = o.device ?? target.config.runtime.device;
  const asked = resolveLaunch(target.config, o.launch ?? {}); // before --set: which interpreter this machine needs
  // A Slurm job runs on other machines: this one (a login node) needs neither the GPU nor, with a setup line, torch.
  const interpreter =
    asked.launcher === 'slurm'
      ? await findCliPython(o.python).catch((error: unknown) => (asked.slurm.setup && !o.python ? undefined : Promise.reject(error)))
      : await findCliPython(o.python, { device, deviceSource: o.device ? '--device' : 'runtime.device' });
  if (interpreter)
    console.error(`engine: pytorch — Python ${interpreter.pythonVersion}, torch ${interpreter.torchVersion} (${interpreter.python})`);
  const { runDir, created } = await claimRunDir(target);
  const bar = new ProgressBar(process.stderr);
  let prepared;
  try {
    prepared = await prepareRun({
      runDir,
      configPath: o.configPath,
      resume: target.resuming,
      ffmpegPath: o.ffmpegPath,
      cacheRoot: o.cacheRoot,
      overrides: o.overrides,
      emit: (m) => bar.handle(m),
    });
  } catch (error) {
    if (created) await removeUnstartedRunDir(runDir); // nothing started: no half-made run folder stays behind
    throw error;
  } finally {
    bar.done();
  }
  const request: PythonTrainRequest = {
    runDir,
    resumeCheckpoint: o.resume && o.resume !== 'latest' ? resolve(o.resume) : o.resume,
    maxSteps: o.maxSteps,
    snapshotEvery: o.snapshotEvery,
    frameCache: prepared.frameCacheDir,
    device: o.device,
    precision: o.precision,
    workers: o.workers,
  };
  const launch = resolveLaunch(prepared.config, o.launch ?? {}); // the run's config.json, --set overrides applied
  if (launch.launcher !== 'local') {
    const context = { config: prepared.config, runDir, request, interpreter, launch, overrides: o.launch ?? {} };
    const code = launch.launcher === 'slurm' ? await launchSlurm(context) : await launchTorchrun(context);
    console.log(`run folder: ${relative(process.cwd(), runDir) || runDir}`);
    return code;
  }
  // --set runtime.launcher=local on a run first asked for Slurm: this machine trains, so its Python must have torch.
  const local = interpreter ?? (await findCliPython(o.python, { device, deviceSource: o.device ? '--device' : 'runtime.device' }));
  const code = await runEngineInTerminal(doraStudioCommand(local.python, pythonTrainArgs(request)));
  const where = relative(process.cwd(), runDir) || runDir;
  console.log(`run folder: ${where}`);
  return code;
}

/**
 * Runs the engine on this terminal. Ctrl-C reaches the engine through the terminal (same process group): it finishes
 * its step and checkpoints, so this process only waits; SIGTERM sent to this process is passed on.
 */
async function runEngineInTerminal(launch: ReturnType<typeof doraStudioCommand>): Promise<number> {
  let childPid: number | undefined;
  const onSigint = () => undefined;
  const onSigterm = () => childPid !== undefined && process.kill(childPid, 'SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  try {
    return await runLaunch(launch, 'inherit', (pid) => (childPid = pid));
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  }
}
