// The launch settings of a PyTorch run (runtime.launcher, runtime.distributed, runtime.slurm, and the command line's
// or Start Run's overrides), shared by the CLI (src/trainer/launch) and the extension (src/host/runs/launchRun.ts).

import type { DoraConfig, LauncherName } from '../config';
import type { SlurmSettings } from '../slurmScript';
import { versionAtLeast, type PythonInterpreter } from './pythonEngine';

export interface LaunchOverrides {
  launcher?: LauncherName;
  nproc?: number;
  nodes?: number;
  partition?: string;
  /** torchrun on several nodes: `host:port` of the rendezvous. */
  rdzvEndpoint?: string;
  /** Slurm: follow the job until it ends. */
  wait?: boolean;
}

export interface ResolvedLaunch {
  launcher: LauncherName;
  nproc: number;
  nodes: number;
  slurm: SlurmSettings;
}

/** The config's launcher settings with the command line's (or Start Run's) overrides. */
export function resolveLaunch(config: Pick<DoraConfig, 'runtime'>, o: LaunchOverrides): ResolvedLaunch {
  const r = config.runtime;
  return {
    launcher: o.launcher ?? r.launcher,
    nproc: o.nproc ?? r.distributed.nproc,
    nodes: o.nodes ?? r.distributed.nodes,
    slurm: { ...r.slurm, ...(o.partition ? { partition: o.partition } : {}) },
  };
}

/** GPUs per node for the job: the setting, else one per process unless the run trains on the CPU. */
export function gpusPerNode(launch: ResolvedLaunch, device: string): number {
  if (launch.slurm.gpusPerNode !== null) return launch.slurm.gpusPerNode;
  return device === 'cpu' ? 0 : launch.nproc;
}

/** Debian's torch 1.13 on Python 3.11: torchrun ends every launch in an AttributeError (fixed in torch 2.0). */
export function torchrunProblem(interpreter: Pick<PythonInterpreter, 'pythonVersion' | 'torchVersion' | 'python'>): string | undefined {
  if (versionAtLeast(interpreter.torchVersion, [2, 0]) || !versionAtLeast(interpreter.pythonVersion, [3, 11])) return undefined;
  return (
    `torchrun of torch ${interpreter.torchVersion} does not run on Python ${interpreter.pythonVersion} (${interpreter.python}): ` +
    'every launch ' +
    "ends in AttributeError: 'NoneType' object has no attribute 'get' (torch.distributed.elastic; fixed in torch 2.0)"
  );
}
