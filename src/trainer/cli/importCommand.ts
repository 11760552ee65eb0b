/** `dora import <file.pth>`: released DoRA/DINO weights → a run folder, through the PyTorch engine. */
import { CACHE_DIR, ENGINE_OPTIONS, FFMPEG, viaPytorch } from './common';
import type { CommandSpec } from './args';

export const importCommand: CommandSpec = {
  name: 'import',
  positionals: '<file.pth>',
  arity: { min: 1, max: 1, missing: 'give one .pth file (an official DoRA/DINO checkpoint or a ViT state dict)' },
  summary: 'released DoRA/DINO weights → a run folder (dashboard, eval, compare, resume), with a snapshot on --video',
  options: {
    video: { type: 'string', value: 'V', help: "the video of the run (default: the checkpoint's args.data_path)" },
    name: { type: 'string', value: 'N', help: 'the run name (default: the file name)' },
    'runs-dir': { type: 'string', value: 'DIR', help: 'where the run folder goes (default: runs)' },
    python: ENGINE_OPTIONS.python,
    ffmpeg: FFMPEG,
    'cache-dir': CACHE_DIR,
  },
  async run(args) {
    return (await viaPytorch('import', args))!;
  },
};
