// The published extension's manifest and files: commands findable by name, menus that name real commands, no
// trust-gated `enablement` (it hides commands from the palette until the workbench has restored, see
// test/integration/README.md), settings texts that match the code, icon, LICENSE, repository links, and README and
// walkthrough pictures that are packaged.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { AUTO_ORDER } from '../../src/trainer/backend/types';

const ROOT = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const commands = pkg.contributes.commands as Array<{ command: string; title: string; category?: string; enablement?: string }>;
const ignore = readFileSync(path.join(ROOT, '.vscodeignore'), 'utf8');

test('commands are findable in the palette as "DoRA: …", with the names issue 16 asks for', () => {
  for (const c of commands) {
    assert.equal(c.category, 'DoRA', `${c.command} has the DoRA category`);
    assert.ok(c.title.length > 0);
  }
  const titles = commands.map((c) => `DoRA: ${c.title}`);
  for (const wanted of [
    'DoRA: Plot Runs',
    'DoRA: Show Runs Table',
    'DoRA: Export Chart…',
    'DoRA: Rename Run…',
    'DoRA: Star Run',
    'DoRA: Delete Run…',
  ])
    assert.ok(titles.includes(wanted), `${wanted} is a command`);
  assert.equal(new Set(commands.map((c) => c.command)).size, commands.length, 'no duplicate ids');
});

test('no command is gated by enablement on workspace trust (the handlers refuse and explain instead)', () => {
  for (const c of commands) assert.ok(!/isWorkspaceTrusted/.test(c.enablement ?? ''), `${c.command}: enablement ${c.enablement}`);
});

test('every menu entry names a declared command; the editor title has ▶ for *.dora.json', () => {
  const ids = new Set(commands.map((c) => c.command));
  for (const [menu, entries] of Object.entries(pkg.contributes.menus as Record<string, Array<{ command: string; when?: string }>>))
    for (const entry of entries) assert.ok(ids.has(entry.command), `${menu}: ${entry.command} is declared`);
  const editorTitle = pkg.contributes.menus['editor/title'] as Array<{ command: string; when: string; group: string }>;
  const run = editorTitle.find((e) => e.command === 'dora.startRun');
  assert.ok(run && run.group.startsWith('navigation') && /\.dora\\\\?\.json/.test(run.when), JSON.stringify(run));
  assert.equal(commands.find((c) => c.command === 'dora.startRun')?.title, 'Start Run…');
});

test('settings: the "auto" backend text lists the order the code tries; every setting the code reads is declared', () => {
  const backend = pkg.contributes.configuration.properties['dora.backend'];
  const auto = backend.enumDescriptions[backend.enum.indexOf('auto')] as string;
  const positions = AUTO_ORDER.map((name) => auto.search(new RegExp(`\\b${name}\\b(?!-)`)));
  assert.ok(
    positions.every((p) => p >= 0),
    `"${auto}" names ${AUTO_ORDER.join(', ')}`,
  );
  assert.deepEqual(
    [...positions].sort((a, b) => a - b),
    positions,
    `"${auto}" keeps the order ${AUTO_ORDER.join(' → ')}`,
  );
  const read = [...readFileSync(path.join(ROOT, 'src/host/shared/settings.ts'), 'utf8').matchAll(/c\.get<\w+>\('(\w+)'/g)].map(
    (m) => `dora.${m[1]}`,
  );
  assert.ok(read.length >= 5);
  for (const key of read) assert.ok(pkg.contributes.configuration.properties[key]?.markdownDescription, `${key} is declared and described`);
  assert.ok(
    readFileSync(path.join(ROOT, 'README.md'), 'utf8').includes('`dora.stopTimeoutSeconds`'),
    'the README documents dora.stopTimeoutSeconds',
  );
});

test('publishing: PNG icon of at least 128 px, LICENSE matching the manifest, repository, bugs and homepage', () => {
  const icon = readFileSync(path.join(ROOT, pkg.icon));
  assert.equal(icon.subarray(1, 4).toString('latin1'), 'PNG');
  assert.ok(icon.readUInt32BE(16) >= 128 && icon.readUInt32BE(20) >= 128);
  assert.equal(pkg.license, 'MIT');
  assert.match(readFileSync(path.join(ROOT, 'LICENSE'), 'utf8'), /^MIT License/);
  assert.match(pkg.repository.url, /^https:\/\//);
  assert.match(pkg.bugs.url, /^https:\/\//);
  assert.match(pkg.homepage, /^https:\/\//);
  assert.match(ignore, /^!LICENSE$/m);
  assert.match(ignore, new RegExp(`^!${pkg.icon.replace('.', '\\.')}$`, 'm'));
});

test('README and walkthrough pictures exist and are packaged', () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]);
  const steps = pkg.contributes.walkthroughs[0].steps as Array<{ id: string; media: { image?: string; markdown?: string } }>;
  assert.deepEqual(
    steps.map((s) => s.id),
    ['demo', 'dashboard', 'compare', 'evaluate'],
  );
  const media = steps.map((s) => s.media.image ?? s.media.markdown!);
  assert.ok(images.length >= 6, `README pictures: ${images.join(', ')}`);
  for (const file of [...images, ...media]) {
    assert.ok(!/^https?:/.test(file), `${file} is packaged, not fetched`);
    assert.ok(existsSync(path.join(ROOT, file)), `${file} exists`);
    assert.match(file, /^docs\/images\/[\w-]+\.png$/, `${file} is covered by !docs/images/*.png in .vscodeignore`);
  }
  assert.match(ignore, /^!docs\/images\/\*\.png$/m);
});
