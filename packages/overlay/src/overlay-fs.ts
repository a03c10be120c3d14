import type { BlobReader, ContentSource, LayerIndex } from '@strata/store';
import {
  FsError, validateName,
  type DirEntry, type FileHandle, type FileType, type NodeId, type OpenMode, type RenameFlags,
  type SetAttr, type Stat, type SyncFs, type TimeSpec,
} from '@strata/syncfs';
import { ChunkedFile } from './chunked-file.js';
import { Inode, WHITEOUT, fileTypeOf } from './inode.js';
import { diff, type Change } from './diff.js';
import { lowerByIno, mergeLowers, type LowerNode, type MergedLower } from './merged-lower.js';
import { restoreUpper, saveUpper } from './upper-state.js';

export interface OverlayFsOptions {
  /** Read-only layers, bottom first (the order of an image's `rootfs.diff_ids`). */
  lowers: readonly LayerIndex[];
  /** Where lower file contents are read from. */
  content: ContentSource;
  /** Time source in nanoseconds since the epoch; default: the wall clock. */
  clock?: () => bigint;
  /** Refuse every change with EROFS (a mount without an upper). */
  readOnly?: boolean;
}

/** The device number every node reports: one file system, as overlayfs with xino=on. */
export const OVERLAY_DEV = 0x6f76;

// Millisecond wall time in nanoseconds, the BigInt made once per millisecond: every write
// stamps a time, and BigInt arithmetic per call showed in many-small-file workloads.
let clockMs = -1;
let clockNs = 0n;
const defaultClock = (): bigint => {
  const ms = Date.now();
  if (ms !== clockMs) {
    clockMs = ms;
    clockNs = BigInt(ms) * 1_000_000n;
  }
  return clockNs;
};

/**
 * The merged view of read-only lowers and a copy-on-write upper, with the semantics of Linux
 * overlayfs mounted `redirect_dir=on,index=on,xino=on` (see the package README for the
 * deliberate differences from the kernel's defaults):
 *
 * - lookup goes upper first, then the flattened lowers; whiteouts hide, new and opaque
 *   directories stop the descent;
 * - the first change to a lower node copies it up (metadata only: file data is copied per
 *   chunk as it is written, see ChunkedFile), opening for write does not;
 * - removing a lower name leaves a whiteout; renaming a lower directory works and keeps its
 *   lower contents (redirect_dir=on); lower hard links stay one inode after copy-up
 *   (index=on); inode numbers never change (xino=on).
 *
 * Lifecycle: construct over the lowers (their flattened view is shared by every OverlayFs on
 * the same chain), use through SyncFs, then `diff()` / `changes()` / `commit()` (in
 * commit.ts) to read what the upper holds, or `saveUpper()` to persist it.
 */
export class OverlayFs implements SyncFs {
  readonly lower: MergedLower;
  readonly root: NodeId;
  readonly readOnly: boolean;
  /** The layers this view stands on, bottom first, as given. */
  readonly lowers: readonly LayerIndex[];
  readonly rootNode: Inode;
  private readonly content: ContentSource;
  private readonly nodes = new Map<number, Inode>();
  private nextIno: number;
  readonly clock: () => bigint;

  constructor(options: OverlayFsOptions) {
    this.lowers = options.lowers;
    this.lower = mergeLowers(options.lowers);
    this.content = options.content;
    this.clock = options.clock ?? defaultClock;
    this.readOnly = options.readOnly ?? false;
    this.nextIno = this.lower.maxIno + 1;
    const root = new Inode(this.lower.root.ino, 'dir', this.lower.root);
    // The merged root's attributes come from the upper root, which the runtime creates as
    // 0755 root:root (overlayfs takes a merged directory's metadata from the upper).
    root.mode = 0o755;
    root.uid = 0;
    root.gid = 0;
    root.upper = true;
    root.entries = new Map();
    this.rootNode = root;
    this.root = root.ino;
    this.nodes.set(root.ino, root);
  }

  /** An OverlayFs over `options.lowers` with the upper saved by `saveUpper()`. */
  static restore(options: OverlayFsOptions, saved: Uint8Array): OverlayFs {
    const fs = new OverlayFs(options);
    restoreUpper(fs, saved);
    return fs;
  }

  /** The upper as bytes (see upper-state.ts), for `OverlayFs.restore`. */
  saveUpper(): Uint8Array {
    return saveUpper(this);
  }

  /** What changed against the lowers, as `docker diff` lists it. */
  diff(): Change[] {
    return diff(this);
  }

  // ---- queries -------------------------------------------------------------------------

  /** The node for a NodeId; EBADF-like ENOENT when it no longer exists. */
  node(id: NodeId): Inode {
    const n = this.nodes.get(id);
    if (n) return n;
    // A lower node listed by readdir but never looked up: materialise it where it sits.
    const place = id <= this.lower.maxIno ? lowerByIno(this.lower).get(id) : undefined;
    if (!place?.parent) throw new FsError('ENOENT', `node ${id}`);
    const parent = this.node(place.parent.ino);
    const made = this.fromLower(place.node);
    made.parent = parent;
    made.name = place.name;
    return made;
  }

  lookup(dir: NodeId, name: string): NodeId {
    const d = this.dirNode(dir, 'lookup');
    validateName(name, 'lookup');
    const c = this.child(d, name);
    if (!c) throw new FsError('ENOENT', `lookup ${name}`);
    return c.ino;
  }

  tryLookup(dir: NodeId, name: string): NodeId | undefined {
    const d = this.dirNode(dir, 'lookup');
    validateName(name, 'lookup');
    return this.child(d, name)?.ino;
  }

  /** The merged child `name` of `dir`, or undefined. */
  child(dir: Inode, name: string): Inode | undefined {
    const e = dir.entries?.get(name);
    if (e === WHITEOUT) return undefined;
    if (e) {
      e.parent = dir;
      e.name = name;
      return e;
    }
    const l = dir.lowerDir?.children?.get(name);
    if (!l) return undefined;
    const n = this.fromLower(l);
    n.parent = dir;
    n.name = name;
    return n;
  }

  stat(id: NodeId): Stat {
    return this.statOf(this.node(id));
  }

  typeOf(id: NodeId): FileType {
    return this.node(id).type;
  }

  statOf(n: Inode): Stat {
    const st: Stat = {
      dev: OVERLAY_DEV, ino: n.ino, type: n.type, mode: n.mode, nlink: this.nlinkOf(n),
      uid: n.uid, gid: n.gid, size: this.sizeOf(n),
      atimeNs: n.atimeNs, mtimeNs: n.mtimeNs, ctimeNs: n.ctimeNs,
    };
    if (n.rdev !== undefined) st.rdev = n.rdev;
    return st;
  }

  readlink(id: NodeId): string {
    const n = this.node(id);
    if (n.type !== 'symlink' || n.target === undefined) throw new FsError('EINVAL', 'readlink');
    return n.target;
  }

  /**
   * Merged entries: lower names first in layer order (an upper node taking the place of a
   * lower name keeps that name's position, so copy-up never reorders a listing), then the
   * names that exist only in the upper, in creation order.
   */
  readdir(dir: NodeId): DirEntry[] {
    const d = this.dirNode(dir, 'readdir');
    const out: DirEntry[] = [];
    const entries = d.entries;
    const lowerChildren = d.lowerDir?.children;
    if (lowerChildren) {
      for (const [name, l] of lowerChildren) {
        const e = entries?.get(name);
        if (e === WHITEOUT) continue;
        if (e) out.push({ name, ino: e.ino, type: e.type });
        else out.push({ name, ino: l.ino, type: fileTypeOf(l.type) });
      }
    }
    if (entries) {
      for (const [name, e] of entries) {
        if (e === WHITEOUT || lowerChildren?.has(name)) continue;
        out.push({ name, ino: e.ino, type: e.type });
      }
    }
    return out;
  }

  // ---- namespace changes ---------------------------------------------------------------

  mkdirAt(dir: NodeId, name: string, mode: number): NodeId {
    const d = this.prepareCreate(dir, name, 'mkdirAt');
    const n = this.newNode('dir', mode);
    n.entries = new Map();
    // New directories are opaque, as overlayfs makes them once redirect_dir is on: whatever
    // a lower had under this name (a whited-out directory) must not show through.
    n.opaque = true;
    this.linkName(d, name, n);
    return n.ino;
  }

  createAt(dir: NodeId, name: string, mode: number): NodeId {
    const d = this.prepareCreate(dir, name, 'createAt');
    const n = this.newNode('file', mode);
    n.data = new ChunkedFile();
    this.linkName(d, name, n);
    return n.ino;
  }

  mknodAt(dir: NodeId, name: string, type: FileType, mode: number, rdev?: number): NodeId {
    if (type === 'dir' || type === 'symlink' || type === 'unknown') throw new FsError('EINVAL', 'mknodAt');
    // A 0/0 character device is how overlayfs spells a whiteout: refused, as the kernel does.
    if (type === 'chardev' && (rdev ?? 0) === 0) throw new FsError('EPERM', 'mknodAt whiteout device');
    const d = this.prepareCreate(dir, name, 'mknodAt');
    const n = this.newNode(type, mode);
    if (type === 'file') n.data = new ChunkedFile();
    if (rdev !== undefined) n.rdev = rdev;
    this.linkName(d, name, n);
    return n.ino;
  }

  symlinkAt(dir: NodeId, name: string, target: string): NodeId {
    const d = this.prepareCreate(dir, name, 'symlinkAt');
    const n = this.newNode('symlink', 0o777);
    n.target = target;
    this.linkName(d, name, n);
    return n.ino;
  }

  linkAt(node: NodeId, dir: NodeId, name: string): void {
    const n = this.node(node);
    if (n.isDir) throw new FsError('EPERM', 'linkAt directory');
    const d = this.prepareCreate(dir, name, 'linkAt');
    this.copyUp(n);
    this.copyUp(d);
    d.entries!.set(name, n);
    n.nlink++;
    n.ctimeNs = this.now();
    this.touchDir(d);
  }

  unlinkAt(dir: NodeId, name: string): void {
    const d = this.writableDir(dir, 'unlinkAt');
    validateName(name, 'unlinkAt');
    const c = this.child(d, name);
    if (!c) throw new FsError('ENOENT', `unlinkAt ${name}`);
    if (c.isDir) throw new FsError('EISDIR', `unlinkAt ${name}`);
    this.copyUp(d);
    this.removeName(d, name);
    this.dropLink(c);
    this.keepLinks(c);
    this.touchDir(d);
  }

  rmdirAt(dir: NodeId, name: string): void {
    const d = this.writableDir(dir, 'rmdirAt');
    validateName(name, 'rmdirAt');
    const c = this.child(d, name);
    if (!c) throw new FsError('ENOENT', `rmdirAt ${name}`);
    if (!c.isDir) throw new FsError('ENOTDIR', `rmdirAt ${name}`);
    if (!this.isEmptyDir(c)) throw new FsError('ENOTEMPTY', `rmdirAt ${name}`);
    this.copyUp(d);
    this.removeName(d, name);
    this.dropLink(c);
    this.touchDir(d);
  }

  renameAt(srcDir: NodeId, srcName: string, dstDir: NodeId, dstName: string, flags: RenameFlags = {}): void {
    const sd = this.writableDir(srcDir, 'renameAt');
    const dd = this.writableDir(dstDir, 'renameAt');
    validateName(srcName, 'renameAt');
    validateName(dstName, 'renameAt');
    const src = this.child(sd, srcName);
    if (!src) throw new FsError('ENOENT', `renameAt ${srcName}`);
    const dst = this.child(dd, dstName);
    if (flags.exchange) {
      if (!dst) throw new FsError('ENOENT', `renameAt ${dstName}`);
      if (src === dst) return;
      if (src.isDir && this.isAncestor(src, dd)) throw new FsError('EINVAL', 'renameAt into itself');
      if (dst.isDir && this.isAncestor(dst, sd)) throw new FsError('EINVAL', 'renameAt into itself');
      this.copyUp(sd);
      this.copyUp(dd);
      this.copyUp(src);
      this.copyUp(dst);
      sd.entries!.set(srcName, dst);
      dd.entries!.set(dstName, src);
      dst.parent = sd;
      dst.name = srcName;
      src.parent = dd;
      src.name = dstName;
      const now = this.now();
      src.ctimeNs = now;
      dst.ctimeNs = now;
      this.touchDir(sd, now);
      this.touchDir(dd, now);
      return;
    }
    if (dst && flags.noReplace) throw new FsError('EEXIST', `renameAt ${dstName}`);
    if (dst === src) return;
    // Linux checks the lock order first: a destination that is an ancestor of the source is
    // ENOTEMPTY (it cannot be empty), before any type check (rename(2), lock_rename trap).
    if (dst?.isDir && this.isAncestor(dst, sd)) throw new FsError('ENOTEMPTY', `renameAt ${dstName}`);
    if (src.isDir && this.isAncestor(src, dd)) throw new FsError('EINVAL', 'renameAt into itself');
    if (src.isDir) {
      if (dst && !dst.isDir) throw new FsError('ENOTDIR', `renameAt ${dstName}`);
    } else if (dst?.isDir) {
      throw new FsError('EISDIR', `renameAt ${dstName}`);
    }
    if (dst?.isDir && !this.isEmptyDir(dst)) throw new FsError('ENOTEMPTY', `renameAt ${dstName}`);
    this.copyUp(sd);
    this.copyUp(dd);
    this.copyUp(src);
    this.removeName(sd, srcName);
    dd.entries!.set(dstName, src);
    if (dst) {
      this.dropLink(dst);
      this.keepLinks(dst);
    }
    src.parent = dd;
    src.name = dstName;
    const now = this.now();
    src.ctimeNs = now;
    this.touchDir(sd, now);
    if (dd !== sd) this.touchDir(dd, now);
  }

  setAttr(id: NodeId, attrs: SetAttr): void {
    this.setAttrOf(this.node(id), attrs);
  }

  setAttrOf(n: Inode, attrs: SetAttr): void {
    this.writable('setAttr');
    if (attrs.size !== undefined) {
      if (n.isDir) throw new FsError('EISDIR', 'truncate');
      if (n.type !== 'file') throw new FsError('EINVAL', 'truncate');
      if (attrs.size < 0 || !Number.isSafeInteger(attrs.size)) throw new FsError('EINVAL', 'truncate');
    }
    this.copyUp(n);
    const now = this.now();
    if (attrs.mode !== undefined) n.mode = attrs.mode & 0o7777;
    if (attrs.uid !== undefined) n.uid = attrs.uid;
    if (attrs.gid !== undefined) n.gid = attrs.gid;
    if (attrs.size !== undefined) {
      this.dataOf(n).truncate(attrs.size);
      n.mtimeNs = now;
    }
    if (attrs.atimeNs !== undefined) n.atimeNs = resolveTime(attrs.atimeNs, now);
    if (attrs.mtimeNs !== undefined) n.mtimeNs = resolveTime(attrs.mtimeNs, now);
    n.ctimeNs = now;
  }

  // ---- file I/O ------------------------------------------------------------------------

  open(id: NodeId, mode: OpenMode): FileHandle {
    const n = this.node(id);
    if (mode.write) this.writable('open');
    if (n.isDir && mode.write) throw new FsError('EISDIR', 'open');
    if (n.type === 'symlink') throw new FsError('ELOOP', 'open symlink');
    if (n.type !== 'file' && n.type !== 'dir') throw new FsError('ENOTSUP', `open ${n.type}`);
    n.openCount++;
    return new OverlayHandle(this, n, mode);
  }

  /** Read through to the upper chunks or the lower blob. */
  readNode(n: Inode, buf: Uint8Array, position: number): number {
    if (n.isDir) throw new FsError('EISDIR', 'read');
    if (n.type !== 'file') throw new FsError('EINVAL', 'read');
    return this.dataOf(n).read(buf, position);
  }

  writeNode(n: Inode, buf: Uint8Array, position: number | 'append'): number {
    this.writable('write');
    if (n.type !== 'file') throw new FsError(n.isDir ? 'EISDIR' : 'EINVAL', 'write');
    if (position !== 'append' && (position < 0 || !Number.isSafeInteger(position + buf.length))) {
      throw new FsError('EFBIG', 'write');
    }
    // An append ends where the file does: past the largest exact size as well.
    if (position === 'append' && !Number.isSafeInteger(this.dataOf(n).size + buf.length)) throw new FsError('EFBIG', 'write');
    this.copyUp(n);
    const data = this.dataOf(n);
    const result = position === 'append' ? data.append(buf) : data.write(buf, position);
    const now = this.now();
    n.mtimeNs = now;
    n.ctimeNs = now;
    return result;
  }

  closeNode(n: Inode): void {
    n.openCount--;
    if (n.openCount === 0 && n.nlink === 0) this.forget(n);
  }

  // ---- xattrs --------------------------------------------------------------------------

  getXattr(id: NodeId, name: string): Uint8Array {
    const v = this.node(id).xattrs?.get(name);
    if (!v) throw new FsError('ENODATA', `getXattr ${name}`);
    return v;
  }

  setXattr(id: NodeId, name: string, value: Uint8Array): void {
    this.writable('setXattr');
    const n = this.node(id);
    if (name === '' || name.length > 255) throw new FsError('ERANGE', 'setXattr');
    this.copyUp(n);
    (n.xattrs ??= new Map()).set(name, value.slice());
    n.ctimeNs = this.now();
  }

  listXattr(id: NodeId): string[] {
    return [...(this.node(id).xattrs?.keys() ?? [])];
  }

  removeXattr(id: NodeId, name: string): void {
    this.writable('removeXattr');
    const n = this.node(id);
    if (!n.xattrs?.has(name)) throw new FsError('ENODATA', `removeXattr ${name}`);
    this.copyUp(n);
    n.xattrs.delete(name);
    n.ctimeNs = this.now();
  }

  sync(): void {
    // The upper lives in memory; persisting it is the owner's call (saveUpper).
  }

  // ---- internals shared with diff/commit/persistence ----------------------------------

  now(): bigint {
    return this.clock();
  }

  /** The Inode for a lower node, created on first sight (its number is the lower's). */
  fromLower(l: LowerNode): Inode {
    let n = this.nodes.get(l.ino);
    if (!n) {
      n = new Inode(l.ino, fileTypeOf(l.type), l);
      this.nodes.set(l.ino, n);
    }
    return n;
  }

  /** Register a node restored from a persisted upper. */
  adopt(n: Inode): void {
    this.nodes.set(n.ino, n);
    if (n.ino >= this.nextIno) this.nextIno = n.ino + 1;
  }

  /**
   * The content digest of a regular file still exactly as a lower layer has it (not copied
   * up): a name for its bytes that costs nothing to compute. Undefined otherwise.
   */
  contentDigest(id: NodeId): string | undefined {
    const n = this.node(id);
    if (n.type !== 'file' || n.upper || !n.origin?.content) return undefined;
    return n.origin.content.digest;
  }

  /** True when the layer-relative `path` (no leading slash) names `node` in the merged view. */
  resolvesTo(path: string, node: Inode): boolean {
    let cur: Inode | undefined = this.rootNode;
    for (const part of path.split('/')) {
      if (!cur?.isDir) return false;
      cur = this.child(cur, part);
    }
    return cur === node;
  }

  /** Copied-up nodes that were hard links in a lower layer (for diff and commit). */
  *copiedUpLinks(): Generator<Inode> {
    for (const n of this.nodes.values()) if (n.upper && n.origin?.paths && !n.isDir) yield n;
  }

  get inodeCounter(): number {
    return this.nextIno;
  }

  set inodeCounter(v: number) {
    this.nextIno = Math.max(this.nextIno, v);
  }

  dataOf(n: Inode): ChunkedFile {
    if (!n.data) {
      const ref = n.origin?.content;
      const reader: BlobReader | undefined = ref ? this.content.reader(ref) : undefined;
      n.data = new ChunkedFile(reader, n.origin?.size ?? 0);
    }
    return n.data;
  }

  /** A reader for a lower blob (used when restoring a persisted upper). */
  readerFor(l: LowerNode): BlobReader | undefined {
    return l.content ? this.content.reader(l.content) : undefined;
  }

  /**
   * Copy a node up into the upper, with its parent chain. Directories get an empty upper
   * directory (their lower contents stay merged through `lowerDir`); files keep reading
   * their lower blob through ChunkedFile until a chunk is written. A node whose last name is
   * gone (unlinked while open) is copied up without a name.
   */
  copyUp(n: Inode): void {
    if (n.upper) return;
    let parent = n.parent;
    let reachable = parent !== undefined && n.origin !== undefined &&
      parent.entries?.get(n.name) === undefined &&
      parent.lowerDir?.children?.get(n.name) === n.origin;
    if (!reachable && n.nlink > 0) {
      // Looked up last through a name that is gone: a lower hard link that remains.
      const other = this.remainingLowerName(n);
      if (other) {
        parent = n.parent = other.parent;
        n.name = other.name;
        reachable = true;
      }
    }
    if (reachable && parent) {
      this.copyUp(parent);
      parent.entries!.set(n.name, n);
    }
    n.upper = true;
    if (n.isDir) n.entries ??= new Map();
  }

  /**
   * A file hard-linked in a lower layer has its other names there. When the name through
   * which the upper holds it goes (unlink, a rename over it) and others remain, the upper
   * takes it under one of those, as overlayfs copies up on a link count change
   * (ovl_nlink_start): otherwise the upper would reach it no more, and its data and link
   * count would be lost when the upper is saved or committed.
   */
  private keepLinks(n: Inode): void {
    if (n.isDir || n.nlink === 0 || (n.origin?.paths?.length ?? 0) < 2) return;
    if (n.upper && n.parent?.entries?.get(n.name) === n) return;
    const other = this.remainingLowerName(n);
    if (!other) return;
    n.parent = other.parent;
    n.name = other.name;
    if (!n.upper) return this.copyUp(n);
    this.copyUp(other.parent);
    other.parent.entries!.set(other.name, n);
  }

  /** A lower name of `n` (one of its hard links) through which the merged view still reaches it. */
  private remainingLowerName(n: Inode): { parent: Inode; name: string } | undefined {
    for (const path of n.origin?.paths ?? []) {
      const parts = path.split('/').filter((p) => p !== '');
      const name = parts.pop();
      if (name === undefined) continue;
      let d: Inode | undefined = this.rootNode;
      for (const part of parts) {
        d = this.child(d, part);
        if (!d?.isDir) break;
      }
      if (!d?.isDir) continue;
      const e = d.entries?.get(name);
      if (e === n || (e === undefined && d.lowerDir?.children?.get(name) === n.origin)) return { parent: d, name };
    }
    return undefined;
  }

  isEmptyDir(d: Inode): boolean {
    if (d.entries) for (const e of d.entries.values()) if (e !== WHITEOUT) return false;
    const lc = d.lowerDir?.children;
    if (lc) for (const name of lc.keys()) if (!d.entries?.has(name)) return false;
    return true;
  }

  private nlinkOf(n: Inode): number {
    if (!n.isDir) return n.nlink;
    if (n.nlink === 0) return 0;
    const l = n.lowerDir;
    // Merged directories report 1, as overlayfs does: their real count is unknown.
    if (l && (n.upper ? l.depth > 0 : l.depth > 1)) return 1;
    let subdirs = 0;
    if (n.upper) {
      for (const e of n.entries!.values()) if (e !== WHITEOUT && e.isDir) subdirs++;
    } else if (l?.children) {
      for (const c of l.children.values()) if (c.type === 'dir') subdirs++;
    }
    return 2 + subdirs;
  }

  private sizeOf(n: Inode): number {
    switch (n.type) {
      case 'file': return n.data ? n.data.size : (n.origin?.size ?? 0);
      case 'symlink': return utf8Length(n.target ?? '');
      case 'dir': return 4096;
      default: return 0;
    }
  }

  private newNode(type: FileType, mode: number): Inode {
    const n = new Inode(this.nextIno++, type);
    const now = this.now();
    n.mode = mode & 0o7777;
    n.atimeNs = now;
    n.mtimeNs = now;
    n.ctimeNs = now;
    n.upper = true;
    this.nodes.set(n.ino, n);
    return n;
  }

  private linkName(d: Inode, name: string, n: Inode): void {
    this.copyUp(d);
    d.entries!.set(name, n);
    n.parent = d;
    n.name = name;
    this.touchDir(d, n.mtimeNs);
  }

  /** Remove `name` from an upper directory: a whiteout when a lower name would show. */
  private removeName(d: Inode, name: string): void {
    if (d.lowerDir?.children?.has(name)) d.entries!.set(name, WHITEOUT);
    else d.entries!.delete(name);
  }

  private dropLink(n: Inode): void {
    n.nlink = n.isDir ? 0 : n.nlink - 1;
    n.ctimeNs = this.now();
    if (n.nlink === 0 && n.openCount === 0) this.forget(n);
  }

  private forget(n: Inode): void {
    this.nodes.delete(n.ino);
    n.data?.release();
  }

  private touchDir(d: Inode, now = this.now()): void {
    d.mtimeNs = now;
    d.ctimeNs = now;
  }

  private isAncestor(a: Inode, d: Inode): boolean {
    for (let p: Inode | undefined = d; p; p = p.parent) {
      if (p === a) return true;
      if (p === this.rootNode) return false;
    }
    return false;
  }

  private writable(op: string): void {
    if (this.readOnly) throw new FsError('EROFS', op);
  }

  private dirNode(id: NodeId, op: string): Inode {
    const d = this.node(id);
    if (!d.isDir) throw new FsError('ENOTDIR', op);
    return d;
  }

  private writableDir(id: NodeId, op: string): Inode {
    this.writable(op);
    const d = this.dirNode(id, op);
    // A removed directory accepts no new names (rmdir'ed while a program held it open).
    if (d.nlink === 0) throw new FsError('ENOENT', op);
    return d;
  }

  private prepareCreate(dir: NodeId, name: string, op: string): Inode {
    const d = this.writableDir(dir, op);
    validateName(name, op);
    if (this.child(d, name)) throw new FsError('EEXIST', `${op} ${name}`);
    return d;
  }
}

function resolveTime(t: TimeSpec, now: bigint): bigint {
  return t === 'now' ? now : t;
}

const encoder = new TextEncoder();
function utf8Length(s: string): number {
  return encoder.encode(s).length;
}

/** An open file: explicit positions; usable after unlink and across copy-up. */
class OverlayHandle implements FileHandle {
  private closed = false;

  constructor(
    private readonly fs: OverlayFs,
    private readonly inode: Inode,
    private readonly mode: OpenMode,
  ) {}

  get node(): NodeId {
    return this.inode.ino;
  }

  read(buf: Uint8Array, position: number): number {
    this.check(this.mode.read);
    return this.fs.readNode(this.inode, buf, position);
  }

  write(buf: Uint8Array, position: number): number {
    this.check(this.mode.write);
    return this.fs.writeNode(this.inode, buf, position);
  }

  append(buf: Uint8Array): number {
    this.check(this.mode.write);
    return this.fs.writeNode(this.inode, buf, 'append');
  }

  stat(): Stat {
    this.check(true);
    return this.fs.statOf(this.inode);
  }

  setAttr(attrs: SetAttr): void {
    this.check(true);
    if (attrs.size !== undefined && !this.mode.write) throw new FsError('EBADF', 'truncate');
    this.fs.setAttrOf(this.inode, attrs);
  }

  sync(): void {
    this.check(true);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.fs.closeNode(this.inode);
  }

  private check(allowed: boolean): void {
    if (this.closed || !allowed) throw new FsError('EBADF', 'handle');
  }
}
