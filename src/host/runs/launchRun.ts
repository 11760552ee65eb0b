// Start Run → torchrun / Slurm from the extension (docs/launchers.md). The run folder is readied by the engine client
// (`prepare-run`: config.json and the frame cache), then the launcher takes over: a Slurm job is submitted (its script
// and record in slurm/), or torchrun starts detached on this machine (its output in logs/torchrun.out). Neither talks
// to the extension: the Runs view follows the run folder and, for Slurm, the job's state (slurmRuns.ts). No vscode.

import { spawn } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import * as path from 'node:path';
import type { DoraConfig, LauncherName } from '../../core/config';
import type { ProgressMessage } from '../../core/messages';
import { gpusPerNode, resolveLaunch, torchrunProblem, type ResolvedLaunch } from '../../core/node/launch';
import { pythonTrainArgs, type PythonInterpreter, type PythonTrainRequest } from '../../core/node/pythonEngine';
import { createRunDir, readRunConfig, removeUnstartedRunDir } from '../../core/node/runDir';
import { runDirOfCheckpoint } from '../../core/node/runPaths';
import { submitSlurmRun, SlurmError } from '../../core/node/slurm';
import type { SlurmJobRecord } from '../../core/slurmState';
import { torchrunArgs } from '../../core/slurmScript';
import type { EngineClient } from '../engine/engineClient';

export interface LaunchRunRequest {
  launcher: Exclude<LauncherName, 'local'>;
  configPath?: string;
  resumeCheckpoint?: string;
  runsDir?: string;
  name: string;
  interpreter: PythonInterpreter;
  /** Processes per node (and nodes) chosen in Start Run; the config's otherwise. */
  nproc?: number;
  nodes?: number;
  device?: string;
  precision?: string;
  maxSteps?: number;
  snapshotEvery?: number;
  ffmpegPath?: string;
  cacheRoot?: string;
  /** `--set` overrides: a new run's, or the .dora.json changes accepted on resume (prepare-run applies them). */
  overrides?: string[];
  onProgress?: (p: ProgressMessage) => void;
  log: (text: string) => void;
}

export interface LaunchedRun {
  runDir: string;
  job?: SlurmJobRecord;
  pid?: number;
}

/** A launch the user must fix (Slurm's or torchrun's own message, and how). */
export class LaunchError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
    this.name = 'LaunchError';
  }
}

export async function launchRun(engines: EngineClient, r: LaunchRunRequest): Promise<LaunchedRun> {
  if (r.launcher === 'torchrun') {
    const problem = torchrunProblem(r.interpreter);
    if (problem) throw new LaunchError(problem, 'Use torch ≥ 2.0 (the dora.pythonPath setting), or the Slurm or local launcher.');
  }
  const created = !r.resumeCheckpoint;
  if (created && !r.runsDir) throw new Error('launch: no runs folder given');
  const runDir = created ? (await createRunDir(r.runsDir!, r.name)).dir : runDirOfCheckpoint(r.resumeCheckpoint!);
  try {
    const end = await engines.prepareRun(
      {
        runDir,
        ...(r.resumeCheckpoint ? { resumeCheckpoint: r.resumeCheckpoint } : { configPath: r.configPath }),
        ...(r.ffmpegPath ? { ffmpegPath: r.ffmpegPath } : {}),
        ...(r.cacheRoot ? { cacheRoot: r.cacheRoot } : {}),
        ...(r.overrides?.length ? { overrides: r.overrides } : {}),
      },
      { onProgress: r.onProgress, log: r.log },
    );
    if (!end.prepared) throw new Error(`could not prepare the run folder: ${end.error ?? end.reason}`);
    const config = (await readRunConfig(runDir)) as DoraConfig;
    const launch = launchOf(config, r);
    const request: PythonTrainRequest = {
      runDir,
      resumeCheckpoint: r.resumeCheckpoint,
      maxSteps: r.maxSteps,
      snapshotEvery: r.snapshotEvery,
      frameCache: end.prepared.frameCacheDir,
      device: r.device,
      precision: r.precision,
    };
    const packageDir = engines.pythonPackageDir;
    if (!packageDir) throw new Error('this build of DoRA Studio has no PyTorch engine');
    if (r.launcher === 'slurm') return { runDir, job: await submit(runDir, config.name, launch, request, packageDir, r) };
    return { runDir, pid: await startTorchrun(runDir, launch, request, packageDir, r) };
  } catch (error) {
    if (created && (await removeUnstartedRunDir(runDir))) r.log(`removed ${runDir}: the run never started`);
    if (error instanceof SlurmError) throw new LaunchError(error.message, error.fix);
    throw error;
  }
}

type Launch = { launch: ResolvedLaunch; gpus: number };

/** The run's own launcher settings (its config.json) with what Start Run chose. */
function launchOf(config: Pick<DoraConfig, 'runtime'>, r: LaunchRunRequest): Launch {
  const launch = resolveLaunch(config, { launcher: r.launcher, nproc: r.nproc, nodes: r.nodes });
  return { launch, gpus: gpusPerNode(launch, r.device ?? config.runtime.device) };
}

async function submit(
  runDir: string,
  name: string,
  { launch, gpus }: Launch,
  request: PythonTrainRequest,
  packageDir: string,
  r: LaunchRunRequest,
): Promise<SlurmJobRecord> {
  const record = await submitSlurmRun({
    runDir,
    runId: path.basename(runDir),
    runName: name,
    pythonPath: packageDir,
    python: r.interpreter.python,
    trainArgs: pythonTrainArgs(request).slice(1),
    nodes: launch.nodes,
    tasksPerNode: launch.nproc,
    gpusPerNode: gpus,
    settings: launch.slurm,
    resume: r.resumeCheckpoint ?? null,
    partition: launch.slurm.partition,
  });
  r.log(`submitted Slurm job ${record.jobId}: ${launch.nodes} node(s) × ${launch.nproc} task(s), script slurm/${record.script}`);
  return record;
}

/** torchrun of the interpreter, detached (it outlives a window reload like a CLI run); rank 0 writes the run folder. */
async function startTorchrun(
  runDir: string,
  { launch }: Launch,
  request: PythonTrainRequest,
  packageDir: string,
  r: LaunchRunRequest,
): Promise<number | undefined> {
  if (launch.nodes > 1)
    throw new LaunchError(
      `torchrun on ${launch.nodes} nodes is started on every node`,
      'Use the Slurm launcher, or run `dora train … --launcher torchrun --nodes N --rdzv-endpoint host:port` on each node.',
    );
  const args = torchrunArgs({
    python: r.interpreter.python,
    trainArgs: pythonTrainArgs(request).slice(1),
    nprocPerNode: launch.nproc,
    nodes: 1,
    rdzvId: path.basename(runDir),
  });
  await mkdir(path.join(runDir, 'logs'), { recursive: true });
  const out = await open(path.join(runDir, 'logs', 'torchrun.out'), 'a');
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PYTHONPATH: [packageDir, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter),
      PYTHONUNBUFFERED: '1',
    };
    delete env.DORA_MESSAGE_FD; // torchrun's workers never get the host's fd 3
    const child = spawn(r.interpreter.python, args, { cwd: runDir, env, detached: true, stdio: ['ignore', out.fd, out.fd] });
    child.unref();
    r.log(`started torchrun pid ${child.pid ?? '?'} (${launch.nproc} process(es)); output in logs/torchrun.out`);
    return child.pid;
  } finally {
    await out.close();
  }
}
