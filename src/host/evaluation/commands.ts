// Evaluate Checkpoint: pick checkpoints and evaluations, run them through an engine with a cancellable progress
// notification (evaluateMany.ts), then say what came out.

import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { evalHeadline, evalMetrics } from '../../core/evalResults';
import { DEMO_FOLDER, type EvalJob } from '../../core/messages';
import { readEvalSidecar } from '../../core/node/evalFiles';
import { evalSidecarPath } from '../../core/node/runPaths';
import type { HostServices } from '../services';
import { checkpointsFromArgs, evalCommandOptionsFromArgs } from '../shared/commandArgs';
import { backendOverride, checkpointLabel, registerCommand, requireTrust } from '../shared/commandHelpers';
import { allCheckpoints } from '../shared/pickers';
import { cacheFolderSetting, readSettings, workspaceRoots } from '../shared/settings';
import { testOverrides } from '../shared/testOverrides';
import { EVAL_CHOICES } from './evalJob';
import { evaluateCheckpoints, type CheckpointEvaluation } from './evaluateMany';

export function registerEvaluationCommands(s: HostServices): void {
  registerCommand(s, 'dora.evaluateCheckpoint', (...args: unknown[]) => evaluateCommand(s, args));
}

async function evaluateCommand(s: HostServices, args: unknown[]): Promise<CheckpointEvaluation[] | undefined> {
  if (!requireTrust('evaluate a checkpoint')) return undefined;
  const given = evalCommandOptionsFromArgs(args);
  let checkpoints = checkpointsFromArgs(args);
  if (checkpoints.length === 0) checkpoints = await pickCheckpoints(s);
  if (checkpoints.length === 0) return undefined;
  const missing = checkpoints.filter((c) => !existsSync(c));
  if (missing.length) {
    void vscode.window.showErrorMessage(
      `DoRA: cannot evaluate ${missing.join(', ')}: the checkpoint no longer exists (deleted, or pruned by runtime.keepCheckpoints).`,
    );
    return undefined;
  }
  const busy = checkpoints.filter((c) => s.runsTree.evaluating.has(c));
  if (busy.length) {
    const verb = busy.length === 1 ? 'is' : 'are';
    void vscode.window.showInformationMessage(
      `DoRA: ${busy.map(checkpointLabel).join(', ')} ${verb} being evaluated already; wait for it or cancel it in its notification.`,
    );
    return undefined;
  }
  const choice = given.jobs ? { jobs: given.jobs, force: given.force } : await pickEvalJobs(checkpoints);
  if (!choice) return undefined;
  const outcomes = await runEvaluations(s, checkpoints, choice.jobs, choice.force);
  await reportEvaluations(s, outcomes, given.quiet);
  return outcomes;
}

async function pickCheckpoints(s: HostServices): Promise<string[]> {
  const all = await allCheckpoints(s);
  if (all.length === 0) {
    void vscode.window
      .showInformationMessage(
        'DoRA: no checkpoints to evaluate yet. Runs write one every runtime.checkpointEvery steps and when they stop.',
        'Start Demo Run',
      )
      .then((c) => c && vscode.commands.executeCommand('dora.startDemoRun'));
    return [];
  }
  const picked = await vscode.window.showQuickPick(
    [...all].reverse().map((c) => ({
      label: `${c.runId} @ step ${c.step}`,
      description: c.sidecar.time,
      sidecar: c.sidecarFile,
      picked: s.runsTree.checked.has(c.sidecarFile),
    })),
    {
      canPickMany: true,
      ignoreFocusOut: true, // ticks survive a click elsewhere or a webview taking the focus while it loads
      title: 'DoRA: Evaluate Checkpoint',
      placeHolder: 'Checkpoints to evaluate (their teacher backbone)',
    },
  );
  return (picked ?? []).map((p) => p.sidecar);
}

/** Asks which evaluations to run; undefined when the user backs out. */
async function pickEvalJobs(checkpoints: readonly string[]): Promise<{ jobs: EvalJob[]; force: boolean } | undefined> {
  const stored = await Promise.all(checkpoints.map((c) => readEvalSidecar(evalSidecarPath(c))));
  const hasStored = (job: EvalJob) =>
    stored.every((sidecar) =>
      Object.values(sidecar?.results ?? {}).some(
        (r) => r.suite === job.suite && (job.suite !== 'knn' || r.dataset === (job.dataset ?? 'synthetic')),
      ),
    );
  const items: Array<vscode.QuickPickItem & { id: string }> = EVAL_CHOICES.map((choice) => ({
    id: choice.id,
    label: choice.label,
    description: choice.jobs.every(hasStored) ? 'stored, shown at once' : undefined,
    detail: choice.detail,
    picked: choice.picked,
  }));
  items.push({
    id: 'force',
    label: '$(refresh) Recompute stored results',
    detail: 'Otherwise results already in step-NNNNNN.eval.json are reused',
    picked: false,
  });
  const picked = await vscode.window.showQuickPick(items, {
    canPickMany: true,
    ignoreFocusOut: true,
    title: `DoRA: Evaluate ${checkpoints.length === 1 ? checkpointLabel(checkpoints[0]) : `${checkpoints.length} checkpoints`}`,
    placeHolder: 'Evaluations to run on the teacher backbone (results are stored beside the checkpoint)',
  });
  if (!picked) return undefined;
  const jobs: EvalJob[] = [];
  for (const item of picked) {
    if (item.id !== 'knn-folder') {
      jobs.push(...(EVAL_CHOICES.find((c) => c.id === item.id)?.jobs ?? []));
      continue;
    }
    const folder = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      canSelectMany: false,
      openLabel: 'Use this image folder',
      title: 'k-NN image folder: train/<class>/*.jpg and val/<class>/*.jpg',
    });
    if (!folder?.[0]) return undefined;
    jobs.push({ suite: 'knn', dataset: folder[0].fsPath });
  }
  return jobs.length ? { jobs, force: picked.some((i) => i.id === 'force') } : undefined;
}

function runEvaluations(s: HostServices, checkpoints: readonly string[], jobs: EvalJob[], force: boolean) {
  const what = checkpoints.length === 1 ? checkpointLabel(checkpoints[0]) : `${checkpoints.length} checkpoints`;
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `DoRA: evaluating ${what}`, cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      let reported = 0;
      const demoSeconds = testOverrides().demoSeconds;
      const outcomes = await evaluateCheckpoints(s.engines, {
        checkpoints,
        jobs,
        force,
        // Where the synthetic walking tour goes when a run has no ground truth: where Start Demo Run puts it, or the
        // extension's storage without a workspace folder. The engine generates it there once, when a job needs it.
        tour: {
          dir: path.join(workspaceRoots()[0] ?? s.storageDir, DEMO_FOLDER, 'media'),
          ...(demoSeconds ? { durationSeconds: demoSeconds } : {}),
        },
        backend: backendOverride(),
        ffmpegPath: readSettings().ffmpegPath || undefined,
        cacheRoot: cacheFolderSetting(readSettings()), // the runs' own data.frameCache.dir wins (in the engine)
        signal: abort.signal,
        log: (line) => s.output.appendLine(line),
        onProgress: (percent, message) => {
          progress.report({ increment: Math.max(0, percent - reported), message });
          reported = Math.max(reported, percent);
        },
        onCheckpointStatus: (checkpoint, status) => s.runsTree.setEvaluating(checkpoint, status),
        onResult: () => {
          s.runsTree.refresh();
          void s.compares.refreshEvaluations();
        },
      });
      void s.compares.refreshEvaluations();
      return outcomes;
    },
  );
}

async function reportEvaluations(s: HostServices, outcomes: readonly CheckpointEvaluation[], quiet: boolean): Promise<void> {
  const failed = outcomes.filter((o) => o.reason === 'failed');
  if (failed.length) {
    const first = failed[0];
    void vscode.window
      .showErrorMessage(`DoRA: evaluating ${checkpointLabel(first.checkpoint)} failed: ${first.error ?? 'unknown error'}`, 'Show Log')
      .then((c) => c && s.output.show(true));
    return;
  }
  if (outcomes.some((o) => o.reason === 'stopped') || outcomes.length === 0) {
    void vscode.window.showInformationMessage(
      'DoRA: evaluation cancelled. Results that finished before are kept beside their checkpoints.',
    );
    return;
  }
  if (quiet) return;
  const done = outcomes.map((o) => o.checkpoint);
  const headline = done.length === 1 ? evalHeadline(evalMetrics(await readEvalSidecar(evalSidecarPath(done[0])))) : undefined;
  const action = done.length === 1 ? 'Show Results' : 'Compare Results';
  const what = done.length === 1 ? checkpointLabel(done[0]) : `${done.length} checkpoints`;
  const choice = await vscode.window.showInformationMessage(`DoRA: evaluated ${what}${headline ? `: ${headline}` : ''}.`, action);
  if (choice) s.compares.open(done);
}
