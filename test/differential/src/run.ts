import { brief, compare, type Mismatch } from './compare.js';
import { runKernel } from './kernel.js';
import { generate, type Op, type Scenario } from './scenario.js';
import { runStrata } from './strata.js';

export interface Verdict {
  scenario: Scenario;
  mismatches: Mismatch[];
}

/** Run one scenario on both sides and compare. */
export async function check(s: Scenario): Promise<Verdict> {
  const kernel = runKernel(s);
  const strata = await runStrata(s);
  return { scenario: s, mismatches: compare(s, kernel, { ...strata, diff: strata.fs.diff() }) };
}

export async function checkSeed(seed: number, ops = 20): Promise<Verdict> {
  return check(generate(seed, ops));
}

/**
 * Shrink a failing scenario: drop operations one at a time while it still fails (a simple
 * delta-debugging pass), so a report shows the shortest sequence that disagrees.
 */
export async function shrink(s: Scenario): Promise<Scenario> {
  let cur = s;
  let changed = true;
  while (changed) {
    changed = false;
    for (let i = 0; i < cur.ops.length; i++) {
      const ops: Op[] = cur.ops.filter((_, j) => j !== i);
      const cand = { ...cur, ops };
      if ((await check(cand)).mismatches.length > 0) {
        cur = cand;
        changed = true;
        break;
      }
    }
  }
  return cur;
}

export function report(v: Verdict): string {
  return [
    `seed ${v.scenario.seed}: ${v.mismatches.length} mismatch(es)`,
    `layers: ${brief(v.scenario.layers)}`,
    `ops: ${brief(v.scenario.ops)}`,
    ...v.mismatches.map((m) => `  ${m.what}\n    kernel: ${brief(m.kernel)}\n    strata: ${brief(m.strata)}`),
  ].join('\n');
}

