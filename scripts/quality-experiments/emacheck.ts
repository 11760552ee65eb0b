// Experiment helper: how far teacher and student moved from the shared init (backbone only).
import { initBackend } from '../../src/trainer/backend';
import { loadCheckpointEncoder, randomInitEncoder } from '../../src/trainer/eval/encoder';
async function main() {
  await initBackend('wasm');
  const enc = await loadCheckpointEncoder(process.argv[2]);
  const init = randomInitEncoder(enc.config);
  let dt = 0,
    ds = 0,
    dts = 0,
    n0 = 0;
  for (const [name, t] of enc.state.teacher) {
    if (!name.startsWith('backbone.')) continue;
    const a = t.dataSync(),
      s = enc.state.student.get(name)!.dataSync(),
      i = init.state.teacher.get(name)!.dataSync();
    for (let j = 0; j < a.length; j++) {
      dt += (a[j] - i[j]) ** 2;
      ds += (s[j] - i[j]) ** 2;
      dts += (a[j] - s[j]) ** 2;
      n0 += i[j] ** 2;
    }
  }
  console.log(
    `${enc.label}: |init|=${Math.sqrt(n0).toFixed(2)} |teacher-init|=${Math.sqrt(dt).toFixed(3)} |student-init|=${Math.sqrt(ds).toFixed(3)} |teacher-student|=${Math.sqrt(dts).toFixed(3)}`,
  );
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
