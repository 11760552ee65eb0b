// File watching with chokidar (a product choice: VS Code's own watcher drops events for deeply nested
// paths on remotes, DVC #4528). Every watcher is backed by a periodic rescan, so a dropped event only
// delays an update. No vscode import.

import { watch, type FSWatcher } from 'chokidar';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseConfigText, validateConfig } from '../../core/config';
import { formatProblem, ConfigError } from '../../core/configProblem';
import { debounce, Emitter } from './emitter';

/** Folders never worth scanning for configs: dependencies, VCS data, caches and run outputs. */
const SKIPPED_DIRS = new Set([
  'node_modules',
  '.git',
  '.hg',
  '.svn',
  '.vscode-test',
  '.cache',
  '.frame-cache',
  'dist',
  'out',
  'checkpoints',
  'snapshots',
  '__pycache__',
  '.venv',
  'venv',
]);

export function isConfigFileName(file: string): boolean {
  return /\.dora\.json$/i.test(file);
}

export function shouldSkipDir(name: string): boolean {
  return SKIPPED_DIRS.has(name) || (name.startsWith('.') && name !== '.');
}

/** The first problem of a config file, or undefined when it is valid. */
export async function configProblem(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return `${file}: cannot be read (${(error as Error).message})`;
  }
  try {
    const problems = validateConfig(parseConfigText(text, file), file);
    return problems.length ? `${formatProblem(problems[0])}${problems.length > 1 ? ` (+${problems.length - 1} more)` : ''}` : undefined;
  } catch (error) {
    if (error instanceof ConfigError) return error.problems[0] ? formatProblem(error.problems[0]) : error.message;
    return (error as Error).message;
  }
}

/** Every *.dora.json under the workspace folders, kept current by chokidar. */
export class ConfigIndex {
  private readonly files = new Map<string, string | undefined>(); // file → first problem
  private watcher: FSWatcher | undefined;
  private readonly changed = new Emitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly fireSoon = debounce(() => this.changed.fire(), 150);
  private readyPromise: Promise<void> = Promise.resolve();

  constructor(private readonly options: { maxDepth?: number; usePolling?: boolean } = {}) {}

  /** (Re)starts watching these folders; resolves after the initial scan. */
  watch(roots: readonly string[]): Promise<void> {
    void this.watcher?.close();
    this.files.clear();
    if (roots.length === 0) {
      this.fireSoon();
      this.readyPromise = Promise.resolve();
      return this.readyPromise;
    }
    const watcher = watch([...roots], {
      ignoreInitial: false,
      depth: this.options.maxDepth ?? 8,
      usePolling: this.options.usePolling ?? false,
      interval: 1000,
      awaitWriteFinish: { stabilityThreshold: 150, pollInterval: 50 },
      ignored: (p: string, stats?: { isDirectory(): boolean; isFile(): boolean }) => {
        const name = path.basename(p);
        if (roots.includes(p)) return false;
        if (stats?.isDirectory()) return shouldSkipDir(name);
        if (stats?.isFile()) return !isConfigFileName(name);
        return false;
      },
    });
    this.watcher = watcher;
    const upsert = async (file: string) => {
      if (!isConfigFileName(file)) return;
      this.files.set(file, await configProblem(file));
      this.fireSoon();
    };
    watcher.on('add', (f) => void upsert(path.resolve(f)));
    watcher.on('change', (f) => void upsert(path.resolve(f)));
    watcher.on('unlink', (f) => {
      if (this.files.delete(path.resolve(f))) this.fireSoon();
    });
    watcher.on('error', () => undefined); // permission errors on single folders must not stop the watcher
    this.readyPromise = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    return this.readyPromise;
  }

  whenReady(): Promise<void> {
    return this.readyPromise;
  }

  /** Adds a file right away (e.g. one this extension just wrote) without waiting for the watcher. */
  async add(file: string): Promise<void> {
    this.files.set(file, await configProblem(file));
    this.changed.fire();
  }

  list(): Array<{ file: string; problem?: string }> {
    return [...this.files.entries()].map(([file, problem]) => ({ file, problem })).sort((a, b) => a.file.localeCompare(b.file));
  }

  async dispose(): Promise<void> {
    this.fireSoon.cancel();
    this.changed.dispose();
    await this.watcher?.close();
  }
}

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
