/**
 * The kernel differential check: random layers and random operation sequences applied to
 * the real overlayfs (mounted redirect_dir=on,index=on,xino=on on tmpfs) and to OverlayFs,
 * compared op by op (errno or result), then the merged tree (types, modes, owners, sizes,
 * content hashes, link targets, file link counts, hard-link groups) and the diff.
 *
 * CI runs a fixed set of seeds; `pnpm fuzz --seed N --count M` runs more. Without root or
 * overlayfs this suite fails, saying so: the oracle is the point, it is never skipped.
 */
import { describe, expect, it } from 'vitest';
import { kernelUnavailable } from '../src/kernel.js';
import { checkSeed, report, shrink, check } from '../src/run.js';

const SEEDS = 320;
const BATCH = 40;

describe('OverlayFs against the kernel overlayfs', () => {
  const unavailable = kernelUnavailable();
  it('has the kernel oracle (root and mount -t overlay)', () => {
    expect(unavailable, `the kernel oracle is unavailable here: ${unavailable}`).toBeUndefined();
  });

  for (let start = 1; start <= SEEDS; start += BATCH) {
    it(`seeds ${start}-${start + BATCH - 1} agree`, async () => {
      if (unavailable) throw new Error(`the kernel oracle is unavailable here: ${unavailable}`);
      process.umask(0o022);
      const failures: string[] = [];
      for (let seed = start; seed < start + BATCH; seed++) {
        const v = await checkSeed(seed);
        if (v.mismatches.length) failures.push(report(await check(await shrink(v.scenario))));
      }
      expect(failures.join('\n\n')).toBe('');
    }, 120_000);
  }
});
