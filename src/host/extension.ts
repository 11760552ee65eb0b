// DoRA Studio's composition root: builds the plain-Node models (configs, runs, the engine client and the run manager),
// then the vscode layer on top (views, panels, status bar, notifications, output channel), and lets each feature folder
// register its commands.

import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DEMO_FOLDER } from '../core/messages';
import { registerCompareCommands } from './compare/commands';
import { COMPARE_VIEW_TYPE, ComparePanels } from './compare/comparePanels';
import { engineInspectRunner } from './compare/compareSession';
import { registerConfigCommands } from './configs/commands';
import { ConfigIndex } from './configs/configIndex';
import { ConfigsTreeProvider } from './configs/configsView';
import { registerDashboardCommands } from './dashboard/commands';
import { DASHBOARD_VIEW_TYPE, DashboardPanels } from './dashboard/dashboardPanels';
import { EngineClient, tfjsEngine } from './engine/engineClient';
import { pythonInterpreterResolver } from './engine/pythonHost';
import { registerEvaluationCommands } from './evaluation/commands';
import { registerFrameCacheCommands } from './frameCache/commands';
import { registerCheckpointCommands } from './runs/checkpointCommands';
import { registerRunCommands } from './runs/commands';
import { registerImportCommand } from './runs/importCommand';
import { RunIndex } from './runs/runIndex';
import { RunManager } from './runs/runManager';
import { RunNotifications } from './runs/runNotifications';
import { RunsTreeProvider } from './runs/runsView';
import { RunsWatcher } from './runs/runsWatcher';
import { RunStatusBar } from './runs/statusBar';
import { WorkspaceModel } from './runs/workspaceModel';
import type { HostServices } from './services';
import { pythonExtensionInterpreter } from './shared/pythonExtension';
import { cacheFolderSetting, readSettings, workspaceRoots } from './shared/settings';

/** What activate() returns: used by the integration tests and available to other extensions. */
export interface DoraStudioApi {
  manager: RunManager;
  model: WorkspaceModel;
  configs: ConfigIndex;
  runsTree: RunsTreeProvider;
  configsTree: ConfigsTreeProvider;
  dashboards: DashboardPanels;
  compares: ComparePanels;
}

let disposeModel: (() => Promise<void>) | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<DoraStudioApi> {
  const output = vscode.window.createOutputChannel('DoRA Trainer');
  context.subscriptions.push(output);
  const engines = createEngineClient(context);
  const { configs, runs, manager, model } = createModels(engines);
  manager.onLog((line) => output.appendLine(`[${path.basename(line.runDir)}]${logPrefix(line.stream)} ${line.text}`));
  const runsTree = new RunsTreeProvider(model, runs);
  const configsTree = new ConfigsTreeProvider(configs);
  const dashboards = new DashboardPanels(context, (runDir) => manager.get(runDir));
  const compares = createComparePanels(context, engines, output);
  const s: HostServices = {
    context,
    configs,
    runs,
    manager,
    model,
    runsTree,
    dashboards,
    compares,
    output,
    engines,
    storageDir: context.globalStorageUri.fsPath || os.tmpdir(),
  };
  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, dashboards),
    vscode.window.registerWebviewPanelSerializer(COMPARE_VIEW_TYPE, compares),
  );
  showViews(s, configsTree);
  followRuns(s);
  for (const register of [
    registerConfigCommands,
    registerRunCommands,
    registerImportCommand,
    registerCheckpointCommands,
    registerDashboardCommands,
    registerCompareCommands,
    registerEvaluationCommands,
    registerFrameCacheCommands,
  ])
    register(s);
  await watchWorkspace(s);
  return { manager, model, configs, runsTree, configsTree, dashboards, compares };
}

export async function deactivate(): Promise<void> {
  await disposeModel?.();
  disposeModel = undefined;
}

/** The TF.js engine (dist/trainer.js) and the PyTorch engine (python/, the interpreter from the settings). */
function createEngineClient(context: vscode.ExtensionContext): EngineClient {
  const interpreter = pythonInterpreterResolver({
    setting: () => readSettings().pythonPath,
    fromExtension: () => pythonExtensionInterpreter(vscode.workspace.workspaceFolders?.[0]?.uri),
  });
  return new EngineClient({
    launch: tfjsEngine(path.join(context.extensionPath, 'dist')),
    python: { packageDir: path.join(context.extensionPath, 'python'), interpreter },
  });
}

function createModels(engines: EngineClient) {
  const configs = new ConfigIndex();
  const runs = new RunIndex();
  const watcher = new RunsWatcher();
  const manager = new RunManager({ engines, stopGraceMs: readSettings().stopTimeoutSeconds * 1000 });
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
  return { configs, runs, manager, model };
}

function logPrefix(stream: 'stdout' | 'stderr' | 'host'): string {
  return stream === 'host' ? ' studio:' : stream === 'stderr' ? ' !' : '';
}

function createComparePanels(context: vscode.ExtensionContext, engines: EngineClient, output: vscode.OutputChannel): ComparePanels {
  const inspectRoot = path.join(context.globalStorageUri.fsPath || os.tmpdir(), 'inspect');
  const log = (line: string) => output.appendLine(`[compare] ${line}`);
  const runner = () => {
    const settings = readSettings();
    const backend = settings.backend === 'fromConfig' ? undefined : settings.backend;
    const cacheRoot = cacheFolderSetting(settings);
    return engineInspectRunner(engines, { backend, ffmpegPath: settings.ffmpegPath || undefined, cacheRoot, log });
  };
  return new ComparePanels(context, inspectRoot, runner, log);
}

/** The Configs and Runs trees (runs with checkboxes for Compare). */
function showViews(s: HostServices, configsTree: ConfigsTreeProvider): void {
  const runsView = vscode.window.createTreeView('dora.runs', {
    treeDataProvider: s.runsTree,
    manageCheckboxStateManually: true,
    showCollapseAll: true,
    canSelectMany: true,
  });
  const configsView = vscode.window.createTreeView('dora.configs', { treeDataProvider: configsTree });
  s.context.subscriptions.push(runsView, configsView, configsTree, s.runsTree);
  runsView.onDidChangeCheckboxState((e) => {
    for (const [node, state] of e.items)
      if (node.kind === 'checkpoint') s.runsTree.setChecked(node.sidecarFile, state === vscode.TreeItemCheckboxState.Checked);
    runsView.message = s.runsTree.checked.size === 1 ? 'Tick one more checkpoint to compare.' : undefined;
  });
  s.configs.onDidChange(() => configsTree.refresh());
  s.model.onDidChange(() => {
    const active = s.model.runViews().filter((v) => v.summary.status.status === 'running').length;
    runsView.badge = active > 0 ? { value: active, tooltip: `${active} DoRA run${active === 1 ? '' : 's'} training` } : undefined;
  });
}

/** Keeps the trees, dashboards, status bar and notifications in step with the runs. */
function followRuns(s: HostServices): void {
  const statusBar = new RunStatusBar(s.manager, s.model);
  const notifications = new RunNotifications(s);
  s.context.subscriptions.push(statusBar);
  s.model.onDidChange(() => {
    s.runsTree.refresh();
    s.dashboards.refresh();
    statusBar.update();
  });
  s.manager.onMessage(({ runDir, message }) => {
    notifications.onMessage(runDir, message);
    if (['metrics', 'snapshot-ready', 'checkpoint-saved', 'finished', 'error'].includes(message.type)) {
      s.dashboards.refresh(runDir);
      s.model.refreshSoon();
    }
  });
  s.manager.onDidChangeRun((state) => {
    statusBar.update();
    notifications.onDidChangeRun(state);
  });
}

async function watchWorkspace(s: HostServices): Promise<void> {
  const rewatch = () => void s.configs.watch(workspaceRoots()).then(() => s.model.refresh());
  s.context.subscriptions.push(
    vscode.workspace.onDidChangeWorkspaceFolders(rewatch),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('dora.runsFolder')) s.model.refreshSoon();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => s.runsTree.refresh()),
  );
  void vscode.commands.executeCommand('setContext', 'dora.canCompare', false);
  await s.configs.watch(workspaceRoots());
  await s.model.refresh();
}
