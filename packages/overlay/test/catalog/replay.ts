import type { LayerIndex } from '@strata/store';
import { isDeepStrictEqual } from 'node:util';
import { OverlayFs } from '../../src/index.js';
import { DIFFERENCES } from './differences.js';
import { dirLayer, TestContent, type DirLayerSpec, type OciLayerSpec } from './layers.js';
import { ociLayer } from './oci-layers.js';
import { U01_LAYERS } from './u01.js';
import { OpRunner } from './ops.js';
import { loadCase, type Scenario } from './scenario.js';
import { walkTree, type TreeEntry } from './tree.js';

export interface Mismatch {
  check: string;
  expected: unknown;
  actual: unknown;
  note?: string;
}

/** Replay one catalog case; returns what differs from the kernel (minus listed differences). */
export async function replay(name: string): Promise<Mismatch[]> {
  const { scenario, expected } = loadCase(name);
  const checks: Mismatch[] = [];
  const content = new TestContent();
  const lowers = await buildLayers(scenario, content);
  const runStart = BigInt(Date.now()) * 1_000_000n;
  let fs: OverlayFs;
  try {
    fs = new OverlayFs({ lowers, content });
    checks.push({ check: 'mount', expected: expected.mount_error ?? 'ok', actual: 'ok' });
  } catch (e) {
    checks.push({ check: 'mount', expected: expected.mount_error ?? 'ok', actual: (e as { code?: string }).code ?? String(e) });
    return settle(name, checks);
  }
  if (expected.mount_error) return settle(name, checks);

  const runner = new OpRunner(fs);
  let upper = fs;
  scenario.ops.forEach((op, i) => {
    if (op.op === 'remount') {
      runner.closeAll();
      upper = remount(upper, lowers, content);
      runner.fs = upper;
      checks.push({ check: `op ${i}`, expected: { ok: true }, actual: { ok: true } });
      return;
    }
    const got = runner.run(op);
    const want = expected.ops?.[i];
    const wantView: Record<string, unknown> = { ok: want?.ok };
    const gotView: Record<string, unknown> = { ok: got.ok };
    if (want?.errno || got.errno) {
      wantView.errno = want?.errno ?? null;
      gotView.errno = got.errno ?? null;
    }
    if (want?.result) {
      wantView.result = want.result;
      gotView.result = pick(got.result ?? {}, Object.keys(want.result));
    }
    checks.push({ check: `op ${i} ${op.op}`, expected: wantView, actual: gotView });
  });

  if (expected.merged) {
    const ours = new Map(walkTree(upper, runStart).map((e) => [e.path, e]));
    const theirs = new Map(expected.merged.map((e) => [e.path, e]));
    for (const [path, want] of theirs) {
      const got = ours.get(path);
      checks.push({ check: `merged ${path}`, expected: withoutGroup(want), actual: got ? pick(withoutGroup(got), Object.keys(withoutGroup(want))) : 'missing' });
    }
    for (const path of ours.keys()) if (!theirs.has(path)) checks.push({ check: `merged ${path}`, expected: 'absent', actual: 'present' });
    checks.push({ check: 'hard-link groups', expected: groupsOf(expected.merged), actual: groupsOf([...ours.values()]) });
  }
  if (expected.changes) {
    const mine = upper.diff().map((c) => [c.kind, c.path]).sort(byPath);
    checks.push({ check: 'changes', expected: [...expected.changes].sort(byPath), actual: mine });
  }
  return settle(name, checks);
}

/** Keep the checks that fail; a listed difference replaces the kernel's answer with ours. */
function settle(name: string, checks: Mismatch[]): Mismatch[] {
  const listed = DIFFERENCES[name] ?? [];
  const out: Mismatch[] = [];
  for (const c of checks) {
    const d = listed.find((x) => x.check === c.check);
    if (d) {
      if (isDeepStrictEqual(c.expected, c.actual)) out.push({ ...c, note: 'listed as a difference, but Strata now agrees with the kernel' });
      else if (!isDeepStrictEqual(c.actual, d.ours)) out.push({ check: c.check, expected: d.ours, actual: c.actual, note: `listed difference (${d.why})` });
      continue;
    }
    if (!isDeepStrictEqual(c.expected, c.actual)) out.push(c);
  }
  for (const d of listed) if (!checks.some((c) => c.check === d.check)) out.push({ check: d.check, expected: d.ours, actual: 'no such check' });
  return out;
}

async function buildLayers(scenario: Scenario, content: TestContent): Promise<LayerIndex[]> {
  const out: LayerIndex[] = [];
  for (const [i, spec] of scenario.layers.entries()) {
    if ('oci_tar' in spec) {
      // Only U01 names blobs; the catalog ships their listing, rebuilt in u01.ts.
      const rebuilt = scenario.name === 'U01' ? U01_LAYERS[i] : undefined;
      if (!rebuilt) throw new Error(`${scenario.name}: layer ${i} is a tar blob the catalog does not ship`);
      out.push(await ociLayer({ format: 'oci', entries: rebuilt.entries }, content, rebuilt.tar));
      continue;
    }
    if ((spec as OciLayerSpec).format === 'oci') out.push(await ociLayer(spec as OciLayerSpec, content));
    else out.push(dirLayer(spec as DirLayerSpec, content, i + 1));
  }
  return out;
}

/** A remount: the same upper over the same lowers, through the persisted form. */
function remount(fs: OverlayFs, lowers: LayerIndex[], content: TestContent): OverlayFs {
  return OverlayFs.restore({ lowers, content }, fs.saveUpper());
}

function pick(o: object, keys: string[]): Record<string, unknown> {
  const src = o as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of keys) if (k in src) out[k] = src[k];
  return out;
}

function withoutGroup(e: TreeEntry): Record<string, unknown> {
  const { link_group: _, ...rest } = e;
  return rest;
}

function groupsOf(entries: TreeEntry[]): string[][] {
  const g = new Map<string, string[]>();
  for (const e of entries) if (e.link_group !== undefined) g.set(e.link_group, [...(g.get(e.link_group) ?? []), e.path]);
  return [...g.values()].map((paths) => paths.sort()).filter((p) => p.length > 1).sort();
}

function byPath(a: string[], b: string[]): number {
  return a[1]! < b[1]! ? -1 : a[1]! > b[1]! ? 1 : 0;
}
