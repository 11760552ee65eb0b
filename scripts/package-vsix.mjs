// npm run package [-- --universal] [-- --no-build]: builds the bundles, then a .vsix with vsce.
// Run-time node_modules files are whitelisted in .vscodeignore (see there). By default the package is
// platform-specific (`--target <platform>-<arch>`) and carries only this platform's Dawn (webgpu)
// binary; --universal keeps all five (+100 MB).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const universal = process.argv.includes('--universal');
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const arch = process.platform === 'darwin' ? 'universal' : process.arch;
const dawnDir = `${process.platform}-${arch}`;
const target = process.platform === 'darwin' ? 'darwin-x64' : `${process.platform === 'win32' ? 'win32' : 'linux'}-${process.arch}`;

// --no-build: the integration tests package what `npm test` has just built.
if (!process.argv.includes('--no-build')) execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });

const outDir = '.vscode-test/vsix';
mkdirSync(outDir, { recursive: true });
const ignoreFile = join(outDir, '.vscodeignore.generated');
let rules = readFileSync('.vscodeignore', 'utf8');
// vsce applies every ignore rule before any negation, so narrow the negation itself.
if (!universal) rules = rules.replace('!node_modules/webgpu/dist/**', `!node_modules/webgpu/dist/${dawnDir}/**`);
writeFileSync(ignoreFile, rules);

const out = join(outDir, `${pkg.name}-${pkg.version}${universal ? '' : `-${target}`}.vsix`);
const vsce = join('node_modules', '.bin', process.platform === 'win32' ? 'vsce.cmd' : 'vsce');
const args = [
  'package',
  '--no-yarn',
  // README pictures: vsce rewrites the relative links to absolute https URLs of the repository
  // (<repository>/raw/HEAD/docs/images/…), the only form the Marketplace and VS Code's extension page show (a relative
  // link does not resolve there, even for a packaged file). The pictures are packaged too: the walkthrough uses them.
  '--baseImagesUrl',
  `${pkg.repository.url.replace(/\.git$/, '')}/raw/HEAD/`,
  '--baseContentUrl',
  `${pkg.repository.url.replace(/\.git$/, '')}/blob/HEAD/`,
  '--ignoreFile',
  ignoreFile,
  '--out',
  out,
];
if (!universal) args.push('--target', target);
execFileSync(vsce, args, { stdio: 'inherit' });
console.log(`vsix: ${out}`);
