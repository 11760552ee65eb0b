/**
 * `dora train --launcher torchrun|slurm` (or `runtime.launcher` of the config): after the front door prepared the run
 * folder (config.json, frame cache), the engine's processes start through torchrun on this machine, or as a Slurm
 * batch job (`slurm/job-N.sbatch`, one task per process via srun). docs/launchers.md.
 */
import { basename } from 'node:path';
import type { DoraConfig } from '../../core/config';
import { gpusPerNode, torchrunProblem, type LaunchOverrides, type ResolvedLaunch } from '../../core/node/launch';
import { pythonTrainArgs, type PythonInterpreter, type PythonTrainRequest } from '../../core/node/pythonEngine';
import { submitSlurmRun, SlurmError } from '../../core/node/slurm';
import { torchrunArgs } from '../../core/slurmScript';
import { TrainingError } from '../run/runConfig';
import { pythonPackageDir, runLaunch } from '../pytorch/interpreter';
import { followSlurmRun } from './followSlurm';

export { resolveLaunch, type LaunchOverrides } from '../../core/node/launch';

export interface LaunchContext {
  config: DoraConfig;
  runDir: string;
  request: PythonTrainRequest;
  interpreter?: PythonInterpreter;
  launch: ResolvedLaunch;
  overrides: LaunchOverrides;
}

/** torchrun in this terminal (Ctrl-C reaches every process: they agree on a step, rank 0 checkpoints). */
export async function launchTorchrun(c: LaunchContext): Promise<number> {
  const interpreter = c.interpreter!;
  const problem = torchrunProblem(interpreter);
  if (problem)
    throw new TrainingError(
      problem,
      'Use torch ≥ 2.0 (set dora.pythonPath / --python to its interpreter), or the slurm launcher, or launcher "local".',
    );
  if (c.launch.nodes > 1 && !c.overrides.rdzvEndpoint)
    throw new TrainingError(
      `${c.launch.nodes} nodes need a rendezvous address all of them reach`,
      'Pass --rdzv-endpoint <host of this node>:<free port>, then run the printed command on every other node.',
    );
  const args = torchrunArgs({
    python: interpreter.python,
    trainArgs: pythonTrainArgs(c.request).slice(1),
    nprocPerNode: c.launch.nproc,
    nodes: c.launch.nodes,
    rdzvEndpoint: c.overrides.rdzvEndpoint,
    rdzvId: basename(c.runDir),
  });
  const env = { PYTHONPATH: [pythonPackageDir(), process.env.PYTHONPATH].filter(Boolean).join(':'), PYTHONUNBUFFERED: '1' };
  const line = [interpreter.python, ...args].join(' ');
  console.error(`launch: torchrun, ${c.launch.nodes} node(s) × ${c.launch.nproc} process(es)\n  PYTHONPATH=${env.PYTHONPATH} ${line}`);
  if (c.launch.nodes > 1) console.error('  run the same command (same PYTHONPATH) on every other node of the job');
  return runLaunch({ command: interpreter.python, args, env }, 'inherit');
}

/** Writes and submits the batch script; with `--wait` follows the job to its end. */
export async function launchSlurm(c: LaunchContext): Promise<number> {
  const setup = c.launch.slurm.setup;
  if (!c.interpreter && !setup)
    throw new TrainingError(
      'no Python with PyTorch was found here to name in the batch script',
      'Set runtime.slurm.setup to the line that prepares the compute node\'s Python (e.g. "module load pytorch"), ' +
        'or pass --python with the interpreter the nodes share.',
    );
  const gpus = gpusPerNode(c.launch, c.request.device ?? c.config.runtime.device);
  try {
    const record = await submitSlurmRun({
      runDir: c.runDir,
      runId: basename(c.runDir),
      runName: c.config.name,
      pythonPath: pythonPackageDir(),
      python: c.interpreter?.python ?? 'python3',
      trainArgs: pythonTrainArgs(c.request).slice(1),
      nodes: c.launch.nodes,
      tasksPerNode: c.launch.nproc,
      gpusPerNode: gpus,
      settings: c.launch.slurm,
      resume: c.request.resumeCheckpoint ?? null,
      partition: c.launch.slurm.partition,
    });
    const world = c.launch.nodes * c.launch.nproc;
    console.error(
      `launch: Slurm job ${record.jobId} (${c.launch.nodes} node(s) × ${c.launch.nproc} task(s) = ${world} process(es)` +
        `${gpus ? `, ${gpus} GPU(s) per node` : ''}), script slurm/${record.script}`,
    );
    if (!c.overrides.wait) {
      console.error(`follow it: squeue -j ${record.jobId}, the extension's Runs view, or --wait next time`);
      console.error(`stop it with a checkpoint: scancel --signal=USR1 ${record.jobId}`);
      return 0;
    }
    return await followSlurmRun(c.runDir, record);
  } catch (error) {
    if (error instanceof SlurmError) throw new TrainingError(error.message, error.fix);
    throw error;
  }
}
