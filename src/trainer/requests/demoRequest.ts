// The `prepare-demo` request: "Start Demo Run" in any workspace, even one without a video. Generates the synthetic
// walking tour (ffmpeg, once) into <workspace>/dora-demo/media and, for target "workspace", writes
// dora-demo/demo.dora.json from the demo preset. Runs in the engine process, never on the extension host's thread.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { DEMO_FOLDER, type PrepareDemoMessage } from '../../core/messages';
import { writeConfigFile } from '../../core/node/configFile';
import { configFromPreset } from '../../core/presets';
import { resolveFfmpeg } from '../data/ffmpeg/tools';
import { ensureDemoVideo, type SyntheticVideoFiles } from '../data/syntheticVideo';
import { finishRequest, type RequestContext } from './requestContext';

export interface DemoWorkspace {
  dir: string;
  configFile: string;
  video: string;
  frameCount: number;
  /** Frame cache next to the demo (data.frameCache.dir), shared by runs, inspect and Build Frame Cache. */
  cacheRoot: string;
  createdConfig: boolean;
}

export interface TourOptions {
  ffmpegPath?: string;
  /** Length of a newly generated tour; default the generator's (40 s). */
  durationSeconds?: number;
}

/** The synthetic walking tour in `mediaDir` (generated there once): evaluation data with exact ground truth. */
export function ensureSyntheticTour(mediaDir: string, options: TourOptions = {}): Promise<SyntheticVideoFiles> {
  const tools = resolveFfmpeg({ explicitPath: options.ffmpegPath || undefined });
  return ensureDemoVideo(mediaDir, options.durationSeconds ? { durationSeconds: options.durationSeconds } : {}, tools);
}

/** The demo folder of a workspace: the tour, and demo.dora.json from the demo preset (written once). */
export async function prepareDemoWorkspace(workspaceRoot: string, options: TourOptions = {}): Promise<DemoWorkspace> {
  const dir = path.join(workspaceRoot, DEMO_FOLDER);
  const video = await ensureSyntheticTour(path.join(dir, 'media'), options);
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

export function runPrepareDemoRequest(request: PrepareDemoMessage, ctx: RequestContext): Promise<'completed' | 'stopped' | 'failed'> {
  return finishRequest(ctx, async () => {
    const options = { ffmpegPath: request.ffmpegPath, durationSeconds: request.durationSeconds };
    ctx.emit({ type: 'progress', phase: 'demo', done: 0, total: null, message: 'generating the synthetic walking tour (once)' });
    if (request.target === 'tour') {
      const tour = await ensureSyntheticTour(path.join(request.workspaceRoot, DEMO_FOLDER, 'media'), options);
      ctx.emit({ type: 'demo-ready', video: tour.video, frameCount: tour.frameCount });
      return;
    }
    const demo = await prepareDemoWorkspace(request.workspaceRoot, options);
    ctx.emit({
      type: 'demo-ready',
      video: demo.video,
      frameCount: demo.frameCount,
      demo: { dir: demo.dir, configFile: demo.configFile, cacheRoot: demo.cacheRoot, createdConfig: demo.createdConfig },
    });
  });
}
