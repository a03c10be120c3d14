import type { ContentRef, LayerEntry, LayerIndex } from '@strata/store';

/**
 * The read-only lowers of an overlay, flattened once into one tree.
 *
 * The kernel walks every lower layer on a lookup miss; with 500 layers that is 500 probes.
 * Lowers never change, so Strata applies them once, bottom to top, with the OCI changeset
 * rules (whiteouts delete, opaque directories drop what lies below, a non-directory replaces
 * a directory), and keeps the result: a lookup is then one map probe whatever the depth.
 * The result is cached per chain of LayerIndex objects (by identity), so every container on
 * the same image shares one tree and the same inode numbers.
 */
export interface LowerNode {
  /** Inode number: unique across the chain, deterministic for the same chain. */
  readonly ino: number;
  readonly type: LayerEntry['type'];
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtimeNs: bigint;
  readonly size: number;
  readonly content?: ContentRef;
  readonly target?: string;
  readonly rdev?: number;
  readonly xattrs?: Record<string, Uint8Array>;
  /** Names of the same inode in its layer (tar hard links); 1 otherwise. */
  readonly nlink: number;
  /** Directories: children in first-seen order. */
  readonly children?: Map<string, LowerNode>;
  /** Directories: how many layers contribute (the kernel reports nlink 1 when more than one). */
  readonly depth: number;
  /** Hard-link group: every path of this inode in the merged lower (set when nlink > 1). */
  readonly paths?: string[];
}

interface MutableLowerNode {
  ino: number;
  type: LayerEntry['type'];
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  size: number;
  content?: ContentRef | undefined;
  target?: string | undefined;
  rdev?: number | undefined;
  xattrs?: Record<string, Uint8Array> | undefined;
  nlink: number;
  children?: Map<string, MutableLowerNode> | undefined;
  depth: number;
  paths?: string[] | undefined;
}

export interface MergedLower {
  readonly root: LowerNode;
  /** The largest inode number used; upper inodes are allocated above it. */
  readonly maxIno: number;
  /** The layers, bottom first, as given. */
  readonly layers: readonly LayerIndex[];
}

interface CacheNode {
  merged?: MergedLower;
  next: WeakMap<LayerIndex, CacheNode>;
}
const cache: CacheNode = { next: new WeakMap() };

/** The flattened view of `layers` (bottom first); computed once per chain. */
export function mergeLowers(layers: readonly LayerIndex[]): MergedLower {
  let node = cache;
  for (const layer of layers) {
    let next = node.next.get(layer);
    if (!next) node.next.set(layer, (next = { next: new WeakMap() }));
    node = next;
  }
  return (node.merged ??= flatten(layers));
}

const ROOT_INO = 1;

function emptyRoot(): MutableLowerNode {
  return {
    ino: ROOT_INO, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtimeNs: 0n, size: 0, nlink: 1,
    children: new Map(), depth: 0,
  };
}

function flatten(layers: readonly LayerIndex[]): MergedLower {
  let nextIno = ROOT_INO + 1;
  const root = emptyRoot();
  for (const layer of layers) {
    const groupNodes = new Map<number, MutableLowerNode>();
    const groupCounts = new Map<number, number>();
    for (const e of layer.entries.values()) {
      if (e.linkGroup !== undefined) groupCounts.set(e.linkGroup, (groupCounts.get(e.linkGroup) ?? 0) + 1);
    }
    // Opaque markers apply to what lies below this layer, wherever the marker stood in the tar.
    for (const [path, e] of layer.entries) {
      if (!e.opaque) continue;
      const dir = find(root, path);
      if (dir?.children) {
        dir.children.clear();
        // Only this layer (and those above) contribute now: not a merged directory.
        dir.depth = 0;
      }
    }
    for (const [path, e] of layer.entries) {
      if (path === '') {
        // An implicit root still gives the first layer's attributes to a root nobody set.
        if (!e.implicit || root.depth === 0) assignAttrs(root, e);
        root.depth++;
        continue;
      }
      const slash = path.lastIndexOf('/');
      const parent = slash < 0 ? root : find(root, path.slice(0, slash));
      // The importer adds every missing parent, so a missing or non-dir parent only happens
      // when a whiteout or a later entry of the same layer removed it: nothing to apply.
      if (!parent?.children) continue;
      const name = path.slice(slash + 1);
      const existing = parent.children.get(name);
      if (e.type === 'whiteout') {
        parent.children.delete(name);
        continue;
      }
      if (e.type === 'dir' && existing?.type === 'dir') {
        if (!e.implicit) assignAttrs(existing, e);
        existing.depth++;
        continue;
      }
      let node: MutableLowerNode | undefined;
      if (e.linkGroup !== undefined) node = groupNodes.get(e.linkGroup);
      if (node) {
        (node.paths ??= []).push(path);
      } else {
        node = {
          ino: nextIno++, type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, mtimeNs: e.mtimeNs,
          size: e.size, nlink: e.linkGroup !== undefined ? (groupCounts.get(e.linkGroup) ?? 1) : 1,
          depth: 1,
        };
        if (e.content) node.content = e.content;
        if (e.target !== undefined) node.target = e.target;
        if (e.rdev !== undefined) node.rdev = e.rdev;
        if (e.xattrs) node.xattrs = e.xattrs;
        if (e.type === 'dir') node.children = new Map();
        if (e.linkGroup !== undefined) {
          groupNodes.set(e.linkGroup, node);
          if (node.nlink > 1) node.paths = [path];
        }
      }
      parent.children.set(name, node);
    }
  }
  return { root: compact(root), maxIno: nextIno - 1, layers };
}

/**
 * Rebuild the flattened tree depth-first with one object shape for every node. Layers
 * interleave their nodes in memory and give them different optional fields; after this a
 * directory's children sit together and every property access is monomorphic, so a lookup
 * through 500 layers costs what it costs through one.
 */
function compact(root: MutableLowerNode): MutableLowerNode {
  const copies = new Map<MutableLowerNode, MutableLowerNode>();
  const copy = (n: MutableLowerNode): MutableLowerNode => {
    let c = copies.get(n);
    if (c) return c;
    c = {
      ino: n.ino, type: n.type, mode: n.mode, uid: n.uid, gid: n.gid, mtimeNs: n.mtimeNs, size: n.size,
      content: n.content, target: n.target, rdev: n.rdev, xattrs: n.xattrs, nlink: n.nlink,
      children: undefined, depth: n.depth, paths: n.paths,
    };
    copies.set(n, c);
    if (n.children) {
      const children = new Map<string, MutableLowerNode>();
      for (const [name, child] of n.children) children.set(name, copy(child));
      c.children = children;
    }
    return c;
  };
  return copy(root);
}

function assignAttrs(node: MutableLowerNode, e: LayerEntry): void {
  node.mode = e.mode;
  node.uid = e.uid;
  node.gid = e.gid;
  node.mtimeNs = e.mtimeNs;
  if (e.xattrs) node.xattrs = e.xattrs;
  else delete node.xattrs;
}

function find(root: MutableLowerNode, path: string): MutableLowerNode | undefined {
  if (path === '') return root;
  let node: MutableLowerNode | undefined = root;
  for (const name of path.split('/')) {
    node = node.children?.get(name);
    if (!node) return undefined;
  }
  return node;
}

/** The lower node at `path` ('' = root, no leading slash), if visible in the merged lower. */
export function findLower(lower: MergedLower, path: string): LowerNode | undefined {
  return find(lower.root as MutableLowerNode, path);
}

/** Where a lower node sits: its parent directory (absent for the root) and its name. */
export interface LowerPlace {
  node: LowerNode;
  parent?: LowerNode;
  name: string;
}

const byInoCache = new WeakMap<MergedLower, Map<number, LowerPlace>>();

/**
 * Every lower node by inode number, with its first place in the tree (built on first use:
 * to resolve a NodeId that was listed by readdir but never looked up, and to restore a
 * saved upper).
 */
export function lowerByIno(lower: MergedLower): Map<number, LowerPlace> {
  let map = byInoCache.get(lower);
  if (!map) {
    map = new Map([[lower.root.ino, { node: lower.root, name: '' }]]);
    const stack: LowerNode[] = [lower.root];
    while (stack.length) {
      const dir = stack.pop()!;
      for (const [name, c] of dir.children!) {
        if (!map.has(c.ino)) map.set(c.ino, { node: c, parent: dir, name });
        if (c.children) stack.push(c);
      }
    }
    byInoCache.set(lower, map);
  }
  return map;
}
