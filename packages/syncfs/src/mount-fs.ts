import { FsError } from './errors.js';
import { nodeType, type FileHandle, type SyncFs } from './sync-fs.js';
import type { DirEntry, FileType, NodeId, OpenMode, RenameFlags, SetAttr, Stat } from './types.js';

/** One file system spliced into another at a directory, as `mount --bind` does. */
export interface Mount {
  /** The directory node of the parent file system (the root fs) that the mount covers. */
  at: NodeId;
  fs: SyncFs;
}

/**
 * A root SyncFs with other SyncFs mounted on some of its directories: the view a container
 * has of `/` with `-v HOST:GUEST` bind mounts. Looking up a mount point's name yields the
 * mounted file system's root; everything under it is served by that file system.
 *
 * Node ids are re-encoded so that ids from different file systems cannot collide:
 * `id = inner * SLOTS + index` (index 0 is the root fs). Stat's `ino` is the encoded id too,
 * and `dev` stays the inner file system's, so a program can tell mounts apart as on Linux.
 * `..` needs no help here: the WASI layer resolves it with its own directory stack.
 *
 * Renames and links across file systems fail with EXDEV, as they do across mounts.
 */
export class MountFs implements SyncFs {
  static readonly SLOTS = 16;
  readonly root: NodeId;
  readonly readOnly: boolean;
  private readonly fss: SyncFs[];
  /** Encoded id of a covered directory → index of the fs mounted there. */
  private readonly covers = new Map<NodeId, number>();

  constructor(rootFs: SyncFs, mounts: Mount[] = []) {
    if (mounts.length >= MountFs.SLOTS) throw new FsError('EINVAL', `at most ${MountFs.SLOTS - 1} mounts`);
    this.fss = [rootFs, ...mounts.map((m) => m.fs)];
    mounts.forEach((m, i) => {
      if (rootFs.stat(m.at).type !== 'dir') throw new FsError('ENOTDIR', 'mount point');
      this.covers.set(this.enc(0, m.at), i + 1);
    });
    this.root = this.enc(0, rootFs.root);
    this.readOnly = rootFs.readOnly;
  }

  lookup(dir: NodeId, name: string): NodeId {
    const [fs, i, id] = this.dec(dir);
    const found = this.enc(i, fs.lookup(id, name));
    const mounted = this.covers.get(found);
    return mounted === undefined ? found : this.enc(mounted, this.fss[mounted]!.root);
  }

  tryLookup(dir: NodeId, name: string): NodeId | undefined {
    const [fs, i, id] = this.dec(dir);
    const inner = fs.tryLookup ? fs.tryLookup(id, name) : lookupOrUndefined(fs, id, name);
    if (inner === undefined) return undefined;
    const found = this.enc(i, inner);
    const mounted = this.covers.get(found);
    return mounted === undefined ? found : this.enc(mounted, this.fss[mounted]!.root);
  }

  typeOf(node: NodeId): FileType {
    const [fs, , id] = this.dec(node);
    return nodeType(fs, id);
  }

  stat(node: NodeId): Stat {
    const [fs, , id] = this.dec(node);
    return { ...fs.stat(id), ino: node };
  }

  readlink(node: NodeId): string {
    const [fs, , id] = this.dec(node);
    return fs.readlink(id);
  }

  readdir(dir: NodeId): DirEntry[] {
    const [fs, i, id] = this.dec(dir);
    return fs.readdir(id).map((e) => {
      const enc = this.enc(i, e.ino);
      const mounted = this.covers.get(enc);
      if (mounted === undefined) return { name: e.name, ino: enc, type: e.type };
      return { name: e.name, ino: this.enc(mounted, this.fss[mounted]!.root), type: 'dir' as FileType };
    });
  }

  mkdirAt(dir: NodeId, name: string, mode: number): NodeId {
    const [fs, i, id] = this.dec(dir);
    return this.enc(i, fs.mkdirAt(id, name, mode));
  }

  createAt(dir: NodeId, name: string, mode: number): NodeId {
    const [fs, i, id] = this.dec(dir);
    return this.enc(i, fs.createAt(id, name, mode));
  }

  mknodAt(dir: NodeId, name: string, type: FileType, mode: number, rdev?: number): NodeId {
    const [fs, i, id] = this.dec(dir);
    return this.enc(i, fs.mknodAt(id, name, type, mode, rdev));
  }

  symlinkAt(dir: NodeId, name: string, target: string): NodeId {
    const [fs, i, id] = this.dec(dir);
    return this.enc(i, fs.symlinkAt(id, name, target));
  }

  linkAt(node: NodeId, dir: NodeId, name: string): void {
    const [fs, i, id] = this.dec(node);
    const [, j, d] = this.dec(dir);
    if (i !== j) throw new FsError('EXDEV', 'linkAt across mounts');
    fs.linkAt(id, d, name);
  }

  unlinkAt(dir: NodeId, name: string): void {
    const [fs, i, id] = this.dec(dir);
    this.refuseMountPoint(fs, i, id, name, 'unlinkAt');
    fs.unlinkAt(id, name);
  }

  rmdirAt(dir: NodeId, name: string): void {
    const [fs, i, id] = this.dec(dir);
    this.refuseMountPoint(fs, i, id, name, 'rmdirAt');
    fs.rmdirAt(id, name);
  }

  renameAt(srcDir: NodeId, srcName: string, dstDir: NodeId, dstName: string, flags?: RenameFlags): void {
    const [fs, i, s] = this.dec(srcDir);
    const [, j, d] = this.dec(dstDir);
    if (i !== j) throw new FsError('EXDEV', 'renameAt across mounts');
    this.refuseMountPoint(fs, i, s, srcName, 'renameAt');
    this.refuseMountPoint(fs, i, d, dstName, 'renameAt');
    fs.renameAt(s, srcName, d, dstName, flags);
  }

  setAttr(node: NodeId, attrs: SetAttr): void {
    const [fs, , id] = this.dec(node);
    fs.setAttr(id, attrs);
  }

  open(node: NodeId, mode: OpenMode): FileHandle {
    const [fs, , id] = this.dec(node);
    const inner = fs.open(id, mode);
    return {
      node,
      read: (buf, pos) => inner.read(buf, pos),
      write: (buf, pos) => inner.write(buf, pos),
      append: (buf) => inner.append(buf),
      stat: () => ({ ...inner.stat(), ino: node }),
      setAttr: (a) => inner.setAttr(a),
      sync: () => inner.sync(),
      close: () => inner.close(),
    };
  }

  getXattr(node: NodeId, name: string): Uint8Array {
    const [fs, , id] = this.dec(node);
    return fs.getXattr(id, name);
  }

  setXattr(node: NodeId, name: string, value: Uint8Array): void {
    const [fs, , id] = this.dec(node);
    fs.setXattr(id, name, value);
  }

  listXattr(node: NodeId): string[] {
    const [fs, , id] = this.dec(node);
    return fs.listXattr(id);
  }

  removeXattr(node: NodeId, name: string): void {
    const [fs, , id] = this.dec(node);
    fs.removeXattr(id, name);
  }

  sync(): void {
    for (const fs of this.fss) fs.sync();
  }

  /** The file system a node belongs to (0: the root fs) and its id there. */
  inner(node: NodeId): { index: number; fs: SyncFs; id: NodeId } {
    const [fs, index, id] = this.dec(node);
    return { index, fs, id };
  }

  private enc(index: number, id: NodeId): NodeId {
    return id * MountFs.SLOTS + index;
  }

  private dec(node: NodeId): [SyncFs, number, NodeId] {
    const index = node % MountFs.SLOTS;
    const fs = this.fss[index];
    if (!fs) throw new FsError('EBADF', `node ${node}`);
    return [fs, index, (node - index) / MountFs.SLOTS];
  }

  /** A mount point is busy: it cannot be removed or renamed while mounted. */
  private refuseMountPoint(fs: SyncFs, index: number, dir: NodeId, name: string, op: string): void {
    if (this.covers.size === 0) return;
    let child: NodeId;
    try {
      child = fs.lookup(dir, name);
    } catch {
      return;
    }
    if (this.covers.has(this.enc(index, child))) throw new FsError('EBUSY', `${op} mount point`);
  }
}

function lookupOrUndefined(fs: SyncFs, dir: NodeId, name: string): NodeId | undefined {
  try {
    return fs.lookup(dir, name);
  } catch (e) {
    if (e instanceof FsError && e.code === 'ENOENT') return undefined;
    throw e;
  }
}
