// "Start Demo Run" in any workspace, even one without a video: generate the synthetic walking tour
// (ffmpeg, once) into <folder>/dora-demo/media, write dora-demo/demo.dora.json from the demo preset,
// and train it like any other config. No vscode import.

import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { configFromPreset } from '../../core/presets';
import { writeConfigFile } from '../../core/node/configFile';
import { resolveFfmpeg } from '../../trainer/data/ffmpeg';
import { ensureDemoVideo } from '../../trainer/data/syntheticVideo';

export const DEMO_FOLDER = 'dora-demo';

export interface DemoWorkspace {
  dir: string;
  configFile: string;
  video: string;
  frameCount: number;
  /** Frame cache next to the demo (data.frameCache.dir), shared by runs, inspect and Build Frame Cache. */
  cacheRoot: string;
  createdConfig: boolean;
}

/** The demo's synthetic walking tour alone (no config): evaluation data with exact ground truth. Generated once. */
export async function ensureSyntheticTour(
  workspaceRoot: string,
  options: { ffmpegPath?: string; durationSeconds?: number } = {},
): Promise<string> {
  const tools = resolveFfmpeg({ explicitPath: options.ffmpegPath || undefined });
  return (
    await ensureDemoVideo(
      path.join(workspaceRoot, DEMO_FOLDER, 'media'),
      options.durationSeconds ? { durationSeconds: options.durationSeconds } : {},
      tools,
    )
  ).video;
}

export async function prepareDemoWorkspace(
  workspaceRoot: string,
  options: { ffmpegPath?: string; durationSeconds?: number } = {},
): Promise<DemoWorkspace> {
  const dir = path.join(workspaceRoot, DEMO_FOLDER);
  const tools = resolveFfmpeg({ explicitPath: options.ffmpegPath || undefined });
  const video = await ensureDemoVideo(
    path.join(dir, 'media'),
    options.durationSeconds ? { durationSeconds: options.durationSeconds } : {},
    tools,
  );
  const configFile = path.join(dir, 'demo.dora.json');
  let createdConfig = false;
  if (!existsSync(configFile)) {
    // The frame cache lives next to the demo, so demo frames never fill the user's cache folder.
    const content = configFromPreset(
      'demo',
      { data: { video: path.relative(dir, video.video), frameCache: { dir: '.frame-cache' } }, runtime: { runsDir: 'runs' } },
      { expand: true, name: 'demo' },
    );
    await writeConfigFile(configFile, content);
    createdConfig = true;
  }
  return { dir, configFile, video: video.video, frameCount: video.frameCount, cacheRoot: path.join(dir, '.frame-cache'), createdConfig };
}
