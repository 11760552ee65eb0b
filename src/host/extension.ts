// DoRA Studio's composition root: builds the plain-Node model (configs, runs, trainer processes),
// then the thin vscode layer on top (views, commands, panels, status bar, output channel).

import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ProgressPhase } from '../core/messages';
import { cliInspectRunner } from './logic/compareSession';
import { DEMO_FOLDER } from './logic/demo';
import { stateFromFiles, statusBarTextForRuns, type LiveRunState } from './logic/liveRun';
import { RunIndex } from './logic/runIndex';
import { RunManager } from './logic/runManager';
import { ConfigIndex, RunsWatcher } from './logic/watchers';
import { WorkspaceModel } from './logic/workspaceModel';
import { createChartExportBroker, registerExperiments, type ExperimentsApi } from './experiments/register';
import { logTrainerLine } from './trainerLog/logChannel';
import { registerCommands } from './ui/commands';
import { COMPARE_VIEW_TYPE, ComparePanels, DASHBOARD_VIEW_TYPE, DashboardPanels } from './ui/panels';
import { readSettings, workspaceRoots } from './ui/settings';
import { ConfigsTreeProvider, RunsTreeProvider } from './ui/views';

/** What activate() returns: used by the integration tests and available to other extensions. */
export interface DoraStudioApi {
  manager: RunManager;
  model: WorkspaceModel;
  configs: ConfigIndex;
  runsTree: RunsTreeProvider;
  configsTree: ConfigsTreeProvider;
  dashboards: DashboardPanels;
  compares: ComparePanels;
  /** Plots, runs table, chart export (src/host/experiments). */
  experiments: ExperimentsApi;
}

let disposeModel: (() => Promise<void>) | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<DoraStudioApi> {
  const output = vscode.window.createOutputChannel('DoRA Trainer', { log: true });
  context.subscriptions.push(output);
  const distDir = path.join(context.extensionPath, 'dist');
  const settings = readSettings();

  const configs = new ConfigIndex();
  const runs = new RunIndex();
  const watcher = new RunsWatcher();
  const manager = new RunManager({ trainerPath: path.join(distDir, 'trainer.js'), stopGraceMs: settings.stopTimeoutSeconds * 1000 });
  const model = new WorkspaceModel({
    configs,
    runs,
    manager,
    watcher,
    workspaceRoots,
    runsFolderSetting: () => readSettings().runsFolder,
    extraRunsFolders: () => workspaceRoots().map((r) => path.join(r, DEMO_FOLDER, 'runs')),
  });
  disposeModel = async () => {
    await manager.dispose();
    model.dispose();
    await watcher.dispose();
    await configs.dispose();
  };

  // ---- output channel: a log channel (levels, filterable); one entry per trainer log line, prefixed with the run id ----
  manager.onLog((line) => logTrainerLine(output, line));

  // ---- views ----
  const configsTree = new ConfigsTreeProvider(configs);
  const runsTree = new RunsTreeProvider(model, runs);
  const runsView = vscode.window.createTreeView('dora.runs', {
    treeDataProvider: runsTree,
    manageCheckboxStateManually: true,
    showCollapseAll: true,
    canSelectMany: true,
  });
  const configsView = vscode.window.createTreeView('dora.configs', { treeDataProvider: configsTree });
  context.subscriptions.push(runsView, configsView, configsTree, runsTree);
  runsView.onDidChangeCheckboxState((e) => {
    for (const [node, state] of e.items)
      if (node.kind === 'checkpoint') runsTree.setChecked(node.sidecarFile, state === vscode.TreeItemCheckboxState.Checked);
    runsView.message = runsTree.checked.size === 1 ? 'Tick one more checkpoint to compare.' : undefined;
  });
  configs.onDidChange(() => configsTree.refresh());
  model.onDidChange(() => {
    runsTree.refresh();
    dashboards.refresh();
    updateStatusBar();
    const active = model.runViews().filter((v) => v.summary.status.status === 'running').length;
    runsView.badge = active > 0 ? { value: active, tooltip: `${active} DoRA run${active === 1 ? '' : 's'} training` } : undefined;
  });

  // ---- panels ----
  const chartExports = createChartExportBroker();
  const dashboards = new DashboardPanels(context, (runDir) => manager.get(runDir), chartExports);
  const inspectRoot = path.join(context.globalStorageUri.fsPath || os.tmpdir(), 'inspect');
  const compares = new ComparePanels(
    context,
    inspectRoot,
    () =>
      cliInspectRunner({
        cliPath: path.join(distDir, 'cli.js'),
        backend: readSettings().backend === 'fromConfig' ? undefined : readSettings().backend,
        ffmpegPath: readSettings().ffmpegPath || undefined,
        log: (l) => output.appendLine(`[compare] ${l}`),
      }),
    (line) => output.appendLine(`[compare] ${line}`),
  );
  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, dashboards),
    vscode.window.registerWebviewPanelSerializer(COMPARE_VIEW_TYPE, compares),
  );
  manager.onMessage(({ runDir, message }) => {
    if (
      message.type === 'metrics' ||
      message.type === 'snapshot-ready' ||
      message.type === 'checkpoint-saved' ||
      message.type === 'finished' ||
      message.type === 'error'
    ) {
      dashboards.refresh(runDir);
      model.refreshSoon();
    }
  });

  // ---- status bar: the live runs of this window; click opens the dashboard ----
  const statusBar = vscode.window.createStatusBarItem('dora.runStatus', vscode.StatusBarAlignment.Left, 50);
  statusBar.name = 'DoRA run';
  context.subscriptions.push(statusBar);
  const updateStatusBar = () => {
    const started = manager.states().filter((s) => !s.finished);
    // Runs training elsewhere (CLI, another window, before a reload) count too, from their files.
    const attached = new Set(manager.states().map((s) => s.runDir));
    const detached = model
      .runViews()
      .filter((v) => !attached.has(v.summary.dir) && v.summary.status.status === 'running')
      .map((v) =>
        stateFromFiles(v.summary.dir, v.summary.info?.name ?? path.basename(v.summary.dir), {
          step: v.summary.status.step,
          totalSteps: v.summary.info?.totalSteps,
          lastMetrics: v.lastMetrics,
        }),
      );
    const live = [...started, ...detached];
    const text = statusBarTextForRuns(live);
    if (!text) {
      statusBar.hide();
      return;
    }
    statusBar.text = text;
    statusBar.tooltip = new vscode.MarkdownString(
      live.map((s) => `**${s.name}** — \`${s.runDir}\``).join('\n\n') + '\n\nClick to open the dashboard.',
    );
    statusBar.command = { command: 'dora.openDashboard', title: 'Open Dashboard', arguments: [{ kind: 'run', dir: live[0].runDir }] };
    statusBar.show();
  };

  // ---- progress notification while a run builds its frame cache (cancel stops the run) ----
  const cacheProgress = new Map<string, { report: (s: LiveRunState) => void; done: () => void }>();
  manager.onDidChangeRun((state) => {
    updateStatusBar();
    const active = cacheProgress.get(state.runDir);
    const inCachePhase = state.phase === ('frame-cache' satisfies ProgressPhase) && !state.finished;
    if (active && !inCachePhase) {
      active.done();
      cacheProgress.delete(state.runDir);
    } else if (active) {
      active.report(state);
    } else if (inCachePhase) {
      // Registered before withProgress runs its callback, so a phase change in between still ends it.
      let finish: () => void = () => undefined;
      const finished = new Promise<void>((resolve) => (finish = resolve));
      let report: (s: LiveRunState) => void = () => undefined;
      cacheProgress.set(state.runDir, { report: (s) => report(s), done: () => finish() });
      void vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `DoRA ${state.name}: caching video frames`, cancellable: true },
        (progress, token) => {
          let last = 0;
          token.onCancellationRequested(() => void manager.stop(state.runDir));
          report = (s) => {
            const fc = s.frameCache;
            if (!fc) return;
            const pct = fc.total ? (100 * fc.done) / fc.total : 0;
            progress.report({
              increment: Math.max(0, pct - last),
              message: `${fc.done}${fc.total ? `/${fc.total}` : ''} frames${fc.eta ? `, ${Math.round(fc.eta)} s left` : ''}`,
            });
            last = pct;
          };
          return finished;
        },
      );
    }
    if (state.finished && state.lastError && state.finished.reason === 'failed') {
      void vscode.window
        .showErrorMessage(
          `DoRA run ${path.basename(state.runDir)} failed: ${state.lastError.message.split('\n')[0]}${state.lastError.fix ? ` Fix: ${state.lastError.fix}` : ''}`,
          'Open Dashboard',
          'Show Log',
        )
        .then((choice) => {
          if (choice === 'Open Dashboard') void dashboards.open(state.runDir);
          if (choice === 'Show Log') output.show(true);
        });
    }
  });

  registerCommands(context, {
    configs,
    runs,
    manager,
    model,
    runsTree,
    dashboards,
    compares,
    output,
    trainerPath: path.join(distDir, 'trainer.js'),
    storageDir: context.globalStorageUri.fsPath || os.tmpdir(),
  });
  const experiments = registerExperiments(context, { model, runs, manager, dashboards, runsView }, chartExports);

  // ---- workspace changes ----
  const rewatch = () => void configs.watch(workspaceRoots()).then(() => model.refresh());
  context.subscriptions.push(
    vscode.workspace.onDidChangeWorkspaceFolders(rewatch),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('dora.runsFolder')) model.refreshSoon();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => runsTree.refresh()),
  );
  void vscode.commands.executeCommand('setContext', 'dora.canCompare', false);
  await configs.watch(workspaceRoots());
  await model.refresh();
  return { manager, model, configs, runsTree, configsTree, dashboards, compares, experiments };
}

export async function deactivate(): Promise<void> {
  await disposeModel?.();
  disposeModel = undefined;
}
