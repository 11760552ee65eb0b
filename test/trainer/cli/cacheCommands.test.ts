// `dora cache` and `dora bench-cache` on the strict parser: every flag declared (and in the usage), mistakes named with
// the command's usage, and a real build through the bundled CLI (dist/cli.js: the JPEG decoder's wasm beside it).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseCommand } from '../../../src/trainer/cli/args';
import { benchCacheCommand, cacheCommand } from '../../../src/trainer/cli/cacheCommands';
import { runCli, tinySyntheticVideo } from '../helpers';

const work = mkdtempSync(join(tmpdir(), 'dora-cache-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));

test('each command declares and shows its flags: cache and bench-cache', () => {
  const cacheFlags = ['cache-dir', 'short-side', 'format', 'quality', 'verify', 'hwaccel', 'ffmpeg'];
  const benchFlags = ['seconds', 'short-side', 'quality', 'steps', 'no-clips'];
  assert.deepEqual(Object.keys(cacheCommand.options).sort(), [...cacheFlags].sort());
  assert.deepEqual(Object.keys(benchCacheCommand.options).sort(), [...benchFlags].sort());
  const cacheHelp = runCli(['cache', '--help']);
  assert.equal(cacheHelp.code, 0, cacheHelp.out);
  for (const flag of cacheFlags) assert.match(cacheHelp.out, new RegExp(`^ +--${flag}\\b`, 'm'), `cache --help lists --${flag}`);
  const benchHelp = runCli(['bench-cache', '--help']);
  assert.equal(benchHelp.code, 0, benchHelp.out);
  for (const flag of benchFlags) assert.match(benchHelp.out, new RegExp(`^ +--${flag}\\b`, 'm'), `bench-cache --help lists --${flag}`);
  const values = parseCommand(cacheCommand, ['v.mp4', '--format', 'jpeg', '--quality', '2', '--verify', 'full', '--hwaccel', 'none']);
  assert.deepEqual(values.positionals, ['v.mp4']);
  assert.equal(parseCommand(benchCacheCommand, ['--no-clips']).values['no-clips'], true);
});

test('mistakes exit 2 with the reason and the usage of the command', () => {
  const typo = runCli(['cache', 'v.mp4', '--qualty', '3']);
  assert.equal(typo.code, 2);
  assert.match(typo.out, /^dora: cache: unknown option --qualty; did you mean --quality\?$/m);
  assert.match(typo.out, /^usage: dora cache /m);
  const range = runCli(['cache', 'v.mp4', '--quality', '40']);
  assert.equal(range.code, 2);
  assert.match(range.out, /--quality must be an integer from 2 to 31 \(got "40"\)/);
  const format = runCli(['cache', 'v.mp4', '--format', 'webp']);
  assert.equal(format.code, 2);
  assert.match(format.out, /--format must be one of auto, jpeg, rgb24 \(got "webp"\)/);
  assert.equal(runCli(['cache']).code, 2);
  assert.match(runCli(['bench-cache', '--no-clips=yes']).out, /--no-clips takes no value/);
});

test('dora cache VIDEO builds the compact cache and reports sizes before → after', { timeout: 180_000 }, async () => {
  const video = await tinySyntheticVideo(join(work, 'media'));
  const cacheDir = join(work, 'frames');
  const { code, out } = runCli(['cache', video, '--cache-dir', cacheDir, '--short-side', '48', '--quality', '4']);
  assert.equal(code, 0, out);
  assert.match(out, /^Frame cache built: 60 frames at 80×48 \(jpeg\), [\d.]+ KB — RGB24 would take 691 KB \([\d.]+× smaller\)/m);
  const [folder] = readdirSync(cacheDir);
  const index = JSON.parse(readFileSync(join(cacheDir, folder, 'index.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(index.format, 'jpeg');
  assert.deepEqual(index.settings, { ...(index.settings as object), shortSide: 48, quality: 4 });
  const again = runCli(['cache', video, '--cache-dir', cacheDir, '--short-side', '48', '--quality', '4']);
  assert.match(again.out, /^Frame cache already complete: 60 frames/m);
});
