import { Rng } from './prng.js';

/** One entry of a generated layer (paths relative, no leading slash). */
export type LayerItem =
  | { path: string; kind: 'dir'; mode: number; opaque?: boolean }
  | { path: string; kind: 'file'; mode: number; data: string }
  | { path: string; kind: 'symlink'; target: string }
  | { path: string; kind: 'hardlink'; target: string }
  | { path: string; kind: 'whiteout' };

export type Op =
  | { op: 'write' | 'append'; path: string; data: string }
  | { op: 'truncate'; path: string; size: number }
  | { op: 'mkdir' | 'rmdir' | 'unlink' | 'stat' | 'readdir' | 'read'; path: string }
  | { op: 'rename' | 'link'; src: string; dst: string }
  | { op: 'symlink'; target: string; path: string }
  | { op: 'chmod'; path: string; mode: number };

export interface Scenario {
  seed: number;
  layers: LayerItem[][];
  ops: Op[];
}

const NAMES = ['a', 'b', 'c', 'd'];
const DIR_MODES = [0o755, 0o700, 0o775];
const FILE_MODES = [0o644, 0o600, 0o755];

/**
 * Random lower layers and a random operation sequence. Paths come from a small name pool at
 * depth ≤ 3 so operations often meet each other and the layers (copy-up, whiteouts, opaque
 * directories, renames of merged directories). Symlink targets are sibling names only:
 * the kernel resolves `..` and absolute targets on the host, above its mount.
 */
export function generate(seed: number, opCount = 20): Scenario {
  const r = new Rng(seed);
  const known = new Set<string>();
  const dirs = new Set<string>(['']);
  const randomPath = (): string => {
    const parents = [...dirs];
    const parent = r.pick(parents);
    const name = r.pick(NAMES);
    return parent ? `${parent}/${name}` : name;
  };
  const layers: LayerItem[][] = [];
  // Hard-linked paths of lower layers (and their parents) are never replaced or whited out
  // by a later layer: with index=on the kernel verifies lower hard links against its index
  // and answers ENOENT for names whose inode a later layer shadowed, a state no real image
  // build produces (a layer that replaces one name replaces what it links to as well).
  const frozen = new Set<string>();
  // What the lowers so far show: a whiteout is only written for a name that exists below
  // (the kernel lists a whiteout that hides nothing in a non-merged directory).
  const live = new Set<string>();
  const drop = (p: string) => {
    for (const x of [...live]) if (x === p || x.startsWith(`${p}/`)) live.delete(x);
  };
  const layerCount = 2 + r.int(3);
  for (let l = 0; l < layerCount; l++) {
    const items: LayerItem[] = [];
    const used = new Set<string>();
    const n = 3 + r.int(6);
    for (let i = 0; i < n; i++) {
      const path = randomPath();
      if (used.has(path) || [...used].some((u) => path.startsWith(`${u}/`) || u.startsWith(`${path}/`))) continue;
      if (frozen.has(path)) continue;
      const roll = r.next();
      if (l > 0 && roll < 0.15 && live.has(path)) {
        items.push({ path, kind: 'whiteout' });
        drop(path);
      } else if (roll < 0.45 && path.split('/').length < 3) {
        const opaque = l > 0 && r.chance(0.25);
        items.push({ path, kind: 'dir', mode: r.pick(DIR_MODES), ...(opaque ? { opaque: true } : {}) });
        if (opaque) drop(path);
        dirs.add(path);
        live.add(path);
        // Give a new directory something inside, so merging and opacity are visible.
        const child = `${path}/${r.pick(NAMES)}`;
        items.push({ path: child, kind: 'file', mode: r.pick(FILE_MODES), data: `L${l}:${child}` });
        used.add(child);
        known.add(child);
        live.add(child);
      } else if (roll < 0.8) {
        items.push({ path, kind: 'file', mode: r.pick(FILE_MODES), data: `L${l}:${path}:${'x'.repeat(r.int(40))}` });
      } else if (roll < 0.9) {
        items.push({ path, kind: 'symlink', target: r.pick(NAMES) });
      } else {
        const earlier = items.find((it) => it.kind === 'file' && it.path !== path);
        if (earlier) {
          items.push({ path, kind: 'hardlink', target: earlier.path });
          for (const p of [path, earlier.path]) {
            const parts = p.split('/');
            for (let k = 1; k <= parts.length; k++) frozen.add(parts.slice(0, k).join('/'));
          }
        } else {
          items.push({ path, kind: 'file', mode: 0o644, data: `L${l}` });
        }
      }
      used.add(path);
      known.add(path);
      const last = items[items.length - 1];
      if (last && last.path === path && last.kind !== 'whiteout') {
        // A non-directory replaces whatever was there, children included.
        if (last.kind !== 'dir') drop(path);
        live.add(path);
        const parts = path.split('/');
        for (let k = 1; k < parts.length; k++) live.add(parts.slice(0, k).join('/'));
      }
    }
    layers.push(items);
  }
  const ops: Op[] = [];
  // Now and then a write past the overlay's 64 KiB chunks (and a truncate that extends into
  // them), so whole chunks are written, freed by unlink or truncate, and reused.
  const data = (tag: string) => (r.chance(0.1) ? tag.padEnd(50_000 + r.int(150_000), tag) : tag);
  const anyPath = () => (known.size && r.chance(0.8) ? r.pick([...known]) : randomPath());
  for (let i = 0; i < opCount; i++) {
    const path = anyPath();
    switch (r.int(13)) {
      case 0: ops.push({ op: 'write', path, data: data(`w${i}`) }); known.add(path); break;
      case 1: ops.push({ op: 'append', path, data: data(`+${i}`) }); known.add(path); break;
      case 2: ops.push({ op: 'truncate', path, size: r.chance(0.2) ? 60_000 + r.int(140_000) : r.int(8) }); break;
      case 3: ops.push({ op: 'mkdir', path }); known.add(path); dirs.add(path); break;
      case 4: ops.push({ op: 'rmdir', path }); break;
      case 5: ops.push({ op: 'unlink', path }); break;
      case 6: { const dst = anyPath(); ops.push({ op: 'rename', src: path, dst }); known.add(dst); break; }
      case 7: { const dst = randomPath(); ops.push({ op: 'link', src: path, dst }); known.add(dst); break; }
      case 8: ops.push({ op: 'symlink', target: r.pick(NAMES), path }); known.add(path); break;
      case 9: ops.push({ op: 'chmod', path, mode: r.pick([...FILE_MODES, ...DIR_MODES]) }); break;
      case 10: ops.push({ op: 'stat', path }); break;
      case 11: ops.push({ op: 'readdir', path }); break;
      default: ops.push({ op: 'read', path }); break;
    }
  }
  return { seed, layers, ops };
}
