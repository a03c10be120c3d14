import { WHITEOUT, type Inode } from './inode.js';
import type { LowerNode } from './merged-lower.js';
import type { OverlayFs } from './overlay-fs.js';

/** One line of `docker diff`: A added, C changed, D deleted. */
export interface Change {
  kind: 'A' | 'C' | 'D';
  /** Absolute path in the container, e.g. `/etc/motd`. */
  path: string;
}

/**
 * What differs between the image (the merged lowers) and the container's merged view, as
 * `docker diff` reports it: a removed subtree once at its top, added subtrees in full,
 * `C` for nodes whose type, contents or metadata changed and for directories that contain
 * changes. Only the upper can differ, so the walk follows the upper and compares against the
 * lower node at the same path; a directory that is not its lower namesake (new over a
 * whiteout, or renamed here) is compared in full.
 */
export function diff(fs: OverlayFs): Change[] {
  const out: Change[] = [];
  walkUpper(fs, fs.rootNode, fs.lower.root, '', out);
  addLinkAliases(fs, out);
  return out;
}

/**
 * A lower hard link stays one inode after copy-up (index=on), so a change made through one
 * name is a change of every name: they are listed too (with their directories), as the
 * committed layer carries them. The kernel's own upper dir shows only the name written to
 * (catalog C59); a tree comparison shows them all, and so does Strata.
 */
function addLinkAliases(fs: OverlayFs, out: Change[]): void {
  const listed = new Set(out.map((c) => c.path));
  for (const node of fs.copiedUpLinks()) {
    const origin = node.origin!;
    if (sameMeta(node, origin) && !dataChanged(node, origin)) continue;
    for (const p of origin.paths!) {
      const path = `/${p}`;
      if (listed.has(path) || !fs.resolvesTo(p, node)) continue;
      out.push({ kind: 'C', path });
      listed.add(path);
      for (let parent = path.slice(0, path.lastIndexOf('/')); parent; parent = parent.slice(0, parent.lastIndexOf('/'))) {
        if (listed.has(parent)) break;
        out.push({ kind: 'C', path: parent });
        listed.add(parent);
      }
    }
  }
}

function walkUpper(fs: OverlayFs, dir: Inode, image: LowerNode | undefined, path: string, out: Change[]): boolean {
  let changed = false;
  for (const [name, e] of dir.entries!) {
    const p = `${path}/${name}`;
    const img = image?.children?.get(name);
    if (e === WHITEOUT) {
      if (img) {
        out.push({ kind: 'D', path: p });
        changed = true;
      }
      continue;
    }
    if (compareNode(fs, e, img, p, out)) changed = true;
  }
  return changed;
}

/** Compare one container node with the image node at the same path; true if it differs. */
function compareNode(fs: OverlayFs, node: Inode, img: LowerNode | undefined, p: string, out: Change[]): boolean {
  if (!img) {
    addAll(fs, node, p, out);
    return true;
  }
  if (node.isDir && img.type === 'dir') {
    const at = out.length;
    out.push({ kind: 'C', path: p });
    let changed: boolean;
    if (node.lowerDir === img && !node.opaque) {
      changed = node.upper ? walkUpper(fs, node, img, p, out) : false;
    } else {
      changed = compareFull(fs, node, img, p, out);
    }
    if (!changed && sameMeta(node, img)) out.splice(at, 1);
    return out.length > at;
  }
  if (!node.upper && node.origin === img) return false;
  if (node.origin === img && node.type === img.type && sameMeta(node, img) && !dataChanged(node, img)) return false;
  out.push({ kind: 'C', path: p });
  if (node.isDir) for (const c of fs.readdir(node.ino)) addAll(fs, fs.node(c.ino), `${p}/${c.name}`, out);
  return true;
}

/** A directory that replaced its image namesake: compare the two listings in full. */
function compareFull(fs: OverlayFs, dir: Inode, img: LowerNode, p: string, out: Change[]): boolean {
  let changed = false;
  const seen = new Set<string>();
  for (const entry of fs.readdir(dir.ino)) {
    seen.add(entry.name);
    const child = fs.child(dir, entry.name)!;
    if (compareNode(fs, child, img.children?.get(entry.name), `${p}/${entry.name}`, out)) changed = true;
  }
  for (const name of img.children?.keys() ?? []) {
    if (!seen.has(name)) {
      out.push({ kind: 'D', path: `${p}/${name}` });
      changed = true;
    }
  }
  return changed;
}

function addAll(fs: OverlayFs, node: Inode, p: string, out: Change[]): void {
  out.push({ kind: 'A', path: p });
  if (!node.isDir) return;
  for (const c of fs.readdir(node.ino)) addAll(fs, fs.child(node, c.name)!, `${p}/${c.name}`, out);
}

function sameMeta(node: Inode, img: LowerNode): boolean {
  return node.mode === img.mode && node.uid === img.uid && node.gid === img.gid &&
    node.mtimeNs === img.mtimeNs && node.target === img.target && node.rdev === img.rdev &&
    sameXattrs(node.xattrs, img.xattrs);
}

function sameXattrs(a: Map<string, Uint8Array> | undefined, b: Record<string, Uint8Array> | undefined): boolean {
  const bKeys = b ? Object.keys(b) : [];
  if ((a?.size ?? 0) !== bKeys.length) return false;
  for (const k of bKeys) {
    const x = a!.get(k);
    const y = b![k]!;
    if (!x || x.length !== y.length || x.some((v, i) => v !== y[i])) return false;
  }
  return true;
}

/**
 * Copied-up file data differs once a chunk was written, the size changed, or a truncate cut
 * into the lower bytes (down and back up: the size is the same, the cut part reads zeros).
 */
function dataChanged(node: Inode, img: LowerNode): boolean {
  if (node.type !== 'file' || !node.data) return false;
  return node.data.size !== img.size || node.data.ownedBytes > 0 || node.data.visibleBase < img.size;
}
