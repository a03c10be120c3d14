import { LayerFormatError } from '../errors.js';
import type { LayerEntry } from '../types.js';

/**
 * The OCI layer changeset rules (image-spec layer.md), applied while a layer is read:
 * entries are collected into a map from normalised path to LayerEntry.
 *
 * - `.wh.<name>` becomes a whiteout entry at `<dir>/<name>`; `.wh..wh..opq` marks its
 *   directory opaque, wherever it stands in the tar (before or after the directory itself);
 * - a whiteout and an entry for the same path in one layer: the entry wins, and hides the
 *   lower one (a directory becomes opaque), since the whiteout only speaks about the layers
 *   below;
 * - a later entry for a path replaces an earlier one (the spec forbids duplicates; tar
 *   extraction keeps the last), and replacing a directory drops what the layer put under it;
 * - missing parent directories are added with `implicit: true` and the mtime of the first
 *   entry under them (extraction onto a lower directory keeps the lower's attributes);
 * - a hard link whose target is not earlier in the same layer (a lower layer's file) is left
 *   out with a warning, as the kernel catalog's oracle does (C60).
 *
 * Refused, with a LayerFormatError naming the entry (containerd and moby refuse or
 * neutralise these; Strata refuses, so a hostile layer is never half-applied): absolute
 * paths, `..` components (also in hard-link targets),
 * whiteouts of `.`, `..` or another `.wh.` name, and a path under a non-directory.
 */
export class ChangesetBuilder {
  readonly entries = new Map<string, LayerEntry>();
  private readonly whiteouts = new Set<string>();
  private readonly opaques = new Set<string>();
  /** Entries left out, with why (hard links to paths of lower layers). */
  readonly warnings: string[] = [];
  private nextGroup = 1;

  constructor() {
    this.entries.set('', implicitDir());
  }

  /** Normalise a tar name to a layer path ('' for the root); refuses escapes. */
  static normalise(name: string): string {
    if (name.startsWith('/')) throw new LayerFormatError('absolute path in layer', name);
    const parts: string[] = [];
    for (const p of name.split('/')) {
      if (p === '' || p === '.') continue;
      if (p === '..') throw new LayerFormatError('path escapes the layer root', name);
      if (p.includes('\0')) throw new LayerFormatError('NUL in path', name);
      parts.push(p);
    }
    return parts.join('/');
  }

  /** Record one tar entry. `entry` is built by the caller from the header. */
  add(rawName: string, entry: LayerEntry, hardlinkTarget?: string): void {
    const path = ChangesetBuilder.normalise(rawName);
    const slash = path.lastIndexOf('/');
    const dir = slash < 0 ? '' : path.slice(0, slash);
    const base = path.slice(slash + 1);
    if (base === '.wh..wh..opq') {
      this.ensureParents(path, entry.mtimeNs);
      this.opaques.add(dir);
      return;
    }
    if (base.startsWith('.wh.')) {
      const target = base.slice(4);
      if (target === '' || target === '.' || target === '..' || target.startsWith('.wh.') || target.includes('/')) {
        throw new LayerFormatError('invalid whiteout', rawName);
      }
      const p = dir === '' ? target : `${dir}/${target}`;
      this.ensureParents(p, entry.mtimeNs);
      this.whiteouts.add(p);
      if (!this.entries.has(p) || this.entries.get(p)!.type === 'whiteout') {
        this.entries.set(p, { type: 'whiteout', mode: 0, uid: 0, gid: 0, mtimeNs: 0n, size: 0 });
      }
      return;
    }
    if (path === '') {
      if (entry.type !== 'dir') throw new LayerFormatError('the layer root is not a directory', rawName);
      this.entries.set('', entry);
      return;
    }
    if (hardlinkTarget !== undefined) {
      const t = ChangesetBuilder.normalise(hardlinkTarget);
      const target = this.entries.get(t);
      if (!target || target.implicit) {
        // Its directory still comes with it, as extraction creates parents first.
        this.ensureParents(path, entry.mtimeNs);
        // The spec says such links "may fail"; the kernel catalog's oracle skips them (C60).
        // Left out with a warning: a layer index cannot share an inode with a lower layer.
        this.warnings.push(`hard link ${JSON.stringify(rawName)} -> ${JSON.stringify(hardlinkTarget)}: the target is not earlier in this layer; skipped`);
        return;
      }
      if (target.type === 'dir' || target.type === 'whiteout') throw new LayerFormatError('hard link to a directory or whiteout', rawName);
      // A group per inode: the target's, or a new one. (A path whose entry was replaced later
      // in the tar is another inode: the links made to the old one keep their own group.)
      target.linkGroup ??= this.nextGroup++;
      entry = { ...target };
    }
    this.ensureParents(path, entry.mtimeNs);
    const existing = this.entries.get(path);
    if (existing?.type === 'dir' && entry.type === 'dir') {
      // A directory listed twice (or after an implicit parent): attributes of the last.
      this.entries.set(path, { ...entry, ...(existing.opaque ? { opaque: true } : {}) });
      return;
    }
    if (existing?.type === 'dir') this.dropChildren(path);
    this.entries.set(path, entry);
  }

  /** The entries, with opaque markers and same-layer whiteouts folded in. */
  finish(): Map<string, LayerEntry> {
    for (const dir of this.opaques) {
      const e = this.entries.get(dir);
      if (e?.type === 'dir') e.opaque = true;
    }
    for (const p of this.whiteouts) {
      const e = this.entries.get(p);
      // The entry won over its whiteout; a directory must still hide the lower one.
      if (e?.type === 'dir') e.opaque = true;
    }
    return this.entries;
  }

  private ensureParents(path: string, mtimeNs: bigint): void {
    let idx = path.indexOf('/');
    while (idx >= 0) {
      const parent = path.slice(0, idx);
      const e = this.entries.get(parent);
      if (!e || e.type === 'whiteout') {
        if (e?.type === 'whiteout') this.whiteouts.add(parent);
        this.entries.set(parent, implicitDir(mtimeNs));
      } else if (e.type !== 'dir') {
        throw new LayerFormatError(`${JSON.stringify(parent)} is not a directory in this layer`, path);
      }
      idx = path.indexOf('/', idx + 1);
    }
  }

  private dropChildren(dir: string): void {
    const prefix = `${dir}/`;
    for (const k of [...this.entries.keys()]) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}

function implicitDir(mtimeNs = 0n): LayerEntry {
  return { type: 'dir', mode: 0o755, uid: 0, gid: 0, mtimeNs, size: 0, implicit: true };
}
