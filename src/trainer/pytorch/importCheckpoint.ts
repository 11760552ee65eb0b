/**
 * Released weights (the official DoRA/DINO `.pth` or a ViT state dict) → a run folder, through the PyTorch engine's
 * `import_pth` (restricted unpickling, official names, config from the shapes): first `--plan` (the config the run will
 * get, nothing written), then the video's frame cache at that config's size (so the run gets a snapshot: masks,
 * attention and assignments in the dashboard at once), then the import into a freshly claimed run folder. Used by
 * `dora import` and by the `import-checkpoint` request ("DoRA: Import Checkpoint (.pth)…").
 */
import { existsSync } from 'node:fs';
import { rmdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { DoraConfig } from '../../core/config';
import type { CheckpointImportedMessage, TrainerMessage } from '../../core/messages';
import { createRunDir, removeUnstartedRunDir } from '../../core/node/runDir';
import { runPaths } from '../../core/node/runPaths';
import { frameCacheSettings } from '../data/prepareFrames';
import { ensureFrameCache } from '../run/ensureFrameCache';
import { TrainingError } from '../run/runConfig';
import { runDoraStudio } from './interpreter';

export interface ImportCheckpointOptions {
  file: string;
  runsDir: string;
  python: string;
  video?: string;
  name?: string;
  ffmpegPath?: string;
  cacheRoot?: string;
  signal?: AbortSignal;
  emit: (message: TrainerMessage) => void;
}

export type ImportedRun = Omit<CheckpointImportedMessage, 'type'>;

interface ImportSummary {
  runDir: string;
  checkpoint: string;
  kind: string;
  model: { arch: string; embedDim: number; depth: number; numHeads: number; patchSize: number };
  imageSize: number;
  video: string;
  snapshot: string | null;
}

export async function importCheckpoint(options: ImportCheckpointOptions): Promise<ImportedRun> {
  const file = resolve(options.file);
  if (!existsSync(file)) throw new TrainingError(`${file}: no such file`, 'Check the path of the .pth file.');
  const name = options.name ?? basename(file).replace(/\.(pth|pt|ckpt|tar)$/i, '');
  const runsDir = resolve(options.runsDir);
  const common = [...(options.video ? ['--video', resolve(options.video)] : []), '--name', name];
  const progress = (done: number, message: string) => options.emit({ type: 'progress', phase: 'import', done, total: 3, message });

  progress(0, `reading ${basename(file)}`);
  const plan = await importPth(options.python, [file, '--out-run-dir', join(runsDir, '.import-plan'), '--plan', ...common]);
  const config = JSON.parse(lastLine(plan)) as DoraConfig;
  options.signal?.throwIfAborted();

  let frameCache: string | undefined;
  if (existsSync(config.data.video)) {
    progress(1, `frame cache of ${basename(config.data.video)}`);
    const cache = await ensureFrameCache(
      config.data.video,
      { ...frameCacheSettings(config), cacheRoot: options.cacheRoot },
      {
        ffmpegPath: options.ffmpegPath,
        signal: options.signal,
        emit: options.emit,
      },
    );
    frameCache = cache.cacheDir;
  }
  options.signal?.throwIfAborted();

  progress(2, 'writing the run folder');
  const { dir } = await createRunDir(runsDir, name);
  // import_pth claims an empty folder and makes checkpoints/ and snapshots/ itself.
  for (const sub of [runPaths(dir).checkpointsDir, runPaths(dir).snapshotsDir]) await rmdir(sub);
  let summary: ImportSummary;
  try {
    const out = await importPth(options.python, [
      file,
      '--out-run-dir',
      dir,
      '--json',
      ...common,
      ...(frameCache ? ['--frame-cache', frameCache] : []),
    ]);
    summary = JSON.parse(lastLine(out)) as ImportSummary;
  } catch (error) {
    await removeUnstartedRunDir(dir); // import_pth removes what it wrote; the empty claim goes too
    throw error;
  }
  progress(3, 'done');
  const m = summary.model;
  const where = `${m.arch} ${m.embedDim}/${m.depth}/${m.numHeads}, patch ${m.patchSize}, ${summary.imageSize} px`;
  return {
    runDir: summary.runDir,
    checkpoint: summary.checkpoint,
    kind: summary.kind,
    snapshot: summary.snapshot,
    summary:
      `imported ${basename(file)} (${summary.kind}, ${where}) into ${summary.runDir}` +
      (summary.snapshot ? '' : ` — no snapshot: ${summary.video} has no frame cache (import again with a video)`),
  };
}

/** `python -m dora_studio import_pth …`; a failure becomes the engine's own one-line message (missing keys …). */
async function importPth(python: string, args: string[]): Promise<string> {
  const run = await runDoraStudio(python, ['import_pth', ...args]);
  if (run.code === 0) return run.stdout;
  const lines = run.stderr.trim().split('\n').filter(Boolean);
  const message = lines.filter((l) => l.startsWith('import:')).join('\n') || lines.slice(-3).join('\n') || `exit status ${run.code}`;
  const [problem, fix] = message.replace(/^import:\s*/, '').split(/;\s*fix:\s*/);
  throw new TrainingError(problem, fix ?? 'Check that the file is an official DoRA/DINO checkpoint or a ViT state dict.');
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}
