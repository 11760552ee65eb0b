// Start Run's launcher picker (local / torchrun / Slurm) for PyTorch runs, and starting a launched run with its
// progress and errors shown (the logic: launchRun.ts). Docs: docs/launchers.md.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { LAUNCHERS, type LauncherName } from '../../core/config';
import { readRunConfig } from '../../core/node/runDir';
import { runDirOfCheckpoint } from '../../core/node/runPaths';
import type { HostServices } from '../services';
import { launchRun, LaunchError, type LaunchRunRequest } from './launchRun';

const isLauncher = (v: unknown): v is LauncherName => (LAUNCHERS as readonly unknown[]).includes(v);

const DESCRIPTIONS: Record<LauncherName, { label: string; detail: string }> = {
  local: { label: 'Local', detail: 'one process on this machine, followed live' },
  torchrun: { label: 'torchrun', detail: 'runtime.distributed.nproc processes on this machine (DDP; needs torch ≥ 2.0)' },
  slurm: { label: 'Slurm', detail: 'a batch job (sbatch) with one task per GPU via srun; the Runs view follows the job' },
};

/** The launcher the config (or the resumed run's config.json) asks for. */
async function configuredLauncher(config: unknown, resumeCheckpoint?: string): Promise<LauncherName> {
  const source = resumeCheckpoint ? await readRunConfig(runDirOfCheckpoint(resumeCheckpoint)).catch(() => undefined) : config;
  const launcher = (source as { runtime?: { launcher?: unknown } } | undefined)?.runtime?.launcher;
  return isLauncher(launcher) ? launcher : 'local';
}

/** Asks how to launch a PyTorch run (the configured launcher first); undefined when dismissed. */
export async function pickLauncher(config: unknown, resumeCheckpoint?: string): Promise<LauncherName | undefined> {
  const configured = await configuredLauncher(config, resumeCheckpoint);
  const order = [configured, ...LAUNCHERS.filter((l) => l !== configured)];
  const picked = await vscode.window.showQuickPick(
    order.map((l) => ({
      label: DESCRIPTIONS[l].label,
      description: l === configured ? 'runtime.launcher' : undefined,
      detail: DESCRIPTIONS[l].detail,
      launcher: l,
    })),
    { title: 'DoRA: Start Run — launcher', placeHolder: 'How to start the PyTorch engine' },
  );
  return picked?.launcher;
}

/** Starts a torchrun or Slurm run; shows Slurm's or torchrun's own message when it is refused. */
export async function startLaunchedRun(s: HostServices, request: LaunchRunRequest): Promise<{ runDir: string } | undefined> {
  const what = request.launcher === 'slurm' ? 'submitting the Slurm job' : 'starting torchrun';
  try {
    const launched = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `DoRA: preparing the run, then ${what}…` },
      (progress) =>
        launchRun(s.engines, {
          ...request,
          onProgress: (p) => progress.report({ message: p.message ?? `${p.phase} ${p.done}${p.total ? `/${p.total}` : ''}` }),
          log: (text) => s.output.appendLine(`[launch] ${text}`),
        }),
    );
    await s.model.refresh();
    const id = path.basename(launched.runDir);
    vscode.window.setStatusBarMessage(
      launched.job ? `DoRA: ${id} submitted as Slurm job ${launched.job.jobId}` : `DoRA: ${id} started with torchrun`,
      8000,
    );
    void s.dashboards.open(launched.runDir, vscode.ViewColumn.Active);
    return { runDir: launched.runDir };
  } catch (error) {
    const fix = error instanceof LaunchError ? ` Fix: ${error.fix}` : '';
    void vscode.window.showErrorMessage(`DoRA: could not start the run (${request.launcher}): ${(error as Error).message}.${fix}`);
    return undefined;
  }
}
