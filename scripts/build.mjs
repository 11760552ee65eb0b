// Bundles the three Node entry points with esbuild: the extension host, the trainer child process and the CLI.
// TF.js and its backends stay external: their .wasm files and native addons are resolved from node_modules at run time.
import { build } from 'esbuild';
import { chmodSync, copyFileSync, existsSync } from 'node:fs';

const external = [
  'vscode',
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-backend-webgpu',
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  'webgpu',
  '@ffmpeg-installer/ffmpeg',
];

const entries = [
  { in: 'src/host/extension.ts', out: 'dist/extension.js' },
  { in: 'src/trainer/childMain.ts', out: 'dist/trainer.js' },
  { in: 'src/trainer/cli.ts', out: 'dist/cli.js', banner: '#!/usr/bin/env node' },
  // Worker thread of the frame-cache decode pool (src/trainer/data/compactCache/decodePool.ts).
  { in: 'src/trainer/data/compactCache/decodeWorker.ts', out: 'dist/decodeWorker.js' },
];

for (const e of entries) {
  if (!existsSync(e.in)) continue;
  await build({
    entryPoints: [e.in],
    outfile: e.out,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    external,
    logLevel: 'warning',
    banner: e.banner ? { js: e.banner } : undefined,
  });
  if (e.banner) chmodSync(e.out, 0o755);
}
// The JPEG decoder's WebAssembly (@jsquash/jpeg, libjpeg-turbo/mozjpeg), loaded next to the bundles at run time.
copyFileSync('node_modules/@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm', 'dist/mozjpeg_dec.wasm');

// Webview bundles: browser IIFEs (plus the CSS they import) loaded by the panels under a strict nonce CSP,
// so no eval, no code splitting (each view is one <script>), and no Node built-ins.
const webviewEntries = [
  { in: 'webview/dashboard/main.ts', out: 'media/dashboard.js' },
  { in: 'webview/compare/main.ts', out: 'media/compare.js' },
];
for (const e of webviewEntries) {
  if (!existsSync(e.in)) continue;
  await build({
    entryPoints: [e.in],
    outfile: e.out,
    bundle: true,
    platform: 'browser',
    target: ['chrome120'],
    format: 'iife',
    minify: process.env.DORA_DEV !== '1',
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
}

const built = [...entries, ...webviewEntries].filter((e) => existsSync(e.in)).map((e) => e.out);
console.log(`built ${built.join(', ')}`);
