// Everything the sidebar shows, without vscode: configs (ConfigIndex), runs found on disk (RunIndex),
// and runs this window is training (RunManager). Refreshes are debounced and serialised.

import type { RunSummary } from '../../core/node/runDir';
import { debounce, Emitter, SerialRunner } from '../shared/emitter';
import { isActiveStatus } from '../shared/format';
import type { RunIndex } from './runIndex';
import type { RunManager } from './runManager';
import { collectRunsDirs } from './runsDirs';
import type { RunView } from './runTree';
import type { ConfigIndex } from '../configs/configIndex';
import type { RunsWatcher } from './runsWatcher';

export interface WorkspaceModelOptions {
  configs: ConfigIndex;
  runs: RunIndex;
  manager: RunManager;
  watcher: RunsWatcher;
  workspaceRoots: () => readonly string[];
  runsFolderSetting: () => string | undefined;
  /** Runs folders to show in addition to the configured ones (e.g. the demo's). */
  extraRunsFolders?: () => readonly string[];
}

export class WorkspaceModel {
  private folders: string[] = [];
  private readonly changed = new Emitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly refresher = new SerialRunner(() => this.doRefresh());
  readonly refreshSoon = debounce(() => void this.refresher.run(), 150);
  private readonly subscriptions: Array<{ dispose(): void }> = [];

  constructor(private readonly o: WorkspaceModelOptions) {
    this.subscriptions.push(
      o.configs.onDidChange(() => this.refreshSoon()),
      o.watcher.onDidChange(() => this.refreshSoon()),
      o.manager.onDidChangeRun(() => this.changed.fire()),
    );
    o.watcher.pollWhile(() => this.hasActiveRuns(), 2000);
  }

  refresh(): Promise<void> {
    return this.refresher.run();
  }

  runsFolders(): readonly string[] {
    return this.folders;
  }

  runViewsByFolder(): Map<string, RunView[]> {
    const out = new Map<string, RunView[]>();
    for (const [folder, runs] of this.o.runs.folders())
      out.set(
        folder,
        runs.map((summary) => this.viewOf(summary)),
      );
    // A run this window just created has an empty folder until the trainer writes run.json; show it anyway.
    for (const live of this.o.manager.states()) {
      const folder = parentOf(live.runDir);
      const list = out.get(folder) ?? [];
      if (list.some((v) => v.summary.dir === live.runDir)) continue;
      list.unshift({
        summary: { id: live.runDir.slice(folder.length + 1), dir: live.runDir, status: { status: 'starting', step: 0 } },
        live,
      });
      out.set(folder, list);
    }
    return out;
  }

  runViews(): RunView[] {
    return [...this.runViewsByFolder().values()].flat();
  }

  viewOf(summary: RunSummary): RunView {
    return {
      summary,
      lastMetrics: this.o.runs.lastMetrics(summary.dir),
      live: this.o.manager.get(summary.dir),
      studio: this.o.runs.studio(summary.dir),
    };
  }

  hasActiveRuns(): boolean {
    return this.o.runs.allRuns().some((r) => isActiveStatus(r.status.status)) || this.o.manager.states().some((s) => !s.finished);
  }

  dispose(): void {
    this.refreshSoon.cancel();
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }

  private async doRefresh(): Promise<void> {
    this.folders = await collectRunsDirs({
      setting: this.o.runsFolderSetting(),
      workspaceRoots: this.o.workspaceRoots(),
      configFiles: this.o.configs.list().map((c) => c.file),
      extra: [...(this.o.extraRunsFolders?.() ?? []), ...this.o.manager.states().map((s) => parentOf(s.runDir))],
    });
    this.o.watcher.watch(this.folders);
    await this.o.runs.refresh(this.folders);
    this.changed.fire();
  }
}

function parentOf(dir: string): string {
  return dir.replace(/[\\/][^\\/]+[\\/]?$/, '');
}
