// The short requests of the engine contract (host → engine), besides `start` and `stop`: evaluate, inspect, build the
// frame cache, prepare the demo, ready a PyTorch run's folder, import released weights. Part of src/core/messages.ts
// (which re-exports every name here and holds the guards); a separate file only to keep each one readable.

import type { EvalSuite } from './evalResults';

/** One evaluation to run: a suite and, for k-NN, the dataset (`synthetic`, `fashion-mnist` or an image folder). */
export interface EvalJob {
  suite: EvalSuite;
  dataset?: string;
  /** The synthetic walking tour to use when the run's own video has no ground truth (k-NN on objects, tracking). */
  video?: string;
}

/**
 * Evaluate a checkpoint's teacher instead of training (the same child process, sent instead of `start`). The trainer
 * answers with `progress` (phase `evaluation`), one `eval-result` per job and a `finished` (`stopped` after `stop`).
 */
export interface EvaluateMessage {
  type: 'evaluate';
  /** Absolute path of the checkpoint sidecar (checkpoints/step-NNNNNN.json). */
  checkpoint: string;
  jobs: EvalJob[];
  backend?: string;
  ffmpegPath?: string;
  cacheRoot?: string;
  /** Recompute results that are already stored. */
  force?: boolean;
  /**
   * Where the synthetic walking tour lives (generated there once) for jobs that need ground truth (k-NN on objects,
   * tracking) when the run's own video has none. Without it such jobs use the run's video.
   */
  tour?: { dir: string; durationSeconds?: number };
}

/** Runs each checkpoint's teacher and tracker on the same frames (compare panel); answered by `inspect-result`. */
export interface InspectMessage {
  type: 'inspect';
  /** Absolute paths of checkpoint sidecars. */
  checkpoints: string[];
  /** Folder for the results (one snapshot folder per checkpoint and inspect.json, written last). */
  outDir: string;
  /** Video to take the frames from; default: the first checkpoint's training video. */
  video?: string;
  /** First frame of the clip; default: the middle of the video. */
  clipStart?: number;
  backend?: string;
  ffmpegPath?: string;
  cacheRoot?: string;
}

/** Decodes a config's video into the frame cache ahead of a run; answered by `frame-cache-ready`. */
export interface BuildFrameCacheMessage {
  type: 'build-frame-cache';
  /** Absolute path of the *.dora.json file. */
  configPath: string;
  ffmpegPath?: string;
  cacheRoot?: string;
}

/** Folder of the demo inside a workspace folder (prepare-demo): media/, demo.dora.json, runs/. */
export const DEMO_FOLDER = 'dora-demo';

/** Generates the synthetic walking tour (once) and, for target "workspace", the demo config; answered by `demo-ready`. */
export interface PrepareDemoMessage {
  type: 'prepare-demo';
  target: 'workspace' | 'tour';
  /** The demo lives in <workspaceRoot>/dora-demo (video in media/, config demo.dora.json, runs in runs/). */
  workspaceRoot: string;
  ffmpegPath?: string;
  /** Length of a newly generated tour (tests use a few seconds). */
  durationSeconds?: number;
}

/**
 * Readies a run folder for an engine that never resolves configs (the PyTorch engine reads `<run>/config.json` only):
 * a new run gets its resolved config.json (TS resolver, absolute paths), a resumed run keeps its own; the video's frame
 * cache is built when missing. Answered by `run-prepared` (the TF.js engine's process does it; it never trains here).
 */
export interface PrepareRunMessage {
  type: 'prepare-run';
  runDir: string;
  /** The *.dora.json of a new run; absent when resuming. */
  configPath?: string;
  /** Set when resuming: the run's own config.json is kept. */
  resumeCheckpoint?: string;
  ffmpegPath?: string;
  cacheRoot?: string;
  /** Config overrides `key=value` (the start message's): the changes of the .dora.json the user accepted on resume. */
  overrides?: string[];
}

/**
 * Makes a run folder under `runsDir` from released weights (the official DoRA/DINO `.pth` or a ViT state dict) with the
 * PyTorch engine (`python -m dora_studio import_pth`, run by the given interpreter), the video's frame cache built
 * first so the run gets a snapshot. Answered by `checkpoint-imported`.
 */
export interface ImportCheckpointMessage {
  type: 'import-checkpoint';
  file: string;
  runsDir: string;
  /** The Python interpreter that runs the PyTorch engine (found by the host). */
  python: string;
  /** The video of the run's config; default the checkpoint's own `args.data_path`. */
  video?: string;
  name?: string;
  ffmpegPath?: string;
  cacheRoot?: string;
}
