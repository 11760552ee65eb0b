// Untrusted paths from a run folder: plain names where names are expected, and nothing that leads outside, links included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  isLexicallyInside,
  isSafelyInside,
  plainFileNameProblem,
  resolveFileNameInRun,
  resolveInside,
  UnsafeRunPathError,
} from '../../../src/core/node/runPathSafety';

test('a plain file name has no separator and is not "." or ".."', () => {
  assert.equal(plainFileNameProblem('step-000003.safetensors'), undefined);
  assert.equal(plainFileNameProblem('..foo'), undefined); // a name that merely starts with two dots
  for (const bad of ['../../victim.txt', 'a/b', 'a\\b', '..', '.', '', '/etc/passwd', 'C:x', 'a\0b', 42])
    assert.ok(plainFileNameProblem(bad), JSON.stringify(bad));
});

test('lexical escapes and links to elsewhere are refused with the file, the field and the value', async () => {
  const root = mkdtempSync(join(tmpdir(), 'dora-paths-'));
  const run = join(root, 'run');
  mkdirSync(join(run, 'checkpoints'), { recursive: true });
  writeFileSync(join(root, 'victim.txt'), 'keep me');
  symlinkSync(join(root, 'victim.txt'), join(run, 'checkpoints', 'link.safetensors'));
  symlinkSync(root, join(run, 'checkpoints', 'dirlink'));
  writeFileSync(join(run, 'checkpoints', 'ok.safetensors'), 'x');
  const source = { file: join(run, 'checkpoints', 'step-000003.json'), field: 'weightsFile' };

  assert.equal(await resolveInside(run, 'checkpoints/ok.safetensors', source), join(run, 'checkpoints', 'ok.safetensors'));
  assert.equal(await resolveInside(run, 'checkpoints/not-yet.safetensors', source), join(run, 'checkpoints', 'not-yet.safetensors'));
  await assert.rejects(resolveInside(run, '../victim.txt', source), (e: Error) => {
    assert.ok(e instanceof UnsafeRunPathError);
    assert.match(e.message, /step-000003\.json: weightsFile "\.\.\/victim\.txt" leads outside .*run/);
    assert.match(e.message, /Fix: /);
    return true;
  });
  await assert.rejects(resolveInside(run, 'checkpoints/link.safetensors', source), /resolves \(through a symbolic link\) to .*victim\.txt/);
  await assert.rejects(resolveInside(run, 'checkpoints/dirlink/victim.txt', source), /symbolic link/);
  await assert.rejects(resolveFileNameInRun(run, join(run, 'checkpoints'), '../../victim.txt', source), /is not a plain file name/);
  assert.equal(isSafelyInside(run, 'checkpoints/ok.safetensors'), true);
  assert.equal(isSafelyInside(run, 'checkpoints/link.safetensors'), false);
  assert.equal(isLexicallyInside(run, 'checkpoints/link.safetensors'), true); // why the realpath check is needed
  assert.equal(isSafelyInside(run, '/etc/passwd'), false);
});

test('a run folder that is itself a link is fine: only what its files resolve to matters', async () => {
  const root = mkdtempSync(join(tmpdir(), 'dora-paths-'));
  mkdirSync(join(root, 'real', 'snapshots'), { recursive: true });
  writeFileSync(join(root, 'real', 'snapshots', 'a.f32'), '');
  symlinkSync(join(root, 'real'), join(root, 'linked'));
  assert.equal(
    await resolveInside(join(root, 'linked'), 'snapshots/a.f32', { file: 'm', field: 'file' }),
    join(root, 'linked', 'snapshots', 'a.f32'),
  );
});
