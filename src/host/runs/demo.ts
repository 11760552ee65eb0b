// "Start Demo Run" in any workspace, even one without a video: an engine generates the synthetic walking tour
// (ffmpeg, once) into <folder>/dora-demo/media and writes dora-demo/demo.dora.json from the demo preset (a
// `prepare-demo` request); the host then trains it like any other config. No vscode import.

import { DEMO_FOLDER } from '../../core/messages';
import type { EngineClient } from '../engine/engineClient';

export { DEMO_FOLDER };

export interface DemoWorkspace {
  dir: string;
  configFile: string;
  video: string;
  frameCount: number;
  /** Frame cache next to the demo (data.frameCache.dir), shared by runs, inspect and Build Frame Cache. */
  cacheRoot: string;
  createdConfig: boolean;
}

export async function prepareDemoWorkspace(
  engines: EngineClient,
  workspaceRoot: string,
  options: { ffmpegPath?: string; durationSeconds?: number; log?: (line: string) => void } = {},
): Promise<DemoWorkspace> {
  const outcome = await engines.prepareDemo(
    {
      target: 'workspace',
      workspaceRoot,
      ...(options.ffmpegPath ? { ffmpegPath: options.ffmpegPath } : {}),
      ...(options.durationSeconds ? { durationSeconds: options.durationSeconds } : {}),
    },
    { log: options.log },
  );
  const ready = outcome.ready;
  if (outcome.reason !== 'completed' || !ready?.demo) throw new Error(outcome.error ?? 'the engine ended without preparing the demo');
  return { ...ready.demo, video: ready.video, frameCount: ready.frameCount };
}
