// Compiles the wasm SIMD kernels (kernels/wasm/*.ts, AssemblyScript from npm: no download at build time) twice:
// dist/kernels/dora-simd-relaxed.wasm (relaxed SIMD: fused multiply-add) and dist/kernels/dora-simd.wasm (SIMD128).
// The module imports TF.js-wasm's memory, so it must not have data segments or globals that would write into it:
// the check below fails the build if it ever does.
import asc from 'assemblyscript/asc';
import { mkdirSync, readFileSync } from 'node:fs';

const common = ['kernels/wasm/index.ts', '-O3', '--noAssert', '--runtime', 'stub', '--importMemory', '--use', 'abort=', '--enable', 'simd'];
const flavours = [
  { out: 'dist/kernels/dora-simd-relaxed.wasm', extra: ['--enable', 'relaxed-simd'] },
  { out: 'dist/kernels/dora-simd.wasm', extra: [] },
];

/** Section ids of a wasm binary (data = 11, global = 6, start = 8). */
function sectionIds(bytes) {
  const ids = [];
  let i = 8;
  while (i < bytes.length) {
    const id = bytes[i++];
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[i++];
      size |= (b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    ids.push(id);
    i += size;
  }
  return ids;
}

export async function buildWasmKernels() {
  mkdirSync('dist/kernels', { recursive: true });
  for (const f of flavours) {
    let log = '';
    const sink = { write: (s) => ((log += s), true) };
    const { error } = await asc.main([...common, ...f.extra, '-o', f.out], { stdout: sink, stderr: sink });
    if (error) throw new Error(`AssemblyScript build of ${f.out} failed: ${error.message}\n${log}`);
    const bad = sectionIds(readFileSync(f.out)).filter((id) => id === 6 || id === 8 || id === 11);
    if (bad.length > 0) throw new Error(`${f.out} has global/start/data sections (${bad}); it would write into TF.js' heap`);
  }
  return flavours.map((f) => f.out);
}
