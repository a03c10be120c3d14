import type { FileType } from '@strata/syncfs';
import { WHITEOUT, type Inode } from './inode.js';
import type { LowerNode } from './merged-lower.js';
import type { OverlayFs } from './overlay-fs.js';

/**
 * One entry of the OCI layer changeset an upper turns into (image-spec layer.md), in tar
 * order: a directory always comes before what it contains.
 */
export type ChangesetEntry =
  | { kind: 'whiteout'; path: string }
  | { kind: 'opaque'; path: string }
  | { kind: 'node'; path: string; node: Inode; type: FileType }
  | { kind: 'hardlink'; path: string; node: Inode; target: string };

/**
 * The upper as an OCI changeset: what `commit` writes. Rules:
 * - a removed lower name is a whiteout `.wh.<name>`;
 * - a directory that replaces a lower directory without merging with it (created over a
 *   whiteout, or renamed here from elsewhere) gets `.wh..wh..opq` and its whole merged
 *   contents, because a layer cannot say "this directory came from over there" — this is
 *   how a directory rename (redirect_dir) survives the commit;
 * - a copied-up or new non-directory is written whole; a second name of an inode already
 *   written becomes a tar hard link to the first, and so do the other lower names of a
 *   copied-up lower hard link (index=on keeps them one inode, so the layer must too).
 */
export function changeset(fs: OverlayFs): ChangesetEntry[] {
  const out: ChangesetEntry[] = [];
  const written = new Map<Inode, string>();
  const emitNode = (node: Inode, path: string): void => {
    const first = written.get(node);
    if (first !== undefined && !node.isDir) {
      out.push({ kind: 'hardlink', path, node, target: first });
      return;
    }
    written.set(node, path);
    out.push({ kind: 'node', path, node, type: node.type });
  };

  /** Everything under `dir` as the merged view shows it (a directory written in full). */
  const full = (dir: Inode, path: string): void => {
    for (const e of fs.readdir(dir.ino)) {
      const child = fs.child(dir, e.name)!;
      const p = join(path, e.name);
      emitNode(child, p);
      if (child.isDir) full(child, p);
    }
  };

  /** Only what the upper holds under `dir`, which merges with `image` (same path below). */
  const upper = (dir: Inode, image: LowerNode | undefined, path: string): void => {
    for (const [name, e] of dir.entries!) {
      const p = join(path, name);
      const img = image?.children?.get(name);
      if (e === WHITEOUT) {
        if (img) out.push({ kind: 'whiteout', path: p });
        continue;
      }
      emitNode(e, p);
      if (!e.isDir) continue;
      if (e.lowerDir === img && img !== undefined && !e.opaque) {
        upper(e, img, p);
      } else {
        if (img?.type === 'dir') out.push({ kind: 'opaque', path: p });
        full(e, p);
      }
    }
  };

  upper(fs.rootNode, fs.lower.root, '');

  // Lower names of copied-up hard links that the walk did not reach (still lower-only).
  for (const [node, first] of [...written]) {
    const paths = node.origin?.paths;
    if (!paths || node.isDir) continue;
    for (const p of paths) {
      if (p === first || [...written.values()].includes(p)) continue;
      if (fs.resolvesTo(p, node) && !out.some((x) => x.path === p)) {
        out.push({ kind: 'hardlink', path: p, node, target: first });
      }
    }
  }
  return out;
}

function join(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}
