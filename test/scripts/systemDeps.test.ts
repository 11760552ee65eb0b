// scripts/install-system-deps.sh, the first step of `npm test`: quiet when everything is installed, one line naming
// what to install when it cannot install (not root, not Debian). Driven with stub dpkg-query/apt-get/id on PATH, so
// nothing is installed by the test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const SCRIPT = resolve(__dirname, '../../scripts/install-system-deps.sh');

function sandbox(opts: { missing: string[]; uid: number; lavapipe: boolean; debian?: boolean }) {
  const dir = mkdtempSync(join(tmpdir(), 'dora-sysdeps-'));
  mkdirSync(join(dir, 'scripts'));
  copyFileSync(SCRIPT, join(dir, 'scripts', 'install-system-deps.sh'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const stub = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  if (opts.debian === false) for (const tool of ['dirname', 'grep']) symlinkSync(`/usr/bin/${tool}`, join(bin, tool));
  else {
    const missing = opts.missing.map((p) => `"${p}"`).join(' ');
    stub('dpkg-query', `for m in ${missing}; do [ "\${@: -1}" = "$m" ] && exit 1; done; printf 'install ok installed'`);
    stub('apt-get', `echo "apt-get $*" >> "${dir}/apt.log"`);
  }
  stub('id', `echo ${opts.uid}`);
  writeFileSync(join(dir, 'scripts', 'setup-lavapipe.sh'), `echo lavapipe >> "${dir}/apt.log"\n`);
  if (opts.lavapipe) {
    mkdirSync(join(dir, '.cache/lavapipe/root/usr/share/vulkan/icd.d'), { recursive: true });
    writeFileSync(join(dir, '.cache/lavapipe/root/usr/share/vulkan/icd.d/lvp_icd.json'), '{}');
  }
  const run = () =>
    spawnSync('/bin/bash', [join(dir, 'scripts', 'install-system-deps.sh')], {
      encoding: 'utf8',
      // Without Debian's tools: only the stubs and the two tools the script uses before it looks for dpkg-query.
      env: { PATH: opts.debian === false ? bin : `${bin}:/usr/bin:/bin` },
    });
  return { dir, run };
}

test('everything installed: exits 0 without a word', () => {
  const { run } = sandbox({ missing: [], uid: 1000, lavapipe: true });
  const r = run();
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout + r.stderr, '');
});

test('not root with packages missing: exits 1 with ONE line naming the apt-get command', () => {
  const { run } = sandbox({ missing: ['chromium', 'python3-torch'], uid: 1000, lavapipe: true });
  const r = run();
  assert.equal(r.status, 1);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /sudo apt-get install -y chromium python3-torch$/);
});

test('not root without lavapipe: the one line also names setup-lavapipe.sh', () => {
  const { run } = sandbox({ missing: [], uid: 1000, lavapipe: false });
  const r = run();
  assert.equal(r.status, 1);
  assert.match(r.stderr.trim(), /^npm test needs .*: sudo bash scripts\/setup-lavapipe\.sh$/);
});

test('root on Debian: installs exactly the missing packages, then lavapipe', () => {
  const { dir, run } = sandbox({ missing: ['ffmpeg', 'slurm-wlm'], uid: 0, lavapipe: false });
  const r = run();
  assert.equal(r.status, 0, r.stderr);
  const log = readFileSync(join(dir, 'apt.log'), 'utf8');
  assert.match(log, /apt-get .*update/);
  assert.match(log, /apt-get .*install -y -qq --no-install-recommends ffmpeg slurm-wlm\n/);
  assert.match(log, /lavapipe\n$/);
});

test('not Debian: exits 1 with ONE line listing the packages and the way to skip the check', () => {
  const { run } = sandbox({ missing: [], uid: 1000, lavapipe: true, debian: false });
  const r = run();
  assert.equal(r.status, 1);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /Debian 12 only.*chromium.*python3-torch.*DORA_SKIP_SYSTEM_DEPS=1$/);
});
