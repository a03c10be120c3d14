/**
 * The official wasi-testsuite (preview1: Rust, C and AssemblyScript programs) on Strata, each
 * on an overlay root built from its fixture directory. The goal is all of them, with no skip
 * list. These programs check themselves and report failure by trapping or exiting non-zero,
 * so a harness that never ran them would pass most: each run must also show the syscalls the
 * module made, and the suite must have its 72 tests.
 */
import { describe, expect, it } from 'vitest';
import { runOnStrata } from '../src/run-strata.js';
import { loadSuite } from '../src/suite.js';

const tests = loadSuite();

describe('wasi-testsuite on Strata', () => {
  it('finds the 72 preview1 tests', () => {
    expect(tests.length).toBe(72);
  });

  for (const t of tests) {
    it(t.name, async () => {
      const r = await runOnStrata(t);
      expect(r.syscalls, 'the module made no syscall: it did not run').toBeGreaterThan(0);
      expect({ exitCode: r.exitCode, trap: r.trap, stderr: r.stderr.slice(0, 2000) }).toEqual({ exitCode: t.exitCode, trap: undefined, stderr: r.exitCode === t.exitCode ? r.stderr.slice(0, 2000) : '' });
      if (t.stdout !== undefined) expect(r.stdout.slice(0, t.stdout.length)).toBe(t.stdout);
    });
  }
});
