import { isDeepStrictEqual } from 'node:util';
import type { Change } from '@strata/overlay';
import type { Outcome } from './kernel.js';
import type { Scenario } from './scenario.js';
import type { Node } from './tree.js';

export interface Mismatch {
  what: string;
  kernel: unknown;
  strata: unknown;
}

/**
 * Docker's diff computed from two trees (the lowers alone, and the merged view after the
 * ops), the way both sides are compared: A and C only for non-directories, D for the top of
 * every removed subtree. Times are not part of the trees (they are set during the run), so a
 * change of times alone does not count; see `normalise`.
 */
export function treeDiff(lower: Node[], merged: Node[]): string[] {
  const a = new Map(lower.map((n) => [n.path, n]));
  const b = new Map(merged.map((n) => [n.path, n]));
  const out: string[] = [];
  for (const [p, n] of b) {
    if (n.type === 'dir') continue;
    const o = a.get(p);
    if (!o) out.push(`A ${p}`);
    else if (!isDeepStrictEqual(strip(o), strip(n))) out.push(`C ${p}`);
  }
  for (const p of a.keys()) {
    if (b.has(p)) continue;
    const parent = p.slice(0, p.lastIndexOf('/')) || '/';
    // Listed once, at the top of a removed subtree; under a directory replaced by a
    // non-directory the C of that path says it all.
    if (parent === '/' || b.get(parent)?.type === 'dir') out.push(`D ${p}`);
  }
  return out.sort();
}

function strip(n: Node): Omit<Node, 'nlink'> {
  const { nlink: _, ...rest } = n;
  return rest;
}

/**
 * Strata's `diff()` in the same terms: directories' own A/C lines dropped (Strata reports a
 * directory whose times changed or that contains changes, which a tree comparison without
 * times cannot see), and C lines whose only change is a time dropped for the same reason.
 */
function normalise(diff: Change[], lower: Node[], merged: Node[]): string[] {
  const a = new Map(lower.map((n) => [n.path, n]));
  const b = new Map(merged.map((n) => [n.path, n]));
  return diff
    .filter((c) => {
      if (c.kind === 'D') return true;
      const n = b.get(c.path);
      if (!n || n.type === 'dir') return false;
      if (c.kind === 'C') {
        const o = a.get(c.path);
        if (o && isDeepStrictEqual(strip(o), strip(n))) return false;
      }
      return true;
    })
    .map((c) => `${c.kind} ${c.path}`)
    .sort();
}

export function compare(s: Scenario, k: Outcome, st: Outcome & { diff: Change[] }): Mismatch[] {
  const out: Mismatch[] = [];
  s.ops.forEach((op, i) => {
    if (!isDeepStrictEqual(k.ops[i], st.ops[i])) out.push({ what: `op ${i} ${brief(op)}`, kernel: k.ops[i], strata: st.ops[i] });
  });
  const kt = new Map(k.tree.map((n) => [n.path, n]));
  const stt = new Map(st.tree.map((n) => [n.path, n]));
  for (const p of new Set([...kt.keys(), ...stt.keys()])) {
    if (!isDeepStrictEqual(kt.get(p), stt.get(p))) out.push({ what: `merged ${p}`, kernel: kt.get(p) ?? 'absent', strata: stt.get(p) ?? 'absent' });
  }
  if (!isDeepStrictEqual(k.links, st.links)) out.push({ what: 'hard-link groups', kernel: k.links, strata: st.links });
  const kernelDiff = treeDiff(k.lowerTree ?? [], k.tree);
  const strataDiff = normalise(st.diff, st.lowerTree ?? [], st.tree);
  if (!isDeepStrictEqual(kernelDiff, strataDiff)) out.push({ what: 'diff', kernel: kernelDiff, strata: strataDiff });
  return out;
}

/** JSON with long strings (the big writes) cut to their start and length. */
export function brief(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' && v.length > 64 ? `${v.slice(0, 24)}…(${v.length} chars)` : v));
}
