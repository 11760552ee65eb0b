// The `dora` command line: strict options (node:util parseArgs), "did you mean" for a mistyped option, --help, and the
// argument mix-ups of the old hand-written parser (a boolean flag swallowing the next argument).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { COMMANDS, USAGE } from '../../src/trainer/cli';
import { parseCommand } from '../../src/trainer/cli/args';
import { evalCommand, goldenCommand } from '../../src/trainer/cli/checkCommands';
import { trainCommand } from '../../src/trainer/cli/runCommands';
import { repoRoot, runCli, tinyConfig, writeConfig } from './helpers';

const GOLDEN_CASE = join(resolve(process.env.DORA_GOLDEN_DIR ?? join(repoRoot, '..', 'shared', 'golden')), 'schedules.safetensors');

test('a boolean flag does not take the next argument: golden --verbose DIR, eval --force CKPT', () => {
  assert.deepEqual(parseCommand(goldenCommand, ['--verbose', '/g']).positionals, ['/g']);
  const evalArgs = parseCommand(evalCommand, ['--force', '/r/checkpoints/step-000001.json', '--suite', 'knn']);
  assert.deepEqual(evalArgs.positionals, ['/r/checkpoints/step-000001.json']);
  assert.equal(evalArgs.values.force, true);
  assert.equal(evalArgs.values.suite, 'knn');
});

test('dora golden --verbose FILE checks FILE and prints every check', () => {
  const { code, out } = runCli(['golden', '--verbose', GOLDEN_CASE, '--backend', 'cpu']);
  assert.equal(code, 0, out);
  assert.match(out, /^1 passed, 0 failed$/m);
  assert.match(out, /^ {4}ok {3}expected\./m, 'the passing checks are listed too');
});

test('dora eval --force CKPT reads CKPT (its run folder), not "give one checkpoint"', () => {
  const { code, out } = runCli(['eval', '--force', '/no-such-run/checkpoints/step-000001.json', '--suite', 'attention']);
  assert.equal(code, 1, out);
  assert.match(out, /\/no-such-run\/config\.json: cannot read the run's resolved config/);
});

test('a mistyped option exits 2 and names the right one', () => {
  const { code, out } = runCli(['train', 'x.dora.json', '--max-step', '5']);
  assert.equal(code, 2);
  assert.match(out, /^dora: train: unknown option --max-step; did you mean --max-steps\?$/m);
  assert.match(out, /^usage: dora train /m, "the command's own usage follows");
  const command = runCli(['tarin', 'x.dora.json']);
  assert.equal(command.code, 2);
  assert.match(command.out, /unknown command "tarin"; did you mean train\?/);
});

test('--help exits 0 with the options; no command at all exits 2 with the usage', () => {
  const help = runCli(['--help']);
  assert.equal(help.code, 0);
  assert.equal(help.out.trim(), USAGE);
  const trainHelp = runCli(['train', '--help']);
  assert.equal(trainHelp.code, 0);
  assert.match(trainHelp.out, /--cache-dir DIR +frame-cache folder/);
  assert.equal(runCli(['help', 'eval']).code, 0);
  const none = runCli([]);
  assert.equal(none.code, 2);
  assert.match(none.out, /^usage: dora <command>/);
});

test('the usage lists every option of every command', () => {
  for (const command of COMMANDS)
    for (const name of Object.keys(command.options)) assert.match(USAGE, new RegExp(`\\[--${name}\\b`), `${command.name} --${name}`);
  assert.match(USAGE, /train .*\n.*--cache-dir DIR/);
});

test('values: missing, wrong type, out of range, extra arguments', () => {
  assert.throws(() => parseCommand(trainCommand, ['c.dora.json', '--run-dir']), /train: --run-dir needs a value/);
  assert.throws(() => parseCommand(trainCommand, ['a.dora.json', 'b.dora.json']), /unexpected argument "b\.dora\.json"/);
  assert.throws(() => parseCommand(goldenCommand, ['--verbose=yes', '/g']), /--verbose takes no value/);
  const steps = runCli(['train', 'x.dora.json', '--max-steps', 'many']);
  assert.equal(steps.code, 2);
  assert.match(steps.out, /--max-steps must be a positive integer \(got "many"\)/);
});

test('--set is repeatable and reaches the config: a bad value is named with its JSON path, and no run folder is made', () => {
  const args = parseCommand(trainCommand, ['c.dora.json', '--set', 'training.lr=1e-4', '--set=data.stride=2']);
  assert.deepEqual(args.values.set, ['training.lr=1e-4', 'data.stride=2']);
  const dir = mkdtempSync(join(tmpdir(), 'dora-cli-set-'));
  const config = writeConfig(dir, 'tiny', tinyConfig(join(dir, 'video.mp4')));
  const { code, out } = runCli(['train', config, '--set', 'training.lr=1e-4', '--set', 'training.minLr=fast']);
  assert.equal(code, 1, out);
  assert.match(out, /tiny\.dora\.json with --set training\.lr=1e-4 --set training\.minLr=fast: \$\.training\.minLr: expected a number/);
  assert.equal(existsSync(join(dir, 'runs')), false, 'a config error creates no run folder');
});
