/**
 * `dora inspect --engine pytorch`: each checkpoint's teacher and tracker on the same frames, computed by the PyTorch
 * engine (`python -m dora_studio inspect`, run/inspect.py) in the same snapshot format as the TF.js `inspect`. The
 * frame caches are built here first (the engine never decodes video), at each checkpoint's own size.
 */
import { resolve } from 'node:path';
import { runDirOfCheckpoint } from '../../core/node/runPaths';
import { cacheRootForRunVideo } from '../data/frameCache/runCacheRoot';
import { frameCacheSettings } from '../data/prepareFrames';
import { ensureFrameCache } from '../run/ensureFrameCache';
import { ProgressBar } from '../run/progressBar';
import { loadRunConfig, TrainingError } from '../run/runConfig';
import { findCliPython, PythonEngineError, runDoraStudio } from './interpreter';

export interface PytorchInspectOptions {
  checkpoints: string[];
  outDir: string;
  video?: string;
  clipStart?: number;
  python?: string;
  device?: string;
  ffmpegPath?: string;
  cacheRoot?: string;
}

export async function inspectPytorchCommand(o: PytorchInspectOptions): Promise<number> {
  if (o.checkpoints.length === 0)
    throw new TrainingError('inspect: no checkpoint given', 'Pass one or more checkpoint sidecars (checkpoints/step-NNNNNN.json).');
  const sidecars = o.checkpoints.map((c) => resolve(c));
  const configs = await Promise.all(sidecars.map((c) => loadRunConfig(runDirOfCheckpoint(c))));
  const device = o.device ?? 'cpu';
  const interpreter = await findCliPython(o.python, { device, deviceSource: '--device' });
  const video = resolve(o.video ?? configs[0].data.video);
  const args = ['inspect', '--out', resolve(o.outDir), '--video', video, '--device', device];
  if (o.clipStart !== undefined) args.push('--clip-start', String(o.clipStart));
  const bar = new ProgressBar(process.stderr);
  try {
    for (let i = 0; i < sidecars.length; i++) {
      const data = configs[i].data;
      const settings = frameCacheSettings(configs[i], o.cacheRoot);
      // config.json is from a run folder: its frameCache.dir is used only when reading it suffices (runCacheRoot.ts).
      const cacheRoot = cacheRootForRunVideo(video, settings.shortSide, data.frameCache.dir, o.cacheRoot, settings.quality);
      const cache = await ensureFrameCache(
        video,
        { ...settings, cacheRoot },
        {
          ffmpegPath: o.ffmpegPath,
          emit: (m) => bar.handle(m),
        },
      );
      args.push('--checkpoint', sidecars[i], '--frame-cache', cache.cacheDir);
    }
  } finally {
    bar.done();
  }
  const run = await runDoraStudio(interpreter.python, args, { echoStderr: true });
  process.stdout.write(run.stdout);
  if (run.code !== 0)
    throw new PythonEngineError(`the PyTorch inspect exited with code ${run.code}`, 'See the message above.', 'did-not-run');
  return 0;
}
