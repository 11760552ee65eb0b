// Loaded by VS Code's extension host through the URL payload (extensionTestsPath): runs the mocha
// suite and reports the plain "N passed, N failed" line the driver reads.
import { writeFileSync } from 'node:fs';
import Mocha from 'mocha';
import { registerSuite } from './extensionHost.suite';
import { registerExperimentsSuite } from './experiments.suite';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', timeout: 60_000, color: false, reporter: 'spec' });
  mocha.suite.emit('pre-require', globalThis, 'extensionHost.suite', mocha);
  registerSuite();
  registerExperimentsSuite();
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const passes = runner.stats?.passes ?? 0;
      console.log(`${passes} passed, ${failures} failed`);
      if (process.env.DORA_TEST_RESULTS) writeFileSync(process.env.DORA_TEST_RESULTS, JSON.stringify({ passes, failures }));
      if (failures) reject(new Error(`${failures} tests failed.`));
      else resolve();
    });
  });
}
