import { nodeType } from '@strata/syncfs';
import type { WasiContext } from '../context.js';
import { DIR_RIGHTS, ERRNO, FDFLAGS, FILE_RIGHTS, LOOKUP_SYMLINK_FOLLOW, OFLAGS, RIGHTS } from '../defs.js';
import { fail } from '../errno.js';
import type { DirFdEntry } from '../fd-table.js';
import { existing, resolvePath, type Resolved } from '../resolve.js';
import { timesOf } from './fd.js';
import { writeFilestat } from './stat.js';

/** Files and directories a program creates: 0644 / 0755, as root with umask 022. */
const FILE_MODE = 0o644;
const DIR_MODE = 0o755;

export function pathSyscalls(ctx: WasiContext) {
  const { fds, mem } = ctx;
  const str = (ptr: number, len: number) => mem.string(ptr, len);
  const resolve = (dir: DirFdEntry, path: string, follow: boolean): Resolved => resolvePath(dir.fs, dir, path, follow);
  /** A path whose last component the call acts on itself, never followed (see resolvePath). */
  const entry = (dir: DirFdEntry, path: string): Resolved => resolvePath(dir.fs, dir, path, false, true);

  /** A path naming a new entry: `.`/`..` and existing names are EEXIST. */
  const forCreate = (r: Resolved): Resolved => {
    if (r.node !== undefined) fail(ERRNO.EXIST);
    return r;
  };

  return {
    path_create_directory: (fd: number, ptr: number, len: number) => {
      const dir = fds.dir(fd, RIGHTS.PATH_CREATE_DIRECTORY);
      const r = forCreate(entry(dir, str(ptr, len)));
      dir.fs.mkdirAt(r.dir, r.name, DIR_MODE);
    },

    path_filestat_get: (fd: number, flags: number, ptr: number, len: number, out: number) => {
      const dir = fds.dir(fd, RIGHTS.PATH_FILESTAT_GET);
      const r = resolve(dir, str(ptr, len), (flags & LOOKUP_SYMLINK_FOLLOW) !== 0);
      const node = existing(r);
      const st = dir.fs.stat(node);
      if (r.trailingSlash && st.type !== 'dir') fail(ERRNO.NOTDIR);
      writeFilestat(mem, out, st);
    },

    path_filestat_set_times: (fd: number, flags: number, ptr: number, len: number, atim: bigint, mtim: bigint, fst: number) => {
      const dir = fds.dir(fd, RIGHTS.PATH_FILESTAT_SET_TIMES);
      const attrs = timesOf(atim, mtim, fst);
      const r = resolve(dir, str(ptr, len), (flags & LOOKUP_SYMLINK_FOLLOW) !== 0);
      const node = existing(r);
      if (r.trailingSlash && nodeType(dir.fs, node) !== 'dir') fail(ERRNO.NOTDIR);
      dir.fs.setAttr(node, attrs);
    },

    path_link: (oldFd: number, oldFlags: number, oldPtr: number, oldLen: number, newFd: number, newPtr: number, newLen: number) => {
      const src = fds.dir(oldFd, RIGHTS.PATH_LINK_SOURCE);
      const dst = fds.dir(newFd, RIGHTS.PATH_LINK_TARGET);
      if (src.fs !== dst.fs) fail(ERRNO.XDEV);
      const from = resolve(src, str(oldPtr, oldLen), (oldFlags & LOOKUP_SYMLINK_FOLLOW) !== 0);
      const node = existing(from);
      const type = nodeType(src.fs, node);
      if (from.trailingSlash && type !== 'dir') fail(ERRNO.NOTDIR);
      if (type === 'dir') fail(ERRNO.PERM);
      const to = entry(dst, str(newPtr, newLen));
      if (to.node !== undefined) fail(ERRNO.EXIST);
      if (to.trailingSlash) fail(ERRNO.NOENT);
      dst.fs.linkAt(node, to.dir, to.name);
    },

    path_open: (
      fd: number, dirflags: number, ptr: number, len: number, oflags: number,
      rightsBase: bigint, rightsInheriting: bigint, fdflags: number, out: number,
    ) => {
      const dir = fds.dir(fd, RIGHTS.PATH_OPEN);
      const base = Number(rightsBase & 0x3fffffffn);
      const inheriting = Number(rightsInheriting & 0x3fffffffn);
      if (oflags & ~0xf || fdflags & ~0x1f) fail(ERRNO.INVAL);
      // What the new descriptor may hold: what it asked for, within what the directory hands on.
      const allowedBase = base & dir.rightsInheriting;
      const allowedInheriting = inheriting & dir.rightsInheriting;
      const needs = (oflags & OFLAGS.CREAT ? RIGHTS.PATH_CREATE_FILE : 0) | (oflags & OFLAGS.TRUNC ? RIGHTS.PATH_FILESTAT_SET_SIZE : 0);
      if ((dir.rightsBase & needs) !== needs) fail(ERRNO.NOTCAPABLE);
      const path = str(ptr, len);
      const exclusive = (oflags & OFLAGS.CREAT) !== 0 && (oflags & OFLAGS.EXCL) !== 0;
      // O_CREAT|O_EXCL never follows the last component: a symlink there, dangling or not, is EEXIST.
      const follow = (dirflags & LOOKUP_SYMLINK_FOLLOW) !== 0 && !exclusive;
      const r = exclusive ? entry(dir, path) : resolve(dir, path, follow);
      let node = r.node;
      if (node === undefined) {
        if (!(oflags & OFLAGS.CREAT)) fail(ERRNO.NOENT);
        if (oflags & OFLAGS.DIRECTORY) fail(ERRNO.NOENT);
        if (r.trailingSlash) fail(ERRNO.ISDIR);
        node = dir.fs.createAt(r.dir, r.name, FILE_MODE);
      } else if (exclusive) {
        fail(ERRNO.EXIST);
      }
      const type = nodeType(dir.fs, node);
      if (type === 'symlink') fail(ERRNO.LOOP); // O_NOFOLLOW on a symlink
      if ((oflags & OFLAGS.DIRECTORY || r.trailingSlash) && type !== 'dir') fail(ERRNO.NOTDIR);
      const wantsWrite = (allowedBase & (RIGHTS.FD_WRITE | RIGHTS.FD_ALLOCATE | RIGHTS.FD_FILESTAT_SET_SIZE)) !== 0 ||
        (fdflags & FDFLAGS.APPEND) !== 0;
      if (type === 'dir') {
        // open(2): a directory cannot be created, truncated or opened for writing.
        if (oflags & (OFLAGS.TRUNC | OFLAGS.CREAT)) fail(ERRNO.ISDIR);
        if ((base & RIGHTS.FD_WRITE) !== 0) fail(ERRNO.ISDIR);
        writeFd(ctx, out, {
          kind: 'dir', fs: dir.fs, node, preopenRoot: dir.preopenRoot, inContainerRoot: dir.inContainerRoot,
          rightsBase: allowedBase & DIR_RIGHTS, rightsInheriting: allowedInheriting, fdflags,
        });
        return;
      }
      if (type !== 'file') fail(ERRNO.NOTSUP);
      const handle = dir.fs.open(node, { read: true, write: wantsWrite || (oflags & OFLAGS.TRUNC) !== 0 });
      try {
        if (oflags & OFLAGS.TRUNC && handle.stat().size > 0) handle.setAttr({ size: 0 });
        writeFd(ctx, out, {
          kind: 'file', fs: dir.fs, node, handle, pos: 0,
          rightsBase: allowedBase & FILE_RIGHTS, rightsInheriting: allowedInheriting & FILE_RIGHTS, fdflags,
        });
      } catch (e) {
        handle.close();
        throw e;
      }
    },

    path_readlink: (fd: number, ptr: number, len: number, buf: number, bufLen: number, out: number) => {
      const dir = fds.dir(fd, RIGHTS.PATH_READLINK);
      const r = resolve(dir, str(ptr, len), false);
      const node = existing(r);
      if (nodeType(dir.fs, node) !== 'symlink') fail(ERRNO.INVAL);
      const target = new TextEncoder().encode(dir.fs.readlink(node));
      // Truncated to the buffer, as readlink(2) does.
      const n = Math.min(target.length, bufLen);
      mem.slice(buf, n).set(target.subarray(0, n));
      mem.u32(out, n);
    },

    path_remove_directory: (fd: number, ptr: number, len: number) => {
      const dir = fds.dir(fd, RIGHTS.PATH_REMOVE_DIRECTORY);
      const r = entry(dir, str(ptr, len));
      const node = existing(r);
      // rmdir(".") is EINVAL in POSIX; "a/.." names a directory that is not empty.
      if (r.name === '.') fail(ERRNO.INVAL);
      if (nodeType(dir.fs, node) !== 'dir') fail(ERRNO.NOTDIR);
      dir.fs.rmdirAt(r.dir, r.name);
    },

    path_rename: (oldFd: number, oldPtr: number, oldLen: number, newFd: number, newPtr: number, newLen: number) => {
      const src = fds.dir(oldFd, RIGHTS.PATH_RENAME_SOURCE);
      const dst = fds.dir(newFd, RIGHTS.PATH_RENAME_TARGET);
      if (src.fs !== dst.fs) fail(ERRNO.XDEV);
      const from = entry(src, str(oldPtr, oldLen));
      const node = existing(from);
      const to = entry(dst, str(newPtr, newLen));
      if (from.name === '.' || to.name === '.') fail(ERRNO.BUSY);
      const fromType = nodeType(src.fs, node);
      if (fromType !== 'dir') {
        // A trailing slash on either side names a directory; a file is not one.
        if (from.trailingSlash) fail(ERRNO.NOTDIR);
        if (to.trailingSlash) fail(to.node !== undefined && nodeType(dst.fs, to.node) === 'dir' ? ERRNO.ISDIR : ERRNO.NOTDIR);
      }
      src.fs.renameAt(from.dir, from.name, to.dir, to.name);
    },

    path_symlink: (oldPtr: number, oldLen: number, fd: number, newPtr: number, newLen: number) => {
      const dir = fds.dir(fd, RIGHTS.PATH_SYMLINK);
      const target = str(oldPtr, oldLen);
      if (target.includes('\0')) fail(ERRNO.INVAL);
      const r = entry(dir, str(newPtr, newLen));
      if (r.node !== undefined) fail(ERRNO.EXIST);
      if (r.trailingSlash) fail(ERRNO.NOENT);
      if (target.length === 0) fail(ERRNO.NOENT);
      // Creating an absolute symlink is refused, as wasmtime (cap-std) refuses it and the
      // wasi-testsuite requires (symlink_create). Absolute symlinks that come with the image
      // still resolve, inside the container root.
      if (target.startsWith('/')) fail(ERRNO.PERM, 'absolute symlink target');
      dir.fs.symlinkAt(r.dir, r.name, target);
    },

    path_unlink_file: (fd: number, ptr: number, len: number) => {
      const dir = fds.dir(fd, RIGHTS.PATH_UNLINK_FILE);
      const r = entry(dir, str(ptr, len));
      const node = existing(r);
      const type = nodeType(dir.fs, node);
      if (r.name === '.' || type === 'dir') fail(ERRNO.ISDIR);
      if (r.trailingSlash) fail(ERRNO.NOTDIR);
      dir.fs.unlinkAt(r.dir, r.name);
    },
  };
}

function writeFd(ctx: WasiContext, out: number, entry: Parameters<WasiContext['fds']['add']>[0]): void {
  const fd = ctx.fds.add(entry);
  try {
    ctx.mem.u32(out, fd);
  } catch (e) {
    ctx.fds.close(fd);
    throw e;
  }
}

