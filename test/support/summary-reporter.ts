// Vitest reporter that ends the run with the plain line CI reads: "N passed, N failed". Every test
// that did not pass counts as failed, unless it was skipped on purpose in a file that passed: a
// test skipped because its file's setup hook failed, a file that failed to load or failed in a
// hook after its tests, and an unhandled error each count.

import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = unhandledErrors.length;
    for (const module of testModules) {
      const moduleFailed = module.state() === 'failed';
      let failedHere = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed' || moduleFailed) failedHere++;
      }
      // the file failed without a test to blame (it did not load, or a hook after its tests failed)
      if (moduleFailed && failedHere === 0) failedHere = 1;
      failed += failedHere;
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
  }
}
