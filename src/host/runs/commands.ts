// Run commands: Start Run, Start Demo Run, Stop Run, Resume Run, Show Trainer Log, Select Backend, Reveal, Refresh.
// Each resolves its argument (tree node, Uri, path, or nothing → a quick pick), then calls the plain-Node models.

import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { BACKENDS, configBaseName } from '../../core/config';
import { loadConfigFile } from '../../core/node/configFile';
import { PythonEngineError } from '../../core/node/pythonEngine';
import { listCheckpoints } from '../../core/node/runDir';
import { runDirOfCheckpoint, runPaths } from '../../core/node/runPaths';
import { configProblem } from '../configs/configIndex';
import type { HostServices } from '../services';
import { checkpointFromArg, configFromArg, runDirFromArg } from '../shared/commandArgs';
import { askForFolder, backendOverride, registerCommand, requireTrust, showPythonProblem } from '../shared/commandHelpers';
import { isActiveStatus } from '../shared/format';
import { allCheckpoints, pickConfig, pickRun } from '../shared/pickers';
import { cacheFolderSetting, readSettings, workspaceRoots } from '../shared/settings';
import { testOverrides } from '../shared/testOverrides';
import { prepareDemoWorkspace, type DemoWorkspace } from './demo';
import { chooseEngine } from './engineChoice';
import { pickLauncher, startLaunchedRun } from './launchCommands';
import { describeResumeChanges, resumeConfigChanges, resumeOverrides } from './resumeChanges';
import { listRunLogs } from './runLogs';
import { runsDirForNewRun } from './runsDirs';
import { stepCap } from './stepCap';

export interface StartedRun {
  runDir: string;
  pid: number | undefined;
}

const BACKEND_DESCRIPTIONS: Record<string, string> = {
  auto: 'fastest that works: tensorflow-gpu, webgpu (hardware adapter), tensorflow, wasm, cpu',
  'tensorflow-gpu': 'native CUDA (needs @tensorflow/tfjs-node-gpu)',
  tensorflow: 'native CPU (needs @tensorflow/tfjs-node)',
  webgpu: 'GPU through Dawn (Vulkan/Metal/D3D12)',
  wasm: 'CPU, SIMD + threads; works everywhere',
  cpu: 'plain JavaScript; slow, for debugging',
};

export function registerRunCommands(s: HostServices): void {
  registerCommand(s, 'dora.startRun', async (arg?: unknown) => {
    if (!requireTrust('start a run')) return undefined;
    const configPath = configFromArg(arg) ?? (await pickConfig(s, 'Config to train'));
    return configPath ? startRun(s, { configPath }) : undefined;
  });
  registerCommand(s, 'dora.startDemoRun', () => startDemoRun(s));
  registerCommand(s, 'dora.stopRun', (arg?: unknown) => stopRun(s, arg));
  registerCommand(s, 'dora.resumeRun', (arg?: unknown, options?: unknown) => resumeRun(s, arg, options));
  registerCommand(s, 'dora.selectBackend', (arg?: unknown) => selectBackend(typeof arg === 'string' ? arg : undefined));
  registerCommand(s, 'dora.showTrainerLog', async (arg?: unknown) => {
    const runDir = runDirFromArg(arg);
    const logs = runDir ? await listRunLogs(runDir) : [];
    // A multi-process run: pick a rank's log (or the launcher's output). listRunLogs keeps only files of the run
    // folder (no link to elsewhere).
    const log =
      logs.length > 1
        ? (await vscode.window.showQuickPick(logs, { title: 'DoRA: Show Trainer Log', placeHolder: 'Which process' }))?.file
        : logs[0]?.file;
    if (log) {
      await vscode.window.showTextDocument(vscode.Uri.file(log), { preview: true });
      return;
    }
    if (logs.length > 1) return; // dismissed
    s.output.show(true);
  });
  registerCommand(s, 'dora.revealRun', async (arg?: unknown) => {
    const target = checkpointFromArg(arg) ?? runDirFromArg(arg);
    if (!target) return;
    const uri = vscode.Uri.file(target);
    const inWorkspace = vscode.workspace.getWorkspaceFolder(uri) !== undefined;
    await vscode.commands.executeCommand(inWorkspace ? 'revealInExplorer' : 'revealFileInOS', uri);
  });
  registerCommand(s, 'dora.refresh', async () => {
    await s.model.refresh();
    s.runsTree.refresh();
  });
}

/** Starts (or resumes) a run with the settings of its config's scope and opens its dashboard. */
export async function startRun(
  s: HostServices,
  request: { configPath?: string; resumeCheckpoint?: string; cacheRoot?: string; runsDir?: string; overrides?: string[] },
): Promise<StartedRun | undefined> {
  const settings = readSettings(request.configPath ? vscode.Uri.file(request.configPath) : undefined);
  let name = 'run';
  let runsDir = request.runsDir;
  let config: unknown;
  if (request.configPath) {
    const checked = await checkedConfig(request.configPath);
    if (!checked) return undefined;
    ({ config, name } = checked);
    runsDir ??= await runsDirForNewRun(request.configPath, settings.runsFolder, workspaceRoots());
  }
  try {
    const choice = await chooseEngine(settings, { config, resumeCheckpoint: request.resumeCheckpoint });
    const maxSteps = await stepCap(testOverrides().maxSteps, request.resumeCheckpoint);
    // A PyTorch run may start through torchrun or as a Slurm job instead (launchCommands.ts).
    const launcher = choice.engine === 'pytorch' ? await pickLauncher(config, request.resumeCheckpoint) : 'local';
    if (launcher === undefined) return undefined;
    if (launcher !== 'local') {
      const interpreter = await withEngineCheck('pytorch', () =>
        s.engines.trainEngine('pytorch', launcher === 'slurm' ? {} : choice.requirements),
      );
      if (interpreter.name !== 'pytorch') return undefined;
      return await startLaunchedRun(s, {
        launcher,
        configPath: request.configPath,
        resumeCheckpoint: request.resumeCheckpoint,
        runsDir,
        name,
        interpreter: interpreter.interpreter,
        device: choice.device,
        maxSteps,
        snapshotEvery: settings.snapshotInterval > 0 ? settings.snapshotInterval : undefined,
        ffmpegPath: settings.ffmpegPath || undefined,
        cacheRoot: request.cacheRoot ?? cacheFolderSetting(settings),
        ...(request.overrides?.length ? { overrides: request.overrides } : {}),
        log: (text) => s.output.appendLine(`[launch] ${text}`),
      }).then((r) => r && { runDir: r.runDir, pid: undefined });
    }
    const started = await withEngineCheck(choice.engine, () =>
      s.manager.start({
        configPath: request.configPath,
        runsDir,
        name,
        resumeCheckpoint: request.resumeCheckpoint,
        engine: choice.engine,
        requirements: choice.requirements,
        device: choice.device,
        backend: backendOverride(),
        ffmpegPath: settings.ffmpegPath || undefined,
        cacheRoot: request.cacheRoot ?? cacheFolderSetting(settings), // a config's data.frameCache.dir wins (in the engine)
        maxSteps,
        snapshotEvery: settings.snapshotInterval > 0 ? settings.snapshotInterval : undefined,
        ...(request.overrides?.length ? { overrides: request.overrides } : {}),
      }),
    );
    await s.model.refresh();
    void s.dashboards.open(started.runDir, vscode.ViewColumn.Active);
    return started;
  } catch (error) {
    if (error instanceof PythonEngineError) void showPythonProblem('could not start the run', error);
    else void vscode.window.showErrorMessage(`DoRA: could not start the run: ${(error as Error).message}`);
    return undefined;
  }
}

/** The config a new run starts from, checked first so that a start that cannot work creates no run folder. */
async function checkedConfig(configPath: string): Promise<{ config: unknown; name: string } | undefined> {
  const problem = await configProblem(configPath);
  if (problem) {
    const choice = await vscode.window.showErrorMessage(`Cannot start a run: ${problem}`, 'Open Config');
    if (choice) await vscode.window.showTextDocument(vscode.Uri.file(configPath));
    return undefined;
  }
  const loaded = await loadConfigFile(configPath).catch(() => undefined);
  if (loaded && !existsSync(loaded.data.video)) {
    const choice = await vscode.window.showErrorMessage(
      `Cannot start a run: ${configPath}: $.data.video: ${loaded.data.video} does not exist; ` +
        'set data.video to your video file (relative to the config file, or absolute).',
      'Open Config',
    );
    if (choice) await vscode.window.showTextDocument(vscode.Uri.file(configPath));
    return undefined;
  }
  return { config: loaded, name: loaded?.name ?? configBaseName(configPath) };
}

/** Shows the engine's start as a notification while the PyTorch engine's interpreter is checked (imports torch). */
function withEngineCheck<T>(engine: string, start: () => Promise<T>): Promise<T> {
  if (engine !== 'pytorch') return start();
  const title = 'DoRA: checking the Python for the PyTorch engine…';
  return Promise.resolve(vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title }, start));
}

async function startDemoRun(s: HostServices): Promise<StartedRun | undefined> {
  if (!requireTrust('start the demo run')) return undefined;
  const root = workspaceRoots()[0];
  if (!root) {
    askForFolder('DoRA: open a folder first; the demo writes its video, config and runs into <folder>/dora-demo.');
    return undefined;
  }
  let demo: DemoWorkspace;
  try {
    demo = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: 'DoRA: preparing the demo (generating the synthetic walking-tour video with ffmpeg the first time, ≈20 s)…',
      },
      () =>
        prepareDemoWorkspace(s.engines, root, {
          ffmpegPath: readSettings().ffmpegPath,
          durationSeconds: testOverrides().demoSeconds,
          log: (line) => s.output.appendLine(`[demo] ${line}`),
        }),
    );
  } catch (error) {
    const choice = await vscode.window.showErrorMessage(
      `DoRA: could not prepare the demo in ${path.join(root, 'dora-demo')}: ${(error as Error).message}`,
      'Set ffmpeg Path',
    );
    if (choice) await vscode.commands.executeCommand('workbench.action.openSettings', 'dora.ffmpegPath');
    return undefined;
  }
  await s.configs.add(demo.configFile);
  return startRun(s, { configPath: demo.configFile });
}

async function stopRun(s: HostServices, arg: unknown) {
  // Stopping signals a process named by the run folder's files: only in a trusted workspace, and only a proven trainer.
  if (!requireTrust('stop a run')) return undefined;
  const runDir = runDirFromArg(arg) ?? (await pickRun(s, 'Run to stop', (status) => isActiveStatus(status as never)));
  if (!runDir) return undefined;
  const result = await s.manager.stop(runDir);
  if (result === 'not-running') void vscode.window.showInformationMessage(`DoRA: ${path.basename(runDir)} is not running.`);
  else if (result === 'cancelled')
    vscode.window.setStatusBarMessage(`DoRA: cancelled the queued Slurm job of ${path.basename(runDir)}`, 5000);
  else if (typeof result === 'object')
    void vscode.window.showWarningMessage(
      `DoRA: ${path.basename(runDir)} was not stopped: ${result.refused}. ` +
        'If it is still training, stop it where it was started (Ctrl-C in its terminal).',
    );
  else vscode.window.setStatusBarMessage(`DoRA: stopping ${path.basename(runDir)} (it finishes the step and writes a checkpoint)…`, 5000);
  s.model.refreshSoon();
  return result;
}

/**
 * Resume Run. A *.dora.json edited since the run started (e.g. a lower training.lr after a NaN) is applied as `--set`
 * overrides after showing what changes (`options.configChanges` 'apply' | 'ignore' answers for tests and scripts).
 */
async function resumeRun(s: HostServices, arg: unknown, options: unknown): Promise<StartedRun | undefined> {
  if (!requireTrust('resume a run')) return undefined;
  const sidecar = checkpointFromArg(arg) ?? (await checkpointToResume(s, runDirFromArg(arg)));
  if (!sidecar) return undefined;
  const given = (typeof options === 'object' && options !== null ? options : {}) as { configChanges?: 'apply' | 'ignore' };
  const overrides = await overridesForResume(s, runDirOfCheckpoint(sidecar), given.configChanges);
  return overrides ? startRun(s, { resumeCheckpoint: sidecar, overrides }) : undefined;
}

/** The overrides a resume applies: [] when its .dora.json is unchanged (or ignored), undefined when the user cancels. */
async function overridesForResume(s: HostServices, runDir: string, answer?: 'apply' | 'ignore'): Promise<string[] | undefined> {
  const changes = await resumeConfigChanges(runDir);
  if (!changes || (changes.apply.length === 0 && changes.refused.length === 0)) return [];
  let choice = answer;
  if (!choice) {
    const picked = await vscode.window.showInformationMessage(
      `${path.basename(changes.configFile)} changed since this run started.`,
      { modal: true, detail: describeResumeChanges(changes) },
      ...(changes.apply.length ? ['Resume with Changes'] : []),
      'Resume Unchanged',
    );
    if (!picked) return undefined;
    choice = picked === 'Resume with Changes' ? 'apply' : 'ignore';
  }
  const doing = choice === 'apply' ? 'applying' : 'ignoring';
  s.output.appendLine(`[resume] ${changes.configFile} changed since the run started; ${doing}:\n${describeResumeChanges(changes)}`);
  return choice === 'apply' ? resumeOverrides(changes) : [];
}

/** The newest checkpoint of a run, or (without a run) the one the user picks. */
async function checkpointToResume(s: HostServices, runDir: string | undefined): Promise<string | undefined> {
  if (runDir) {
    const list = await listCheckpoints(runDir);
    if (list.length === 0) {
      void vscode.window.showErrorMessage(
        `DoRA: ${runPaths(runDir).checkpointsDir} has no complete checkpoint to resume from. Start a new run instead.`,
      );
      return undefined;
    }
    return list[list.length - 1].sidecarFile;
  }
  const checkpoints = (await allCheckpoints(s)).reverse();
  const picked = await vscode.window.showQuickPick(
    checkpoints.map((c) => ({
      label: `${c.runId} @ step ${c.step}`,
      description: c.sidecar.time,
      detail: c.sidecarFile,
      sidecar: c.sidecarFile,
    })),
    { placeHolder: checkpoints.length ? 'Checkpoint to resume from' : 'No checkpoints yet' },
  );
  return picked?.sidecar;
}

async function selectBackend(given: string | undefined): Promise<string | undefined> {
  let backend = given;
  if (!backend) {
    const current = readSettings().backend;
    const picked = await vscode.window.showQuickPick(
      [
        { label: 'fromConfig', description: "use each config's runtime.backend" },
        ...BACKENDS.map((b) => ({ label: b, description: BACKEND_DESCRIPTIONS[b] ?? '' })),
      ].map((i) => ({ ...i, picked: i.label === current, detail: i.label === current ? 'current setting' : undefined })),
      { placeHolder: 'Backend for new runs (setting dora.backend)' },
    );
    backend = picked?.label;
  }
  if (!backend) return undefined;
  const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await vscode.workspace.getConfiguration('dora').update('backend', backend, target);
  vscode.window.setStatusBarMessage(`DoRA: new runs use backend ${backend}`, 4000);
  return backend;
}
