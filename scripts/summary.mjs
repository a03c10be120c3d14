// Turns vitest's JSON report into the one plain line CI reads: `N passed, N failed`.
// Exit status: 1 when anything failed or when no test ran at all (a run of nothing is not green).
import { readFileSync } from 'node:fs';

const [file] = process.argv.slice(2);
let passed = 0, failed = 0, skipped = 0;
try {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  for (const suite of report.testResults ?? []) {
    if (suite.status === 'failed' && (suite.assertionResults ?? []).length === 0) failed++; // file failed to load
    for (const t of suite.assertionResults ?? []) {
      if (t.status === 'passed') passed++;
      else if (t.status === 'failed') failed++;
      else skipped++;
    }
  }
} catch (e) {
  console.error(`cannot read test report ${file}: ${e.message}`);
  failed++;
}
if (passed + failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed ? 1 : 0);
