import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readSnapshotManifest } from '../../../src/core/node/runDir';
import { contentSecurityPolicy, makeNonce, webviewShellHtml } from '../../../src/host/shared/webviewHtml';
import { isInsideFolder, snapshotRelativeFiles, snapshotUriMap } from '../../../src/host/shared/snapshotUris';
import { FIXTURE_RUN_DIR } from '../helpers';

const CSP_SOURCE = 'https://*.vscode-cdn.net';

test('the CSP is exactly the strict nonce policy', () => {
  assert.equal(
    contentSecurityPolicy(CSP_SOURCE, 'abc'),
    `default-src 'none'; img-src ${CSP_SOURCE} data: blob:; style-src ${CSP_SOURCE}; font-src ${CSP_SOURCE}; ` +
      `script-src 'nonce-abc'; connect-src ${CSP_SOURCE}`,
  );
});

test('nonces are fresh and alphanumeric', () => {
  const nonces = new Set(Array.from({ length: 50 }, makeNonce));
  assert.equal(nonces.size, 50);
  for (const n of nonces) assert.match(n, /^[A-Za-z0-9]{16,}$/);
});

test('the shell loads the bundle with the nonce and nothing inline', () => {
  const html = webviewShellHtml({
    title: 'DoRA: <run>',
    view: 'dashboard',
    cspSource: CSP_SOURCE,
    nonce: 'N0NCE',
    scriptUri: 'https://x/media/dashboard.js',
    styleUris: ['https://x/media/dashboard.css'],
    bodyData: { runDir: '/runs/"a"' },
  });
  assert.match(html, /<script nonce="N0NCE" src="https:\/\/x\/media\/dashboard.js"><\/script>/);
  assert.equal((html.match(/<script/g) ?? []).length, 1);
  assert.doesNotMatch(html, /style="/);
  assert.match(html, /<title>DoRA: &lt;run&gt;<\/title>/);
  assert.match(html, /data-run-dir="\/runs\/&quot;a&quot;"/);
});

test('a missing bundle shows the cause and the fix instead of a blank panel', () => {
  const html = webviewShellHtml({
    title: 't',
    view: 'compare',
    cspSource: CSP_SOURCE,
    nonce: 'n',
    scriptUri: '',
    styleUris: [],
    missingBundleMessage: '/ext/media/compare.js is missing. Fix: run `npm run build`.',
  });
  assert.doesNotMatch(html, /<script/);
  assert.match(html, /compare\.js is missing\. Fix: run `npm run build`/);
});

test('every file of a real snapshot gets a webview URI; paths leaving the folder are dropped', async () => {
  const manifest = (await readSnapshotManifest(FIXTURE_RUN_DIR, 225))!;
  const files = snapshotRelativeFiles(manifest);
  assert.equal(files.length, manifest.clips.length * (manifest.framesPerClip + 3));
  const uris = snapshotUriMap(manifest, '/snap', (p) => `vscode-resource:${p}`);
  assert.equal(uris['clip-00/frame-00.png'], 'vscode-resource:/snap/clip-00/frame-00.png');
  const evil = { ...manifest, clips: [{ ...manifest.clips[0], frames: ['../../../etc/passwd', '/etc/shadow'] }] };
  const evilUris = snapshotUriMap(evil, '/snap', (p) => p);
  assert.equal(evilUris['../../../etc/passwd'], undefined);
  assert.equal(evilUris['/etc/shadow'], undefined);
  assert.equal(isInsideFolder('/snap', 'clip-00/a.png'), true);
  assert.equal(isInsideFolder('/snap', '..'), false);
});
