// Every *.dora.json of the workspace and its first problem, kept current with chokidar (a product choice: VS Code's own
// watcher drops events for deeply nested paths on remotes, DVC #4528). No vscode import.

import { watch, type FSWatcher } from 'chokidar';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseConfigText, validateConfig } from '../../core/config';
import { formatProblem, ConfigError } from '../../core/configProblem';
import { debounce, Emitter } from '../shared/emitter';

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
