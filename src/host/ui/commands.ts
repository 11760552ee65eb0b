// The `dora.*` commands. Each resolves its argument (tree node, Uri, path, or nothing → a quick pick),
// then calls into the plain-Node logic. User-facing errors name the file, the cause and the fix.

import { existsSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { BACKENDS, configBaseName, loadConfigFile } from '../../core/config';
import { configFromPreset, isPresetName, PRESETS, presetNames, writeConfigFile } from '../../core/presets';
import { listCheckpoints, runPaths, type CheckpointEntry } from '../../core/runDir';
import { attentionDirOf, evalHeadline, evalMetrics, evalSidecarPath, readEvalSidecar } from '../../core/evalResults';
import type { EvalJob } from '../../core/messages';
import { checkpointFromArg, checkpointsFromArgs, configFromArg, evalCommandOptionsFromArgs, runDirFromArg } from '../logic/commandArgs';
import { EVAL_CHOICES, evaluateCheckpoint, jobLabel, jobsForCheckpoint, type EvaluateOutcome } from '../logic/evalJob';
import { ensureSyntheticTour, prepareDemoWorkspace } from '../logic/demo';
import { isActiveStatus } from '../logic/format';
import { buildFrameCacheForConfig } from '../logic/frameCacheJob';
import type { RunIndex } from '../logic/runIndex';
import type { RunManager } from '../logic/runManager';
import { runsDirForNewRun } from '../logic/runsDirs';
import { effectiveStatus } from '../logic/runTree';
import { configProblem, type ConfigIndex } from '../logic/watchers';
import type { WorkspaceModel } from '../logic/workspaceModel';
import type { ComparePanels, DashboardPanels } from './panels';
import { readSettings, testOverrides, workspaceRoots } from './settings';
import type { RunsTreeProvider } from './views';

export interface CommandDeps {
  configs: ConfigIndex;
  runs: RunIndex;
  manager: RunManager;
  model: WorkspaceModel;
  runsTree: RunsTreeProvider;
  dashboards: DashboardPanels;
  compares: ComparePanels;
  output: vscode.OutputChannel;
  /** Absolute path of dist/trainer.js (evaluations run in a trainer child process). */
  trainerPath: string;
  /** The extension's global storage folder (for files that have no workspace folder to go to). */
  storageDir: string;
}

export interface CheckpointEvaluation extends EvaluateOutcome {
  checkpoint: string;
}

export interface StartedRun {
  runDir: string;
  pid: number | undefined;
}

const VIDEO_EXTENSIONS = ['mp4', 'mkv', 'webm', 'mov', 'avi', 'm4v', 'mpg', 'mpeg'];

function requireTrust(action: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window
    .showWarningMessage(
      `DoRA Studio cannot ${action} in Restricted Mode: training runs code and reads the files the config names. Trust this workspace to ${action}; runs stay viewable meanwhile.`,
      'Manage Workspace Trust',
    )
    .then((choice) => {
      if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
    });
  return false;
}

function backendOverride(): string | undefined {
  const backend = readSettings().backend;
  return backend && backend !== 'fromConfig' ? backend : undefined;
}

export function registerCommands(context: vscode.ExtensionContext, d: CommandDeps): void {
  const register = (id: string, handler: (...args: unknown[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, handler));

  const pickConfig = async (placeHolder: string): Promise<string | undefined> => {
    await d.configs.whenReady();
    const configs = d.configs.list();
    if (configs.length === 0) {
      const choice = await vscode.window.showInformationMessage(
        'There is no *.dora.json config in this workspace yet.',
        'New Config',
        'Start Demo Run',
      );
      if (choice === 'New Config') await vscode.commands.executeCommand('dora.newConfig');
      if (choice === 'Start Demo Run') await vscode.commands.executeCommand('dora.startDemoRun');
      return undefined;
    }
    const roots = workspaceRoots();
    const picked = await vscode.window.showQuickPick(
      configs.map((c) => ({
        label: path.basename(c.file),
        description: relativeToRoots(c.file, roots),
        detail: c.problem ? `$(warning) ${c.problem}` : undefined,
        file: c.file,
      })),
      { placeHolder, matchOnDescription: true },
    );
    return picked?.file;
  };

  const pickRun = async (placeHolder: string, filter: (status: string) => boolean = () => true): Promise<string | undefined> => {
    await d.model.refresh();
    const views = d.model.runViews().filter((v) => filter(effectiveStatus(v)));
    if (views.length === 0) {
      void vscode.window.showInformationMessage('No matching DoRA runs. Start one with "DoRA: Start Run" or "DoRA: Start Demo Run".');
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      views.map((v) => ({
        label: v.summary.id,
        description: `${effectiveStatus(v)} · step ${v.live?.step ?? v.summary.status.step}`,
        detail: v.summary.dir,
        dir: v.summary.dir,
      })),
      { placeHolder },
    );
    return picked?.dir;
  };

  const allCheckpoints = async (): Promise<Array<CheckpointEntry & { runId: string }>> => {
    await d.model.refresh();
    const out: Array<CheckpointEntry & { runId: string }> = [];
    for (const run of d.runs.allRuns()) for (const c of await d.runs.checkpoints(run.dir)) out.push({ ...c, runId: run.id });
    return out;
  };

  const startRun = async (request: {
    configPath?: string;
    resumeCheckpoint?: string;
    cacheRoot?: string;
    runsDir?: string;
  }): Promise<StartedRun | undefined> => {
    const settings = readSettings(request.configPath ? vscode.Uri.file(request.configPath) : undefined);
    let name = 'run';
    let runsDir = request.runsDir;
    if (request.configPath) {
      const problem = await configProblem(request.configPath);
      if (problem) {
        const choice = await vscode.window.showErrorMessage(`Cannot start a run: ${problem}`, 'Open Config');
        if (choice) await vscode.window.showTextDocument(vscode.Uri.file(request.configPath));
        return undefined;
      }
      const config = await loadConfigFile(request.configPath).catch(() => undefined);
      name = config?.name ?? configBaseName(request.configPath);
      runsDir ??= await runsDirForNewRun(request.configPath, settings.runsFolder, workspaceRoots());
    }
    try {
      const started = await d.manager.start({
        configPath: request.configPath,
        runsDir,
        name,
        resumeCheckpoint: request.resumeCheckpoint,
        backend: backendOverride(),
        ffmpegPath: settings.ffmpegPath || undefined,
        cacheRoot: request.cacheRoot,
        maxSteps: await stepCap(request.resumeCheckpoint),
        snapshotEvery: settings.snapshotInterval > 0 ? settings.snapshotInterval : undefined,
      });
      await d.model.refresh();
      void d.dashboards.open(started.runDir, vscode.ViewColumn.Active);
      return started;
    } catch (error) {
      void vscode.window.showErrorMessage(`DoRA: could not start the run: ${(error as Error).message}`);
      return undefined;
    }
  };

  register('dora.newConfig', async (arg?: unknown) => {
    if (!requireTrust('create a config')) return undefined;
    const given = (typeof arg === 'object' && arg !== null ? arg : {}) as { preset?: string; video?: string; file?: string; name?: string };
    const roots = workspaceRoots();
    if (roots.length === 0 && !given.file) {
      void vscode.window
        .showErrorMessage('DoRA: open a folder first; the config file is written into the workspace.', 'Open Folder')
        .then((c) => c && vscode.commands.executeCommand('vscode.openFolder'));
      return undefined;
    }
    let preset = given.preset;
    if (!isPresetName(preset)) {
      const picked = await vscode.window.showQuickPick(
        presetNames.map((n) => ({ label: n, description: PRESETS[n].title, detail: PRESETS[n].description.split('\n')[0], preset: n })),
        { placeHolder: 'Preset for the new DoRA config', title: 'DoRA: New Config (1/3)' },
      );
      if (!picked) return undefined;
      preset = picked.preset;
    }
    let video = given.video;
    if (!video) {
      const uris = await vscode.window.showOpenDialog({
        canSelectMany: false,
        openLabel: 'Train on this video',
        title: 'DoRA: New Config (2/3): the video to train on',
        filters: { Videos: VIDEO_EXTENSIONS, 'All files': ['*'] },
        defaultUri: roots[0] ? vscode.Uri.file(roots[0]) : undefined,
      });
      if (!uris?.[0]) return undefined;
      video = uris[0].fsPath;
    }
    let file = given.file;
    if (!file) {
      const suggested =
        given.name ??
        path
          .basename(video)
          .replace(/\.[^.]+$/, '')
          .replace(/[^A-Za-z0-9_-]+/g, '-');
      const name = await vscode.window.showInputBox({
        title: 'DoRA: New Config (3/3)',
        prompt: 'Config name (the file is <name>.dora.json in the workspace folder)',
        value: suggested,
        validateInput: (v) => (/^[A-Za-z0-9_.-]+$/.test(v) ? undefined : 'Use letters, digits, "-", "_" and "." only'),
      });
      if (!name) return undefined;
      file = path.join(roots[0], `${name}.dora.json`);
      if (existsSync(file)) {
        const overwrite = await vscode.window.showWarningMessage(`${file} exists. Overwrite it?`, { modal: true }, 'Overwrite');
        if (overwrite !== 'Overwrite') return undefined;
      }
    }
    // Relative inside the workspace (the folder can move), absolute for videos elsewhere.
    const videoRoot = roots.find((r) => video!.startsWith(r + path.sep));
    const videoValue = videoRoot && file.startsWith(videoRoot + path.sep) ? path.relative(path.dirname(file), video) : video;
    await writeConfigFile(
      file,
      configFromPreset(
        preset as (typeof presetNames)[number],
        { data: { video: videoValue } },
        { name: given.name ?? configBaseName(file) },
      ),
    );
    await d.configs.add(file);
    await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: false });
    return file;
  });

  register('dora.startRun', async (arg?: unknown) => {
    if (!requireTrust('start a run')) return undefined;
    const configPath = configFromArg(arg) ?? (await pickConfig('Config to train'));
    return configPath ? startRun({ configPath }) : undefined;
  });

  register('dora.startDemoRun', async (): Promise<StartedRun | undefined> => {
    if (!requireTrust('start the demo run')) return undefined;
    const root = workspaceRoots()[0];
    if (!root) {
      void vscode.window
        .showErrorMessage('DoRA: open a folder first; the demo writes its video, config and runs into <folder>/dora-demo.', 'Open Folder')
        .then((c) => c && vscode.commands.executeCommand('vscode.openFolder'));
      return undefined;
    }
    let demo: Awaited<ReturnType<typeof prepareDemoWorkspace>>;
    try {
      demo = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: 'DoRA: preparing the demo (generating the synthetic walking-tour video with ffmpeg the first time, ≈20 s)…',
        },
        () => prepareDemoWorkspace(root, { ffmpegPath: readSettings().ffmpegPath, durationSeconds: testOverrides().demoSeconds }),
      );
    } catch (error) {
      const choice = await vscode.window.showErrorMessage(
        `DoRA: could not prepare the demo in ${path.join(root, 'dora-demo')}: ${(error as Error).message}`,
        'Set ffmpeg Path',
      );
      if (choice) await vscode.commands.executeCommand('workbench.action.openSettings', 'dora.ffmpegPath');
      return undefined;
    }
    await d.configs.add(demo.configFile);
    return startRun({ configPath: demo.configFile });
  });

  register('dora.stopRun', async (arg?: unknown) => {
    const runDir = runDirFromArg(arg) ?? (await pickRun('Run to stop', (s) => isActiveStatus(s as never)));
    if (!runDir) return undefined;
    const result = await d.manager.stop(runDir);
    if (result === 'not-running') void vscode.window.showInformationMessage(`DoRA: ${path.basename(runDir)} is not running.`);
    else vscode.window.setStatusBarMessage(`DoRA: stopping ${path.basename(runDir)} (it finishes the step and writes a checkpoint)…`, 5000);
    d.model.refreshSoon();
    return result;
  });

  register('dora.resumeRun', async (arg?: unknown) => {
    if (!requireTrust('resume a run')) return undefined;
    let sidecar = checkpointFromArg(arg);
    if (!sidecar) {
      const runDir = runDirFromArg(arg);
      if (runDir) {
        const list = await listCheckpoints(runDir);
        if (list.length === 0) {
          void vscode.window.showErrorMessage(
            `DoRA: ${runPaths(runDir).checkpointsDir} has no complete checkpoint to resume from. Start a new run instead.`,
          );
          return undefined;
        }
        sidecar = list[list.length - 1].sidecarFile;
      } else {
        const checkpoints = await allCheckpoints();
        const picked = await vscode.window.showQuickPick(
          checkpoints.reverse().map((c) => ({
            label: `${c.runId} @ step ${c.step}`,
            description: c.sidecar.time,
            detail: c.sidecarFile,
            sidecar: c.sidecarFile,
          })),
          { placeHolder: checkpoints.length ? 'Checkpoint to resume from' : 'No checkpoints yet' },
        );
        sidecar = picked?.sidecar;
      }
    }
    return sidecar ? startRun({ resumeCheckpoint: sidecar }) : undefined;
  });

  register('dora.openDashboard', async (arg?: unknown) => {
    const runDir = runDirFromArg(arg) ?? (await pickRun('Run to show'));
    if (!runDir) return undefined;
    await d.dashboards.open(runDir);
    return runDir;
  });

  register('dora.compareCheckpoints', async (...args: unknown[]) => {
    let checkpoints = checkpointsFromArgs(args);
    if (checkpoints.length < 2) checkpoints = [...d.runsTree.checked];
    if (checkpoints.length < 2) {
      const all = await allCheckpoints();
      if (all.length < 2) {
        void vscode.window.showInformationMessage(
          'DoRA: comparing needs at least two checkpoints; runs write one every runtime.checkpointEvery steps and when they stop.',
        );
        return undefined;
      }
      const picked = await vscode.window.showQuickPick(
        all.map((c) => ({ label: `${c.runId} @ step ${c.step}`, description: c.sidecar.time, sidecar: c.sidecarFile })),
        { canPickMany: true, placeHolder: 'Pick two or more checkpoints to compare (tick them in the Runs view next time)' },
      );
      checkpoints = (picked ?? []).map((p) => p.sidecar);
      if (checkpoints.length < 2) return undefined;
    }
    const missing = checkpoints.filter((c) => !existsSync(c));
    if (missing.length) {
      void vscode.window.showErrorMessage(
        `DoRA: cannot compare: ${missing.join(', ')} no longer exist${missing.length === 1 ? 's' : ''} (deleted or pruned by runtime.keepCheckpoints). Tick other checkpoints.`,
      );
      return undefined;
    }
    d.compares.open(checkpoints);
    return checkpoints;
  });

  register('dora.clearCheckpointSelection', () => d.runsTree.clearChecked());

  const checkpointLabel = (sidecar: string): string =>
    `${path.basename(path.dirname(path.dirname(sidecar)))} @ step ${Number(/step-(\d+)\.json$/.exec(sidecar)?.[1] ?? 0)}`;

  /** Asks which evaluations to run; undefined when the user backs out. */
  const pickEvalJobs = async (checkpoints: readonly string[]): Promise<{ jobs: EvalJob[]; force: boolean } | undefined> => {
    const stored = await Promise.all(checkpoints.map((c) => readEvalSidecar(evalSidecarPath(c))));
    const hasStored = (job: EvalJob) =>
      stored.every((s) =>
        Object.values(s?.results ?? {}).some(
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
      title: `DoRA: Evaluate ${checkpoints.length === 1 ? checkpointLabel(checkpoints[0]) : `${checkpoints.length} checkpoints`}`,
      placeHolder: 'Evaluations to run on the teacher backbone (results are stored beside the checkpoint)',
    });
    if (!picked) return undefined;
    const jobs: EvalJob[] = [];
    for (const item of picked) {
      if (item.id === 'knn-folder') {
        const folder = await vscode.window.showOpenDialog({
          canSelectFolders: true,
          canSelectFiles: false,
          canSelectMany: false,
          openLabel: 'Use this image folder',
          title: 'k-NN image folder: train/<class>/*.jpg and val/<class>/*.jpg',
        });
        if (!folder?.[0]) return undefined;
        jobs.push({ suite: 'knn', dataset: folder[0].fsPath });
      } else {
        jobs.push(...(EVAL_CHOICES.find((c) => c.id === item.id)?.jobs ?? []));
      }
    }
    return jobs.length ? { jobs, force: picked.some((i) => i.id === 'force') } : undefined;
  };

  const runEvaluations = (checkpoints: readonly string[], jobs: EvalJob[], force: boolean): Thenable<CheckpointEvaluation[]> =>
    vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `DoRA: evaluating ${checkpoints.length === 1 ? checkpointLabel(checkpoints[0]) : `${checkpoints.length} checkpoints`}`,
        cancellable: true,
      },
      async (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        const settings = readSettings();
        const outcomes: CheckpointEvaluation[] = [];
        const units = checkpoints.length * jobs.length;
        let reported = 0;
        let tour: Promise<string> | undefined;
        const syntheticTour = () => {
          // Generated (once) where Start Demo Run puts it, or in the extension's storage without a workspace folder.
          tour ??= (async () => {
            progress.report({ message: 'generating the synthetic walking tour for the ground-truth evaluations (once, ≈20 s)…' });
            const root = workspaceRoots()[0] ?? d.storageDir;
            const video = await ensureSyntheticTour(root, {
              ffmpegPath: settings.ffmpegPath,
              durationSeconds: testOverrides().demoSeconds,
            });
            d.output.appendLine(
              `[evaluate] the run trained on another video: k-NN on objects and tracking use the synthetic tour ${video}`,
            );
            return video;
          })();
          return tour;
        };
        for (const [index, checkpoint] of checkpoints.entries()) {
          if (abort.signal.aborted) break;
          const label = checkpointLabel(checkpoint);
          let checkpointJobs: EvalJob[];
          try {
            checkpointJobs = await jobsForCheckpoint(checkpoint, jobs, syntheticTour);
          } catch (error) {
            outcomes.push({
              checkpoint,
              reason: 'failed',
              results: [],
              error: `could not prepare the synthetic walking tour: ${(error as Error).message}`,
            });
            continue;
          }
          d.output.appendLine(`[evaluate] ${label}: ${jobs.map(jobLabel).join(', ')}${force ? ' (recompute)' : ''}`);
          let lastTreeUpdate = 0;
          d.runsTree.setEvaluating(checkpoint, 'starting');
          const outcome = await evaluateCheckpoint({
            trainerPath: d.trainerPath,
            checkpoint,
            jobs: checkpointJobs,
            force,
            backend: backendOverride(),
            ffmpegPath: settings.ffmpegPath || undefined,
            signal: abort.signal,
            log: (line) => d.output.appendLine(`[evaluate ${label}] ${line}`),
            onProgress: (update) => {
              const overall = (100 * (index * jobs.length + update.job + (update.fraction ?? 0))) / units;
              const percent = update.fraction === null ? '' : ` ${Math.round(100 * update.fraction)}%`;
              progress.report({
                increment: Math.max(0, overall - reported),
                message: `${checkpoints.length > 1 ? `${label}: ` : ''}${update.message}${percent}`,
              });
              reported = Math.max(reported, overall);
              if (performance.now() - lastTreeUpdate > 1000) {
                lastTreeUpdate = performance.now();
                d.runsTree.setEvaluating(checkpoint, `${jobLabel(jobs[Math.min(update.job, jobs.length - 1)])}${percent}`);
              }
            },
            onResult: (result) => {
              d.output.appendLine(
                `[evaluate ${label}] ${jobLabel({ suite: result.suite, dataset: result.dataset })}: ${result.cached ? 'stored result reused' : `done in ${result.seconds.toFixed(1)} s`}`,
              );
              d.runsTree.refresh();
              void d.compares.refreshEvaluations();
            },
          });
          d.runsTree.setEvaluating(checkpoint, undefined);
          outcomes.push({ checkpoint, ...outcome });
          if (outcome.reason === 'failed') d.output.appendLine(`[evaluate ${label}] failed: ${outcome.error}`);
        }
        void d.compares.refreshEvaluations();
        return outcomes;
      },
    );

  register('dora.evaluateCheckpoint', async (...args: unknown[]): Promise<CheckpointEvaluation[] | undefined> => {
    if (!requireTrust('evaluate a checkpoint')) return undefined;
    const given = evalCommandOptionsFromArgs(args);
    let checkpoints = checkpointsFromArgs(args);
    if (checkpoints.length === 0) {
      const all = await allCheckpoints();
      if (all.length === 0) {
        void vscode.window
          .showInformationMessage(
            'DoRA: no checkpoints to evaluate yet. Runs write one every runtime.checkpointEvery steps and when they stop.',
            'Start Demo Run',
          )
          .then((c) => c && vscode.commands.executeCommand('dora.startDemoRun'));
        return undefined;
      }
      const picked = await vscode.window.showQuickPick(
        [...all].reverse().map((c) => ({
          label: `${c.runId} @ step ${c.step}`,
          description: c.sidecar.time,
          sidecar: c.sidecarFile,
          picked: d.runsTree.checked.has(c.sidecarFile),
        })),
        { canPickMany: true, title: 'DoRA: Evaluate Checkpoint', placeHolder: 'Checkpoints to evaluate (their teacher backbone)' },
      );
      checkpoints = (picked ?? []).map((p) => p.sidecar);
      if (checkpoints.length === 0) return undefined;
    }
    const missing = checkpoints.filter((c) => !existsSync(c));
    if (missing.length) {
      void vscode.window.showErrorMessage(
        `DoRA: cannot evaluate ${missing.join(', ')}: the checkpoint no longer exists (deleted, or pruned by runtime.keepCheckpoints).`,
      );
      return undefined;
    }
    const busy = checkpoints.filter((c) => d.runsTree.evaluating.has(c));
    if (busy.length) {
      void vscode.window.showInformationMessage(
        `DoRA: ${busy.map(checkpointLabel).join(', ')} ${busy.length === 1 ? 'is' : 'are'} being evaluated already; wait for it or cancel it in its notification.`,
      );
      return undefined;
    }
    const choice = given.jobs ? { jobs: given.jobs, force: given.force } : await pickEvalJobs(checkpoints);
    if (!choice) return undefined;
    const outcomes = await runEvaluations(checkpoints, choice.jobs, choice.force);
    await reportEvaluations(outcomes, given.quiet);
    return outcomes;
  });

  const reportEvaluations = async (outcomes: readonly CheckpointEvaluation[], quiet: boolean): Promise<void> => {
    const failed = outcomes.filter((o) => o.reason === 'failed');
    const stopped = outcomes.some((o) => o.reason === 'stopped') || outcomes.length === 0;
    if (failed.length) {
      const first = failed[0];
      void vscode.window
        .showErrorMessage(`DoRA: evaluating ${checkpointLabel(first.checkpoint)} failed: ${first.error ?? 'unknown error'}`, 'Show Log')
        .then((c) => c && d.output.show(true));
      return;
    }
    if (stopped) {
      void vscode.window.showInformationMessage(
        'DoRA: evaluation cancelled. Results that finished before are kept beside their checkpoints.',
      );
      return;
    }
    if (quiet) return;
    const done = outcomes.map((o) => o.checkpoint);
    const headline = done.length === 1 ? evalHeadline(evalMetrics(await readEvalSidecar(evalSidecarPath(done[0])))) : undefined;
    const action = done.length === 1 ? 'Show Results' : 'Compare Results';
    const choice = await vscode.window.showInformationMessage(
      `DoRA: evaluated ${done.length === 1 ? checkpointLabel(done[0]) : `${done.length} checkpoints`}${headline ? `: ${headline}` : ''}.`,
      action,
    );
    if (choice) d.compares.open(done);
  };

  register('dora.selectBackend', async (arg?: unknown) => {
    const descriptions: Record<string, string> = {
      auto: 'fastest that works: tensorflow-gpu, webgpu (hardware adapter), tensorflow, wasm, cpu',
      'tensorflow-gpu': 'native CUDA (needs @tensorflow/tfjs-node-gpu)',
      tensorflow: 'native CPU (needs @tensorflow/tfjs-node)',
      webgpu: 'GPU through Dawn (Vulkan/Metal/D3D12)',
      wasm: 'CPU, SIMD + threads; works everywhere',
      cpu: 'plain JavaScript; slow, for debugging',
    };
    let backend = typeof arg === 'string' ? arg : undefined;
    if (!backend) {
      const current = readSettings().backend;
      const picked = await vscode.window.showQuickPick(
        [
          { label: 'fromConfig', description: "use each config's runtime.backend" },
          ...BACKENDS.map((b) => ({ label: b, description: descriptions[b] ?? '' })),
        ].map((i) => ({
          ...i,
          picked: i.label === current,
          label: i.label === current ? i.label : i.label,
          detail: i.label === current ? 'current setting' : undefined,
        })),
        { placeHolder: 'Backend for new runs (setting dora.backend)' },
      );
      backend = picked?.label;
    }
    if (!backend) return undefined;
    const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    await vscode.workspace.getConfiguration('dora').update('backend', backend, target);
    vscode.window.setStatusBarMessage(`DoRA: new runs use backend ${backend}`, 4000);
    return backend;
  });

  register('dora.showTrainerLog', async (arg?: unknown) => {
    const runDir = runDirFromArg(arg);
    if (runDir && existsSync(runPaths(runDir).log)) {
      await vscode.window.showTextDocument(vscode.Uri.file(runPaths(runDir).log), { preview: true });
      return;
    }
    d.output.show(true);
  });

  register('dora.buildFrameCache', async (arg?: unknown) => {
    if (!requireTrust('build a frame cache')) return undefined;
    const configPath = configFromArg(arg) ?? (await pickConfig('Config whose video to cache'));
    if (!configPath) return undefined;
    const problem = await configProblem(configPath);
    if (problem) {
      void vscode.window.showErrorMessage(`Cannot build the frame cache: ${problem}`);
      return undefined;
    }
    return vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `DoRA: caching the frames of ${path.basename(configPath)}`,
        cancellable: true,
      },
      async (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        let reported = 0;
        try {
          const result = await buildFrameCacheForConfig(configPath, {
            ffmpegPath: readSettings().ffmpegPath,
            signal: abort.signal,
            onPlan: (summary) => {
              progress.report({ message: summary });
              d.output.appendLine(`[frame cache] ${summary}`);
            },
            onProgress: (p) => {
              const pct = p.totalFrames ? (100 * p.framesDone) / p.totalFrames : 0;
              progress.report({
                increment: pct - reported,
                message: `${p.framesDone}/${p.totalFrames} frames${Number.isFinite(p.etaSeconds) ? `, ${Math.round(p.etaSeconds)} s left` : ''}`,
              });
              reported = pct;
            },
          });
          void vscode.window.showInformationMessage(
            result.alreadyComplete
              ? `DoRA: the frame cache of ${path.basename(configPath)} is already complete (${result.frameCount} frames).`
              : `DoRA: cached ${result.frameCount} frames in ${result.cacheDir}.`,
          );
          return result;
        } catch (error) {
          if (abort.signal.aborted) {
            void vscode.window.showInformationMessage(
              'DoRA: frame caching cancelled; the frames done so far are kept and reused next time.',
            );
            return undefined;
          }
          void vscode.window.showErrorMessage(`DoRA: could not cache the frames of ${configPath}: ${(error as Error).message}`);
          return undefined;
        }
      },
    );
  });

  register('dora.deleteCheckpoint', async (arg?: unknown, confirmed?: unknown) => {
    const sidecar = checkpointFromArg(arg);
    if (!sidecar) return false;
    const entry = (await listCheckpoints(path.dirname(path.dirname(sidecar)))).find((c) => c.sidecarFile === sidecar);
    if (!entry) {
      void vscode.window.showErrorMessage(`DoRA: ${sidecar} is not a complete checkpoint (already deleted?).`);
      d.model.refreshSoon();
      return false;
    }
    const sizes = await Promise.all(
      [entry.weightsFile, entry.optimizerFile].map((f) =>
        stat(f).then(
          (s) => s.size,
          () => 0,
        ),
      ),
    );
    const megabytes = (sizes[0] + sizes[1]) / 1e6;
    if (confirmed !== true) {
      const answer = await vscode.window.showWarningMessage(
        `Delete checkpoint step ${entry.step} of ${path.basename(path.dirname(path.dirname(sidecar)))}?`,
        {
          modal: true,
          detail: `This deletes ${path.basename(sidecar)}, ${path.basename(entry.weightsFile)} and ${path.basename(entry.optimizerFile)} (${megabytes.toFixed(1)} MB), and its evaluation results. It cannot be undone.`,
        },
        'Delete',
      );
      if (answer !== 'Delete') return false;
    }
    // The sidecar goes first (like the trainer's pruning), so a half-finished delete never looks complete.
    await rm(entry.sidecarFile, { force: true });
    await rm(entry.weightsFile, { force: true });
    await rm(entry.optimizerFile, { force: true });
    await rm(evalSidecarPath(entry.sidecarFile), { force: true });
    await rm(attentionDirOf(entry.sidecarFile), { recursive: true, force: true });
    d.runsTree.setChecked(sidecar, false);
    await d.model.refresh();
    d.runsTree.refresh();
    return true;
  });

  register('dora.revealRun', async (arg?: unknown) => {
    const target = checkpointFromArg(arg) ?? runDirFromArg(arg);
    if (!target) return;
    const uri = vscode.Uri.file(target);
    const inWorkspace = vscode.workspace.getWorkspaceFolder(uri) !== undefined;
    await vscode.commands.executeCommand(inWorkspace ? 'revealInExplorer' : 'revealFileInOS', uri);
  });

  register('dora.refresh', async () => {
    await d.model.refresh();
    d.runsTree.refresh();
  });
}

/** DORA_STUDIO_MAX_STEPS counts steps per launch: a resumed run continues that many steps past its checkpoint. */
async function stepCap(resumeCheckpoint: string | undefined): Promise<number | undefined> {
  const cap = testOverrides().maxSteps;
  if (cap === undefined || !resumeCheckpoint) return cap;
  const entry = (await listCheckpoints(path.dirname(path.dirname(resumeCheckpoint)))).find(
    (c) => c.sidecarFile === path.resolve(resumeCheckpoint),
  );
  return (entry?.step ?? 0) + cap;
}

function relativeToRoots(file: string, roots: readonly string[]): string {
  const root = roots.find((r) => file.startsWith(r + path.sep));
  return root ? path.relative(root, path.dirname(file)) || '.' : path.dirname(file);
}
