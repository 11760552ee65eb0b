// Locating ffmpeg and ffprobe (setting, PATH, then the optional npm package) and running them.
import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { VideoError } from './videoError';

export interface FfmpegTools {
  ffmpeg: string;
  /** null when no ffprobe was found; probing then parses `ffmpeg -i` output instead. */
  ffprobe: string | null;
  /** Where ffmpeg came from, for logs and error messages. */
  source: 'explicit' | 'path' | 'npm';
}

export interface ResolveFfmpegOptions {
  /** From the `dora.ffmpegPath` setting or the CLI's `--ffmpeg`. Wins over everything else. */
  explicitPath?: string;
  /** Defaults to process.env.PATH; tests pass '' to simulate a machine without ffmpeg. */
  searchPath?: string;
  /** Loads an optional npm package; defaults to require(). Tests inject a loader that fails. */
  loadOptionalModule?: (id: string) => unknown;
}

const isWindows = process.platform === 'win32';
const exeSuffix = isWindows ? '.exe' : '';

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, isWindows ? fsConstants.F_OK : fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(name: string, searchPath: string): string | null {
  for (const dir of searchPath.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name + exeSuffix);
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

// A require() that esbuild leaves alone (the id is not a literal), resolved next to the bundle
// (dist/*.js -> node_modules) or, under tsx/tests, next to this file.
function defaultOptionalLoader(id: string): unknown {
  const anchor = typeof __filename === 'string' ? __filename : join(process.cwd(), 'index.js');
  return createRequire(anchor)(id);
}

function npmBinaryPath(id: string, load: (id: string) => unknown): string | null {
  try {
    const mod = load(id) as { path?: unknown } | null;
    const path = mod && typeof mod.path === 'string' ? mod.path : null;
    return path && isExecutableFile(path) ? path : null;
  } catch {
    return null; // the optional package is not installed
  }
}

/**
 * Finds ffmpeg (and ffprobe if available) in this order: the explicit path, `ffmpeg` on PATH,
 * then the optional npm package `@ffmpeg-installer/ffmpeg`.
 */
export function resolveFfmpeg(options: ResolveFfmpegOptions = {}): FfmpegTools {
  const searchPath = options.searchPath ?? process.env.PATH ?? '';
  const load = options.loadOptionalModule ?? defaultOptionalLoader;

  if (options.explicitPath) {
    const explicit = resolve(options.explicitPath);
    if (!isExecutableFile(explicit)) {
      throw new VideoError(
        'FFMPEG_NOT_FOUND',
        `ffmpeg not found at "${explicit}" (set by the dora.ffmpegPath setting or --ffmpeg). ` +
          'Fix: point it to an ffmpeg executable, or clear it to use ffmpeg from PATH.',
      );
    }
    const siblingProbe = join(dirname(explicit), basename(explicit).replace(/ffmpeg/i, 'ffprobe'));
    const ffprobe = siblingProbe !== explicit && isExecutableFile(siblingProbe) ? siblingProbe : findOnPath('ffprobe', searchPath);
    return { ffmpeg: explicit, ffprobe, source: 'explicit' };
  }

  const onPath = findOnPath('ffmpeg', searchPath);
  if (onPath) {
    const siblingProbe = join(dirname(onPath), 'ffprobe' + exeSuffix);
    const ffprobe = isExecutableFile(siblingProbe) ? siblingProbe : findOnPath('ffprobe', searchPath);
    return { ffmpeg: onPath, ffprobe, source: 'path' };
  }

  const fromNpm = npmBinaryPath('@ffmpeg-installer/ffmpeg', load);
  if (fromNpm) {
    return { ffmpeg: fromNpm, ffprobe: npmBinaryPath('@ffprobe-installer/ffprobe', load), source: 'npm' };
  }

  throw new VideoError(
    'FFMPEG_NOT_FOUND',
    'ffmpeg not found. Tried: the dora.ffmpegPath setting / --ffmpeg (not set), "ffmpeg" on PATH ' +
      `(${searchPath ? 'not found' : 'PATH is empty'}), the npm package @ffmpeg-installer/ffmpeg (not installed). ` +
      'Fix: install ffmpeg (Debian/Ubuntu: sudo apt-get install ffmpeg; macOS: brew install ffmpeg), ' +
      'or set dora.ffmpegPath (CLI: --ffmpeg /path/to/ffmpeg).',
  );
}

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runTool(command: string, args: string[]): Promise<ProcessResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', (err) =>
      reject(
        new VideoError(
          'FFMPEG_NOT_FOUND',
          `Could not start "${command}": ${err.message}. Fix: check the ffmpeg installation or the dora.ffmpegPath setting.`,
        ),
      ),
    );
    child.once('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}
