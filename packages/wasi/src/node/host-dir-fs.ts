import {
  chmodSync, chownSync, closeSync, constants, fstatSync, fsyncSync, ftruncateSync, futimesSync, lchownSync, linkSync,
  lstatSync, lutimesSync, mkdirSync, openSync, readdirSync, readlinkSync, readSync, realpathSync, renameSync, rmdirSync,
  symlinkSync, truncateSync, unlinkSync, utimesSync, writeSync, type BigIntStats,
} from 'node:fs';
import { join } from 'node:path';
import {
  FsError, validateName,
  type DirEntry, type FileHandle, type FileType, type FsErrorCode, type NodeId, type OpenMode, type RenameFlags,
  type SetAttr, type Stat, type SyncFs, type TimeSpec,
} from '@strata/syncfs';

export interface HostDirOptions {
  /** Refuse every change with EROFS (`-v HOST:GUEST:ro`). */
  readOnly?: boolean;
  /** Name directories by checked paths even where /proc/self/fd exists (tests of that way). */
  pathsOnly?: boolean;
}

/**
 * A host directory as a SyncFs: the bind mount of `-v HOST:GUEST`. Node ids are the host's
 * inode numbers.
 *
 * Confinement: names are single components (validated: never `..` or containing `/`), nodes
 * are only ever reached by lookups from the root, and symlinks are never followed here — the
 * WASI layer resolves them in the container's view, so a symlink in the host directory that
 * points outside it resolves inside the container, not on the host.
 *
 * Every host call names its object as one component under a directory this object holds
 * open (`/proc/self/fd/<fd>/<name>`: what openat(2) does, which Node lacks), never by a path
 * from the root. A path would be resolved again by the kernel at each call, through whatever
 * stands at each of its components then: a guest that renamed a directory it had open and
 * put a symlink at the old name made the next call through that directory follow the
 * symlink out of the mount. A held directory is the directory, wherever it moved. The last
 * component is not followed either: files open with O_NOFOLLOW, and attributes change
 * through a descriptor or the l-calls. A node is remembered by its directory and name, and
 * whatever is found there must still be that node (its inode), or the node is gone: ENOENT.
 * Where /proc/self/fd is missing (not Linux), directories are named by their path from the
 * root, checked before each call to hold no symlink (a host process racing that check
 * could still redirect a call: such a host directory must not be writable by others while
 * a container runs).
 *
 * Times are set through Node's utimes, which takes seconds as a double: sub-microsecond
 * digits may be lost (the overlay keeps nanoseconds exactly).
 */
export class HostDirFs implements SyncFs {
  readonly root: NodeId;
  readonly readOnly: boolean;
  /** Where each node seen was found: its directory and name (the root has none). */
  private readonly places = new Map<NodeId, { dir: NodeId; name: string }>();
  /** Open directories, least recently used first (the root's is kept apart). */
  private readonly dirFds = new Map<NodeId, number>();
  private readonly rootFd: number | undefined;
  private readonly realRoot: string;

  constructor(readonly hostRoot: string, options: HostDirOptions = {}) {
    this.readOnly = options.readOnly ?? false;
    const st = host(() => lstatSync(hostRoot, { bigint: true }), 'mount');
    if (!st.isDirectory()) throw new FsError('ENOTDIR', `bind mount source ${hostRoot}`);
    this.root = Number(st.ino);
    this.realRoot = host(() => realpathSync.native(hostRoot), 'mount');
    if (PROC_FD && !options.pathsOnly) {
      this.rootFd = host(() => openSync(this.realRoot, constants.O_RDONLY | constants.O_DIRECTORY), 'mount');
    }
  }

  /** Close the directories held open. The object is not used after. */
  close(): void {
    if (this.rootFd !== undefined) closeSync(this.rootFd);
    for (const fd of this.dirFds.values()) closeSync(fd);
    this.dirFds.clear();
  }

  lookup(dir: NodeId, name: string): NodeId {
    validateName(name, 'lookup');
    const st = host(() => lstatSync(this.at(dir, name), { bigint: true }), 'lookup');
    const id = Number(st.ino);
    if (id !== this.root) this.places.set(id, { dir, name });
    return id;
  }

  stat(node: NodeId): Stat {
    return toStat(this.find(node).st);
  }

  readlink(node: NodeId): string {
    const { path } = this.find(node);
    return host(() => readlinkSync(path, 'utf8'), 'readlink');
  }

  readdir(dir: NodeId): DirEntry[] {
    const base = this.dirRef(dir);
    const names = host(() => readdirSync(base), 'readdir').sort();
    const out: DirEntry[] = [];
    for (const name of names) {
      try {
        const st = lstatSync(join(base, name), { bigint: true });
        out.push({ name, ino: Number(st.ino), type: typeOf(st) });
      } catch {
        // Removed since the listing was read.
      }
    }
    return out;
  }

  mkdirAt(dir: NodeId, name: string, mode: number): NodeId {
    this.writable();
    validateName(name, 'mkdirAt');
    host(() => mkdirSync(this.at(dir, name), { mode }), 'mkdirAt');
    return this.lookup(dir, name);
  }

  createAt(dir: NodeId, name: string, mode: number): NodeId {
    this.writable();
    validateName(name, 'createAt');
    const fd = host(() => openSync(this.at(dir, name), constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, mode), 'createAt');
    closeSync(fd);
    return this.lookup(dir, name);
  }

  mknodAt(_dir: NodeId, _name: string, _type: FileType): NodeId {
    this.writable();
    throw new FsError('EPERM', 'mknod in a bind mount');
  }

  symlinkAt(dir: NodeId, name: string, target: string): NodeId {
    this.writable();
    validateName(name, 'symlinkAt');
    host(() => symlinkSync(target, this.at(dir, name)), 'symlinkAt');
    return this.lookup(dir, name);
  }

  linkAt(node: NodeId, dir: NodeId, name: string): void {
    this.writable();
    validateName(name, 'linkAt');
    // link(2) does not follow a symlink it is given.
    const { path } = this.find(node);
    host(() => linkSync(path, this.at(dir, name)), 'linkAt');
  }

  unlinkAt(dir: NodeId, name: string): void {
    this.writable();
    validateName(name, 'unlinkAt');
    const p = this.at(dir, name);
    if (host(() => lstatSync(p), 'unlinkAt').isDirectory()) throw new FsError('EISDIR', 'unlinkAt');
    host(() => unlinkSync(p), 'unlinkAt');
  }

  rmdirAt(dir: NodeId, name: string): void {
    this.writable();
    validateName(name, 'rmdirAt');
    const p = this.at(dir, name);
    const ino = Number(host(() => lstatSync(p, { bigint: true }), 'rmdirAt').ino);
    host(() => rmdirSync(p), 'rmdirAt');
    this.forget(ino);
  }

  renameAt(srcDir: NodeId, srcName: string, dstDir: NodeId, dstName: string, flags: RenameFlags = {}): void {
    this.writable();
    validateName(srcName, 'renameAt');
    validateName(dstName, 'renameAt');
    if (flags.exchange) throw new FsError('ENOTSUP', 'renameAt exchange in a bind mount');
    const from = this.at(srcDir, srcName);
    const to = this.at(dstDir, dstName);
    if (flags.noReplace) {
      let exists = true;
      try {
        lstatSync(to);
      } catch {
        exists = false;
      }
      if (exists) throw new FsError('EEXIST', 'renameAt');
    }
    const moved = Number(host(() => lstatSync(from, { bigint: true }), 'renameAt').ino);
    host(() => renameSync(from, to), 'renameAt');
    // Found where it went from now on (an open directory of it stays what it is).
    if (moved !== this.root) this.places.set(moved, { dir: dstDir, name: dstName });
  }

  setAttr(node: NodeId, attrs: SetAttr): void {
    this.writable();
    const { path, st } = this.find(node);
    const times = attrs.atimeNs !== undefined || attrs.mtimeNs !== undefined;
    const a = () => seconds(attrs.atimeNs, st.atimeNs);
    const m = () => seconds(attrs.mtimeNs, st.mtimeNs);
    const owner = attrs.uid !== undefined || attrs.gid !== undefined;
    const uid = attrs.uid ?? Number(st.uid);
    const gid = attrs.gid ?? Number(st.gid);
    if (st.isSymbolicLink()) {
      // A symlink's own owner and times (lchown, lutimes); its mode means nothing on Linux.
      if (attrs.size !== undefined) throw new FsError('EINVAL', 'truncate a symlink');
      if (owner) host(() => lchownSync(path, uid, gid), 'chown');
      if (times) host(() => lutimesSync(path, a(), m()), 'utimes');
      return;
    }
    if (attrs.size !== undefined && st.isDirectory()) throw new FsError('EISDIR', 'truncate');
    this.onObject(node, path, (target) => {
      if (attrs.mode !== undefined) host(() => chmodSync(target, attrs.mode!), 'chmod');
      if (owner) host(() => chownSync(target, uid, gid), 'chown');
      if (attrs.size !== undefined) host(() => truncateSync(target, attrs.size), 'truncate');
      if (times) host(() => utimesSync(target, a(), m()), 'utimes');
    });
  }

  open(node: NodeId, mode: OpenMode): FileHandle {
    if (mode.write) this.writable();
    const { path, st } = this.find(node);
    if (st.isDirectory()) {
      if (mode.write) throw new FsError('EISDIR', 'open');
      return dirHandle(this, node);
    }
    if (st.isSymbolicLink()) throw new FsError('ELOOP', 'open symlink');
    const flags = (mode.write ? constants.O_RDWR : constants.O_RDONLY) | constants.O_NOFOLLOW;
    const fd = openNode(path, flags, node, 'open');
    return fileHandle(this, node, fd, mode);
  }

  getXattr(): Uint8Array {
    throw new FsError('ENOTSUP', 'xattrs in a bind mount');
  }

  setXattr(): void {
    throw new FsError('ENOTSUP', 'xattrs in a bind mount');
  }

  listXattr(): string[] {
    return [];
  }

  removeXattr(): void {
    throw new FsError('ENOTSUP', 'xattrs in a bind mount');
  }

  sync(): void {}

  private writable(): void {
    if (this.readOnly) throw new FsError('EROFS', 'read-only bind mount');
  }

  /** The host path of `name` in directory `dir`: one component under a held directory. */
  private at(dir: NodeId, name: string): string {
    return join(this.dirRef(dir), name);
  }

  /** The node where it was last found, with its lstat; ENOENT if something else is there now. */
  private find(node: NodeId): { path: string; st: BigIntStats } {
    if (node === this.root) {
      // The root's /proc path is a link to it (lstat would describe the link).
      const path = this.dirRef(node);
      const fd = this.rootFd;
      return { path, st: host(() => (fd === undefined ? lstatSync(path, { bigint: true }) : fstatSync(fd, { bigint: true })), 'stat') };
    }
    const place = this.places.get(node);
    if (!place) throw new FsError('ENOENT', `node ${node}`);
    const path = this.at(place.dir, place.name);
    const st = host(() => lstatSync(path, { bigint: true }), 'stat');
    if (Number(st.ino) !== node) throw new FsError('ENOENT', `node ${node}: replaced`);
    return { path, st };
  }

  /** A host path that names directory `dir` itself: its descriptor's, or a checked path. */
  private dirRef(dir: NodeId): string {
    if (this.rootFd === undefined) return this.checkedPath(dir);
    return `/proc/self/fd/${this.dirFd(dir)}`;
  }

  private dirFd(dir: NodeId): number {
    if (dir === this.root) return this.rootFd!;
    const held = this.dirFds.get(dir);
    if (held !== undefined) {
      this.dirFds.delete(dir);
      this.dirFds.set(dir, held);
      return held;
    }
    const place = this.places.get(dir);
    if (!place) throw new FsError('ENOENT', `directory ${dir}`);
    const fd = openNode(this.at(place.dir, place.name), constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW, dir, 'opendir');
    this.dirFds.set(dir, fd);
    if (this.dirFds.size > MAX_DIR_FDS) {
      const [oldest, ofd] = this.dirFds.entries().next().value as [NodeId, number];
      closeSync(ofd);
      this.dirFds.delete(oldest);
    }
    return fd;
  }

  /** Without /proc/self/fd: the directory's path from the root, if every component on it is a directory still. */
  private checkedPath(dir: NodeId): string {
    const names: string[] = [];
    for (let n = dir; n !== this.root;) {
      const place = this.places.get(n);
      if (!place || names.length > 4096) throw new FsError('ENOENT', `directory ${dir}`);
      names.push(place.name);
      n = place.dir;
    }
    const path = join(this.realRoot, ...names.reverse());
    // realpath resolves every symlink on the way: the same path means there was none.
    const real = host(() => realpathSync.native(path), 'resolve');
    if (real !== path || Number(host(() => lstatSync(path, { bigint: true }), 'resolve').ino) !== dir) {
      throw new FsError('ENOENT', `directory ${dir}: moved or replaced`);
    }
    return path;
  }

  /**
   * Run `fn` with a path that names `node` itself: `/proc/self/fd/<fd>` of an O_PATH
   * descriptor opened without following (the kernel's own way to chmod or chown what a
   * descriptor names), so a symlink put at its name since is not followed. Elsewhere its
   * path, just found to be it.
   */
  private onObject(node: NodeId, path: string, fn: (target: string) => void): void {
    if (node === this.root && this.rootFd !== undefined) return fn(`/proc/self/fd/${this.rootFd}`);
    if (O_PATH === undefined || this.rootFd === undefined) return fn(path);
    const fd = openNode(path, O_PATH | constants.O_NOFOLLOW, node, 'setAttr');
    try {
      fn(`/proc/self/fd/${fd}`);
    } finally {
      closeSync(fd);
    }
  }

  /** A directory removed: let go of its descriptor. */
  private forget(node: NodeId): void {
    this.places.delete(node);
    const fd = this.dirFds.get(node);
    if (fd !== undefined) closeSync(fd);
    this.dirFds.delete(node);
  }
}

/**
 * Open `path` and check it is `node`: what was found at a name may have been replaced since
 * (the node is then gone, ENOENT).
 */
function openNode(path: string, flags: number, node: NodeId, op: string): number {
  const fd = host(() => openSync(path, flags), op);
  if (Number(fstatSync(fd, { bigint: true }).ino) !== node) {
    closeSync(fd);
    throw new FsError('ENOENT', `${op}: node ${node} replaced meanwhile`);
  }
  return fd;
}

/** Whether directories can be named by a descriptor (Linux). */
const PROC_FD = (() => {
  try {
    return lstatSync('/proc/self/fd').isDirectory();
  } catch {
    return false;
  }
})();

/**
 * O_PATH (Node has no constant for it): 010000000 on the architectures Node runs Linux on,
 * except those with their own value (none of which Node ships for); undefined elsewhere.
 */
const O_PATH = PROC_FD && ['x64', 'arm64', 'arm', 'ia32', 'riscv64', 's390x', 'ppc64', 'loong64'].includes(process.arch) ? 0o10000000 : undefined;

/** Directories held open at once beyond the root; others are opened again when used. */
const MAX_DIR_FDS = 64;

function fileHandle(fs: HostDirFs, node: NodeId, fd: number, mode: OpenMode): FileHandle {
  let closed = false;
  const check = (ok: boolean) => {
    if (closed || !ok) throw new FsError('EBADF', 'handle');
  };
  return {
    node,
    read: (buf, pos) => {
      check(mode.read);
      return host(() => readSync(fd, buf, 0, buf.length, pos), 'read');
    },
    write: (buf, pos) => {
      check(mode.write);
      let off = 0;
      while (off < buf.length) off += host(() => writeSync(fd, buf, off, buf.length - off, pos + off), 'write');
      return buf.length;
    },
    append: (buf) => {
      check(mode.write);
      const size = fstatSync(fd).size;
      let off = 0;
      while (off < buf.length) off += host(() => writeSync(fd, buf, off, buf.length - off, size + off), 'write');
      return size + buf.length;
    },
    stat: () => {
      check(true);
      return toStat(fstatSync(fd, { bigint: true }));
    },
    setAttr: (attrs) => {
      check(true);
      if (attrs.size !== undefined) {
        check(mode.write);
        host(() => ftruncateSync(fd, attrs.size), 'truncate');
      }
      if (attrs.mode !== undefined || attrs.uid !== undefined || attrs.gid !== undefined) {
        fs.setAttr(node, { ...(attrs.mode !== undefined ? { mode: attrs.mode } : {}), ...(attrs.uid !== undefined ? { uid: attrs.uid } : {}), ...(attrs.gid !== undefined ? { gid: attrs.gid } : {}) });
      }
      if (attrs.atimeNs !== undefined || attrs.mtimeNs !== undefined) {
        if (fs.readOnly) throw new FsError('EROFS', 'utimes');
        const st = fstatSync(fd, { bigint: true });
        host(() => futimesSync(fd, seconds(attrs.atimeNs, st.atimeNs), seconds(attrs.mtimeNs, st.mtimeNs)), 'utimes');
      }
    },
    sync: () => {
      check(true);
      fsyncSync(fd);
    },
    close: () => {
      if (closed) return;
      closed = true;
      closeSync(fd);
    },
  };
}

function dirHandle(fs: HostDirFs, node: NodeId): FileHandle {
  const no = (): never => {
    throw new FsError('EISDIR', 'directory');
  };
  return {
    node, read: no, write: no, append: no,
    stat: () => fs.stat(node),
    setAttr: (a) => fs.setAttr(node, a),
    sync: () => {},
    close: () => {},
  };
}

function seconds(t: TimeSpec | undefined, current: bigint): number {
  if (t === undefined) return Number(current) / 1e9;
  if (t === 'now') return Date.now() / 1000;
  return Number(t) / 1e9;
}

function typeOf(st: BigIntStats): FileType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'chardev';
  if (st.isBlockDevice()) return 'blockdev';
  if (st.isSocket()) return 'socket';
  return 'unknown';
}

function toStat(st: BigIntStats): Stat {
  return {
    dev: Number(st.dev), ino: Number(st.ino), type: typeOf(st), mode: Number(st.mode & 0o7777n), nlink: Number(st.nlink),
    uid: Number(st.uid), gid: Number(st.gid), size: Number(st.size),
    atimeNs: st.atimeNs, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, rdev: Number(st.rdev),
  };
}

const CODES = new Set<string>([
  'EACCES', 'EBADF', 'EBUSY', 'EEXIST', 'EFBIG', 'EINVAL', 'EIO', 'EISDIR', 'ELOOP', 'EMFILE', 'EMLINK', 'ENAMETOOLONG',
  'ENOENT', 'ENOSPC', 'ENOSYS', 'ENOTDIR', 'ENOTEMPTY', 'ENOTSUP', 'EOVERFLOW', 'EPERM', 'EROFS', 'ESPIPE', 'EXDEV',
  'ENODATA', 'ERANGE', 'ETXTBSY',
]);

/** Run a host call; its errno becomes an FsError (the only error a SyncFs throws). */
function host<T>(fn: () => T, op: string): T {
  try {
    return fn();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code && CODES.has(code)) throw new FsError(code as FsErrorCode, op, { cause: e });
    if (code === 'EOPNOTSUPP') throw new FsError('ENOTSUP', op, { cause: e });
    if (code === 'EDQUOT') throw new FsError('ENOSPC', op, { cause: e });
    throw new FsError('EIO', op, { cause: e });
  }
}
