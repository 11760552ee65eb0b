// Watches the runs folders with chokidar (VS Code's own watcher drops events for deeply nested paths on remotes, DVC
// #4528). Every watcher is backed by a periodic rescan, so a dropped event only delays an update. No vscode import.

import { watch, type FSWatcher } from 'chokidar';
import * as path from 'node:path';
import { debounce, Emitter } from '../shared/emitter';

/**
 * Watches run folders (run.json, events, metrics, checkpoints, snapshots) and reports which run
 * changed. A timer also fires while a run may be live, because liveness (a dead pid, a stale
 * heartbeat) changes without any file event.
 */
export class RunsWatcher {
  private watcher: FSWatcher | undefined;
  private readonly changed = new Emitter<ReadonlySet<string>>();
  readonly onDidChange = this.changed.event;
  private pending = new Set<string>();
  private readonly flush = debounce(() => {
    const dirs = this.pending;
    this.pending = new Set();
    this.changed.fire(dirs);
  }, 200);
  private timer: ReturnType<typeof setInterval> | undefined;
  private watched: string[] = [];

  watch(runsFolders: readonly string[]): void {
    const same = runsFolders.length === this.watched.length && runsFolders.every((f, i) => f === this.watched[i]);
    if (same && this.watcher) return;
    this.watched = [...runsFolders];
    void this.watcher?.close();
    if (runsFolders.length === 0) {
      this.watcher = undefined;
      return;
    }
    // depth 3 reaches <runs>/<run>/snapshots/step-N/snapshot.json. Missing folders are picked up when created.
    const watcher = watch([...runsFolders], {
      ignoreInitial: true,
      depth: 3,
      ignored: (p: string) => {
        const name = path.basename(p);
        return name.startsWith('.') || /^clip-\d+$/.test(name) || name.endsWith('.safetensors') || name === 'trainer.log';
      },
    });
    const note = (p: string) => {
      const abs = path.resolve(p);
      const folder = runsFolders.find((f) => abs === f || abs.startsWith(f + path.sep));
      if (!folder) return;
      const rel = path.relative(folder, abs);
      const runId = rel.split(path.sep)[0];
      this.pending.add(runId ? path.join(folder, runId) : folder);
      this.flush();
    };
    for (const event of ['add', 'addDir', 'change', 'unlink', 'unlinkDir'] as const) watcher.on(event, note);
    watcher.on('error', () => undefined);
    this.watcher = watcher;
  }

  /** While `active()` is true, report a tick every `ms` (liveness and dropped-event safety net). */
  pollWhile(active: () => boolean, ms = 2000): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => {
      if (active()) {
        this.pending.add('*');
        this.flush();
      }
    }, ms);
    this.timer.unref?.();
  }

  async dispose(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.flush.cancel();
    this.changed.dispose();
    await this.watcher?.close();
  }
}
