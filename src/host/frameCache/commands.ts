// Build Frame Cache: decode a config's video ahead of a run, in an engine process, with a cancellable notification.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { configProblem } from '../configs/configIndex';
import type { HostServices } from '../services';
import { configFromArg } from '../shared/commandArgs';
import { registerCommand, requireTrust } from '../shared/commandHelpers';
import { pickConfig } from '../shared/pickers';
import { cacheFolderSetting, readSettings } from '../shared/settings';
import { buildFrameCacheForConfig, FrameCacheJobError, frameProgressText, type FrameCacheJobResult } from './frameCacheJob';

export function registerFrameCacheCommands(s: HostServices): void {
  registerCommand(s, 'dora.buildFrameCache', async (arg?: unknown) => {
    if (!requireTrust('build a frame cache')) return undefined;
    const configPath = configFromArg(arg) ?? (await pickConfig(s, 'Config whose video to cache'));
    if (!configPath) return undefined;
    const problem = await configProblem(configPath);
    if (problem) {
      void vscode.window.showErrorMessage(`Cannot build the frame cache: ${problem}`);
      return undefined;
    }
    return buildWithProgress(s, configPath);
  });
}

function buildWithProgress(s: HostServices, configPath: string): Thenable<FrameCacheJobResult | undefined> {
  const title = `DoRA: caching the frames of ${path.basename(configPath)}`;
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      let reported = 0;
      try {
        const settings = readSettings(vscode.Uri.file(configPath));
        const result = await buildFrameCacheForConfig(s.engines, configPath, {
          ffmpegPath: settings.ffmpegPath,
          cacheRoot: cacheFolderSetting(settings), // a config's data.frameCache.dir wins (in the engine)
          signal: abort.signal,
          log: (line) => s.output.appendLine(`[frame cache] ${line}`),
          onPlan: (summary) => {
            progress.report({ message: summary });
            s.output.appendLine(`[frame cache] ${summary}`);
          },
          onProgress: (p) => {
            const pct = p.totalFrames ? (100 * p.framesDone) / p.totalFrames : 0;
            progress.report({ increment: pct - reported, message: frameProgressText(p) });
            reported = pct;
          },
        });
        s.output.appendLine(`[frame cache] ${result.summary}`);
        void vscode.window.showInformationMessage(`DoRA: ${result.summary}`); // sizes before → after, frames/s, folder
        return result;
      } catch (error) {
        if (abort.signal.aborted || (error instanceof FrameCacheJobError && error.cancelled)) {
          void vscode.window.showInformationMessage('DoRA: frame caching cancelled; the frames done so far are kept and reused next time.');
          return undefined;
        }
        void vscode.window.showErrorMessage(`DoRA: could not cache the frames of ${configPath}: ${(error as Error).message}`);
        return undefined;
      }
    },
  );
}
