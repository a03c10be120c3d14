import type { PackedTest } from '../src/suite-bundle.js';
import type { SuiteResult } from './run-suite-test.js';

/** Run every packed wasi-testsuite test in one Web Worker; the failures, described. */
export async function runSuiteInWorker(): Promise<{ count: number; failures: string[] }> {
  // Written by the project's globalSetup (src/suite-bundle.ts) before the browser starts.
  const tests = (await (await fetch(new URL('../.generated/wasi-testsuite.json', import.meta.url))).json()) as PackedTest[];
  const worker = new Worker(new URL('./suite-worker.ts', import.meta.url), { type: 'module' });
  const failures: string[] = [];
  try {
    for (const t of tests) {
      const r = await new Promise<SuiteResult>((resolve) => {
        worker.onmessage = (e) => resolve(e.data as SuiteResult);
        worker.postMessage(t);
      });
      const ok = r.syscalls > 0 && r.trap === undefined && r.exitCode === t.exitCode &&
        (t.stdout === undefined || r.stdout.startsWith(t.stdout));
      if (!ok) failures.push(`${t.name}: exit ${r.exitCode}, ${r.syscalls} syscalls, trap ${r.trap ?? '-'}, stderr ${r.stderr.slice(0, 300)}`);
    }
  } finally {
    worker.terminate();
  }
  return { count: tests.length, failures };
}
