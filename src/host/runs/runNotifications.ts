// Notifications about runs this window started: a cancellable progress notification while a run builds its frame
// cache (cancel stops the run), the engine's warnings (a truncated or variable-frame-rate video, a trimmed black tail,
// a refused checkpoint …) with "Show Log", and an error with "Open Dashboard" / "Show Log" when a run fails.

import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TrainerMessage } from '../../core/messages';
import type { HostServices } from '../services';
import type { LiveRunState } from './liveRun';
import { failureText, frameCacheProgressOf } from './runStatusText';

interface CacheProgress {
  report: (state: LiveRunState) => void;
  done: () => void;
}

export class RunNotifications {
  private readonly cacheProgress = new Map<string, CacheProgress>();

  constructor(private readonly s: Pick<HostServices, 'manager' | 'dashboards' | 'output'>) {}

  /** Call on every change of a run's live state. */
  onDidChangeRun(state: LiveRunState): void {
    this.followFrameCache(state);
    const text = failureText(state, path.basename(state.runDir));
    if (text) this.showFailure(state, text);
  }

  /** Call on every engine message: warnings are shown, not only logged. */
  onMessage(runDir: string, message: TrainerMessage): void {
    if (message.type !== 'warning') return;
    void vscode.window
      .showWarningMessage(`DoRA: ${path.basename(runDir)}: ${message.message}`, 'Show Log')
      .then((choice) => choice && this.s.output.show(true));
  }

  private followFrameCache(state: LiveRunState): void {
    const active = this.cacheProgress.get(state.runDir);
    const inCachePhase = state.phase === 'frame-cache' && !state.finished;
    if (active && !inCachePhase) {
      active.done();
      this.cacheProgress.delete(state.runDir);
    } else if (active) {
      active.report(state);
    } else if (inCachePhase) {
      this.showCacheProgress(state);
    }
  }

  private showCacheProgress(state: LiveRunState): void {
    // Registered before withProgress runs its callback, so a phase change in between still ends it.
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    let report: (s: LiveRunState) => void = () => undefined;
    this.cacheProgress.set(state.runDir, { report: (s) => report(s), done: () => finish() });
    const title = `DoRA ${state.name}: caching video frames`;
    void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
      let last = 0;
      token.onCancellationRequested(() => void this.s.manager.stop(state.runDir));
      report = (s) => {
        const p = frameCacheProgressOf(s);
        if (!p) return;
        progress.report({ increment: Math.max(0, p.percent - last), message: p.message });
        last = p.percent;
      };
      return finished;
    });
  }

  private showFailure(state: LiveRunState, text: string): void {
    void vscode.window.showErrorMessage(text, 'Open Dashboard', 'Show Log').then((choice) => {
      if (choice === 'Open Dashboard') void this.s.dashboards.open(state.runDir);
      if (choice === 'Show Log') this.s.output.show(true);
    });
  }
}
