import type { PackedTest } from '../src/suite-bundle.js';
import { runSuiteTest } from './run-suite-test.js';

// The wasi-testsuite in a Web Worker: one test per message.
self.onmessage = async (e: MessageEvent<PackedTest>) => {
  try {
    self.postMessage(await runSuiteTest(e.data));
  } catch (err) {
    self.postMessage({ name: e.data.name, exitCode: -1, stdout: '', stderr: String(err), syscalls: 0 });
  }
};
