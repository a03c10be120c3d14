import {
  chmodSync, chownSync, closeSync, constants, fstatSync, fsyncSync, ftruncateSync, futimesSync, linkSync, lstatSync,
  lutimesSync, mkdirSync, openSync, readdirSync, readlinkSync, readSync, renameSync, rmdirSync, symlinkSync,
  truncateSync, unlinkSync, utimesSync, writeSync, type BigIntStats,
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
}

/**
 * A host directory as a SyncFs: the bind mount of `-v HOST:GUEST`. Node ids are the host's
 * inode numbers.
 *
 * Confinement: names are single components (validated: never `..` or containing `/`), nodes
 * are only ever reached by lookups from the root, and symlinks are never followed here — the
 * WASI layer resolves them in the container's view, so a symlink in the host directory that
 * points outside it resolves inside the container, not on the host. Files are opened with
 * O_NOFOLLOW. What Node cannot give is openat(2): a host process that swaps a directory for
 * a symlink between two calls could race a path; the mounted directory should not be
 * writable by untrusted host processes while a container runs.
 *
 * Times are set through Node's utimes, which takes seconds as a double: sub-microsecond
 * digits may be lost (the overlay keeps nanoseconds exactly).
 */
export class HostDirFs implements SyncFs {
  readonly root: NodeId;
  readonly readOnly: boolean;
  /** Host path (relative to the root) of every node seen. */
  private readonly paths = new Map<NodeId, string>();

  constructor(readonly hostRoot: string, options: HostDirOptions = {}) {
    this.readOnly = options.readOnly ?? false;
    const st = host(() => lstatSync(hostRoot, { bigint: true }), 'mount');
    if (!st.isDirectory()) throw new FsError('ENOTDIR', `bind mount source ${hostRoot}`);
    this.root = Number(st.ino);
    this.paths.set(this.root, '');
  }

  lookup(dir: NodeId, name: string): NodeId {
    validateName(name, 'lookup');
    const p = join(this.dirPath(dir), name);
    const st = host(() => lstatSync(this.abs(p), { bigint: true }), 'lookup');
    const id = Number(st.ino);
    this.paths.set(id, p);
    return id;
  }

  stat(node: NodeId): Stat {
    return toStat(host(() => lstatSync(this.abs(this.path(node)), { bigint: true }), 'stat'));
  }

  readlink(node: NodeId): string {
    return host(() => readlinkSync(this.abs(this.path(node)), 'utf8'), 'readlink');
  }

  readdir(dir: NodeId): DirEntry[] {
    const base = this.dirPath(dir);
    const names = host(() => readdirSync(this.abs(base)), 'readdir').sort();
    const out: DirEntry[] = [];
    for (const name of names) {
      try {
        const st = lstatSync(this.abs(join(base, name)), { bigint: true });
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
    host(() => mkdirSync(this.abs(join(this.dirPath(dir), name)), { mode }), 'mkdirAt');
    return this.lookup(dir, name);
  }

  createAt(dir: NodeId, name: string, mode: number): NodeId {
    this.writable();
    validateName(name, 'createAt');
    const fd = host(() => openSync(this.abs(join(this.dirPath(dir), name)), constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, mode), 'createAt');
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
    host(() => symlinkSync(target, this.abs(join(this.dirPath(dir), name))), 'symlinkAt');
    return this.lookup(dir, name);
  }

  linkAt(node: NodeId, dir: NodeId, name: string): void {
    this.writable();
    validateName(name, 'linkAt');
    host(() => linkSync(this.abs(this.path(node)), this.abs(join(this.dirPath(dir), name))), 'linkAt');
  }

  unlinkAt(dir: NodeId, name: string): void {
    this.writable();
    validateName(name, 'unlinkAt');
    const p = this.abs(join(this.dirPath(dir), name));
    if (host(() => lstatSync(p), 'unlinkAt').isDirectory()) throw new FsError('EISDIR', 'unlinkAt');
    host(() => unlinkSync(p), 'unlinkAt');
  }

  rmdirAt(dir: NodeId, name: string): void {
    this.writable();
    validateName(name, 'rmdirAt');
    host(() => rmdirSync(this.abs(join(this.dirPath(dir), name))), 'rmdirAt');
  }

  renameAt(srcDir: NodeId, srcName: string, dstDir: NodeId, dstName: string, flags: RenameFlags = {}): void {
    this.writable();
    validateName(srcName, 'renameAt');
    validateName(dstName, 'renameAt');
    if (flags.exchange) throw new FsError('ENOTSUP', 'renameAt exchange in a bind mount');
    const to = this.abs(join(this.dirPath(dstDir), dstName));
    if (flags.noReplace) {
      let exists = true;
      try {
        lstatSync(to);
      } catch {
        exists = false;
      }
      if (exists) throw new FsError('EEXIST', 'renameAt');
    }
    host(() => renameSync(this.abs(join(this.dirPath(srcDir), srcName)), to), 'renameAt');
  }

  setAttr(node: NodeId, attrs: SetAttr): void {
    this.writable();
    const p = this.abs(this.path(node));
    const st = host(() => lstatSync(p, { bigint: true }), 'setAttr');
    const link = st.isSymbolicLink();
    if (attrs.mode !== undefined && !link) host(() => chmodSync(p, attrs.mode!), 'chmod');
    if (attrs.uid !== undefined || attrs.gid !== undefined) host(() => chownSync(p, attrs.uid ?? Number(st.uid), attrs.gid ?? Number(st.gid)), 'chown');
    if (attrs.size !== undefined) {
      if (st.isDirectory()) throw new FsError('EISDIR', 'truncate');
      host(() => truncateSync(p, attrs.size), 'truncate');
    }
    if (attrs.atimeNs !== undefined || attrs.mtimeNs !== undefined) {
      const a = seconds(attrs.atimeNs, st.atimeNs);
      const m = seconds(attrs.mtimeNs, st.mtimeNs);
      host(() => (link ? lutimesSync(p, a, m) : utimesSync(p, a, m)), 'utimes');
    }
  }

  open(node: NodeId, mode: OpenMode): FileHandle {
    if (mode.write) this.writable();
    const p = this.abs(this.path(node));
    const st = host(() => lstatSync(p), 'open');
    if (st.isDirectory()) {
      if (mode.write) throw new FsError('EISDIR', 'open');
      return dirHandle(this, node);
    }
    if (st.isSymbolicLink()) throw new FsError('ELOOP', 'open symlink');
    const flags = (mode.write ? constants.O_RDWR : constants.O_RDONLY) | constants.O_NOFOLLOW;
    const fd = host(() => openSync(p, flags), 'open');
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

  private path(node: NodeId): string {
    const p = this.paths.get(node);
    if (p === undefined) throw new FsError('ENOENT', `node ${node}`);
    return p;
  }

  private dirPath(node: NodeId): string {
    return this.path(node);
  }

  private abs(p: string): string {
    return p === '' ? this.hostRoot : join(this.hostRoot, p);
  }
}

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
