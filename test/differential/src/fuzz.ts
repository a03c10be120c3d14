/**
 * `pnpm fuzz [--seed N] [--count M] [--ops K]`: run M scenarios from seed N against the
 * kernel and OverlayFs; print each disagreement shrunk to its shortest op sequence, then a
 * summary. Exits 1 on any disagreement.
 */
import { parseArgs } from 'node:util';
import { kernelUnavailable } from './kernel.js';
import { check, checkSeed, report, shrink } from './run.js';

const { values } = parseArgs({ options: { seed: { type: 'string', default: '1' }, count: { type: 'string', default: '1000' }, ops: { type: 'string', default: '20' } } });
const unavailable = kernelUnavailable();
if (unavailable) {
  console.error(`fuzz: the kernel oracle is unavailable: ${unavailable}`);
  process.exit(2);
}
process.umask(0o022);
const first = Number(values.seed);
const count = Number(values.count);
let bad = 0;
const t0 = Date.now();
for (let seed = first; seed < first + count; seed++) {
  const v = await checkSeed(seed, Number(values.ops));
  if (v.mismatches.length) {
    bad++;
    console.log(report(await check(await shrink(v.scenario))), '\n');
  }
}
console.log(`${count - bad} of ${count} scenarios agree (seeds ${first}-${first + count - 1}, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
process.exit(bad ? 1 : 0);
