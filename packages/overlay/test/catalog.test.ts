/**
 * Every case of the overlay catalog (../shared/overlay-catalog: the Linux kernel's own
 * answers) replayed against OverlayFs: per-op results and errnos, the merged tree, and the
 * docker diff. Where Strata differs on purpose (it behaves as overlayfs mounted with
 * redirect_dir=on,index=on,xino=on, and a few more, see the README's table), the difference
 * is listed in `differences.ts` with our answer, and the test asserts ours instead.
 */
import { describe, expect, it } from 'vitest';
import { replay } from './catalog/replay.js';
import { scenarioNames } from './catalog/scenario.js';

describe('overlay catalog replayed against OverlayFs', () => {
  const names = scenarioNames();
  it('has all 82 cases', () => {
    expect(names.length).toBe(82);
  });
  for (const name of names) {
    it(name, async () => {
      const mismatches = await replay(name);
      expect(mismatches).toEqual([]);
    });
  }
});
