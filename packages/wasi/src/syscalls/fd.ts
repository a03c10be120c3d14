import { nodeType, type SetAttr, type TimeSpec } from '@strata/syncfs';
import type { WasiContext } from '../context.js';
import {
  ADVICE_MAX, DIRENT_SIZE, ERRNO, FDFLAGS, FDSTAT_SIZE, FILETYPE, FSTFLAGS, PREOPENTYPE_DIR, RIGHTS, WHENCE,
} from '../defs.js';
import { fail } from '../errno.js';
import type { DirFdEntry, FileEntry, ListedEntry } from '../fd-table.js';
import { utf8 } from '../memory.js';
import { filetypeOf, writeFilestat, writeStdioFilestat } from './stat.js';

/** u64 offsets and sizes from the guest, as safe JS numbers (EFBIG/EINVAL beyond). */
export function toNumber(v: bigint, errno: number = ERRNO.FBIG): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(errno as never);
  return Number(v);
}

/** fstflags + times → SetAttr times (EINVAL for a time both given and "now"). */
export function timesOf(atim: bigint, mtim: bigint, flags: number): SetAttr {
  if (flags & ~0xf) fail(ERRNO.INVAL);
  if ((flags & FSTFLAGS.ATIM && flags & FSTFLAGS.ATIM_NOW) || (flags & FSTFLAGS.MTIM && flags & FSTFLAGS.MTIM_NOW)) {
    fail(ERRNO.INVAL);
  }
  const out: { atimeNs?: TimeSpec; mtimeNs?: TimeSpec } = {};
  if (flags & FSTFLAGS.ATIM) out.atimeNs = atim;
  if (flags & FSTFLAGS.ATIM_NOW) out.atimeNs = 'now';
  if (flags & FSTFLAGS.MTIM) out.mtimeNs = mtim;
  if (flags & FSTFLAGS.MTIM_NOW) out.mtimeNs = 'now';
  return out;
}

export function fdSyscalls(ctx: WasiContext) {
  const { fds, mem } = ctx;

  const readFile = (e: FileEntry, iovs: Uint8Array[], position: number): number => {
    let total = 0;
    for (const iov of iovs) {
      if (iov.length === 0) continue;
      const n = e.handle.read(iov, position + total);
      total += n;
      if (n < iov.length) break;
    }
    return total;
  };

  const writeFile = (e: FileEntry, iovs: Uint8Array[], position: number | 'append'): number => {
    let total = 0;
    for (const iov of iovs) {
      if (iov.length === 0) continue;
      if (position === 'append') e.pos = e.handle.append(iov);
      else e.handle.write(iov, position + total);
      total += iov.length;
    }
    return total;
  };

  return {
    fd_advise: (fd: number, _offset: bigint, _len: bigint, advice: number) => {
      const e = fds.get(fd, RIGHTS.FD_ADVISE);
      if (e.kind === 'dir') fail(ERRNO.BADF);
      if (advice > ADVICE_MAX) fail(ERRNO.INVAL);
      // Advice only: nothing to do for files that live in memory or in the page cache.
    },

    fd_allocate: (fd: number, offset: bigint, len: bigint) => {
      const e = fds.file(fd, RIGHTS.FD_ALLOCATE);
      const end = toNumber(offset) + toNumber(len);
      if (!Number.isSafeInteger(end)) fail(ERRNO.FBIG);
      if (end > e.handle.stat().size) e.handle.setAttr({ size: end });
    },

    fd_close: (fd: number) => {
      fds.close(fd);
    },

    fd_datasync: (fd: number) => {
      fds.file(fd, RIGHTS.FD_DATASYNC).handle.sync();
    },

    fd_sync: (fd: number) => {
      const e = fds.get(fd, RIGHTS.FD_SYNC);
      if (e.kind === 'file') e.handle.sync();
      else if (e.kind === 'dir') e.fs.sync();
    },

    fd_fdstat_get: (fd: number, out: number) => {
      const e = fds.get(fd);
      const b = mem.slice(out, FDSTAT_SIZE);
      b.fill(0);
      const v = mem.view;
      const type = e.kind === 'stdio' ? FILETYPE.CHARACTER_DEVICE : e.kind === 'dir' ? FILETYPE.DIRECTORY : filetypeOf(nodeType(e.fs, e.node));
      v.setUint8(out, type);
      v.setUint16(out + 2, e.fdflags, true);
      v.setBigUint64(out + 8, BigInt(e.rightsBase), true);
      v.setBigUint64(out + 16, BigInt(e.rightsInheriting), true);
    },

    fd_fdstat_set_flags: (fd: number, flags: number) => {
      const e = fds.get(fd, RIGHTS.FD_FDSTAT_SET_FLAGS);
      if (flags & ~0x1f) fail(ERRNO.INVAL);
      // The synchronous-I/O flags change nothing here (every write is already complete when
      // the call returns); NONBLOCK is kept for fd_fdstat_get; APPEND changes writes.
      e.fdflags = flags;
    },

    fd_fdstat_set_rights: (fd: number, base: bigint, inheriting: bigint) => {
      const e = fds.get(fd);
      const b = Number(base & 0x3fffffffn);
      const i = Number(inheriting & 0x3fffffffn);
      // Rights can only be dropped, never gained.
      if ((b & ~e.rightsBase) !== 0 || (i & ~e.rightsInheriting) !== 0) fail(ERRNO.NOTCAPABLE);
      e.rightsBase = b;
      e.rightsInheriting = i;
    },

    fd_filestat_get: (fd: number, out: number) => {
      const e = fds.get(fd, RIGHTS.FD_FILESTAT_GET);
      if (e.kind === 'stdio') writeStdioFilestat(mem, out);
      else if (e.kind === 'file') writeFilestat(mem, out, e.handle.stat());
      else writeFilestat(mem, out, e.fs.stat(e.node));
    },

    fd_filestat_set_size: (fd: number, size: bigint) => {
      const e = fds.file(fd, RIGHTS.FD_FILESTAT_SET_SIZE);
      e.handle.setAttr({ size: toNumber(size) });
    },

    fd_filestat_set_times: (fd: number, atim: bigint, mtim: bigint, flags: number) => {
      const e = fds.get(fd, RIGHTS.FD_FILESTAT_SET_TIMES);
      const attrs = timesOf(atim, mtim, flags);
      if (e.kind === 'file') e.handle.setAttr(attrs);
      else if (e.kind === 'dir') e.fs.setAttr(e.node, attrs);
      else fail(ERRNO.BADF);
    },

    fd_pread: (fd: number, iovs: number, count: number, offset: bigint, out: number) => {
      const e = fds.file(fd, RIGHTS.FD_READ | RIGHTS.FD_SEEK);
      mem.u32(out, readFile(e, mem.iovecs(iovs, count), toNumber(offset, ERRNO.INVAL)));
    },

    fd_pwrite: (fd: number, iovs: number, count: number, offset: bigint, out: number) => {
      const e = fds.file(fd, RIGHTS.FD_WRITE | RIGHTS.FD_SEEK);
      const list = mem.iovecs(iovs, count);
      // With O_APPEND, Linux's pwrite appends and ignores the offset (pwrite(2), BUGS); the
      // file offset is left alone either way. Followed here over the WASI spec's silence.
      let n: number;
      if (e.fdflags & FDFLAGS.APPEND) {
        const keep = e.pos;
        n = writeFile(e, list, 'append');
        e.pos = keep;
      } else {
        n = writeFile(e, list, toNumber(offset, ERRNO.INVAL));
      }
      mem.u32(out, n);
    },

    fd_read: (fd: number, iovs: number, count: number, out: number) => {
      const e = fds.get(fd, RIGHTS.FD_READ);
      const list = mem.iovecs(iovs, count);
      if (e.kind === 'stdio') {
        if (e.stream !== 0) fail(ERRNO.BADF);
        const first = list.find((b) => b.length > 0);
        mem.u32(out, first ? ctx.stdin.read(first) : 0);
        return;
      }
      if (e.kind === 'dir') fail(ERRNO.ISDIR);
      const n = readFile(e, list, e.pos);
      e.pos += n;
      mem.u32(out, n);
    },

    fd_write: (fd: number, iovs: number, count: number, out: number) => {
      const e = fds.get(fd, RIGHTS.FD_WRITE);
      const list = mem.iovecs(iovs, count);
      if (e.kind === 'stdio') {
        if (e.stream === 0) fail(ERRNO.BADF);
        const sink = e.stream === 1 ? ctx.stdout : ctx.stderr;
        let total = 0;
        for (const iov of list) {
          if (iov.length === 0) continue;
          sink(iov);
          total += iov.length;
        }
        mem.u32(out, total);
        return;
      }
      if (e.kind === 'dir') fail(ERRNO.ISDIR);
      const n = e.fdflags & FDFLAGS.APPEND ? writeFile(e, list, 'append') : writeFile(e, list, e.pos);
      if (!(e.fdflags & FDFLAGS.APPEND)) e.pos += n;
      mem.u32(out, n);
    },

    fd_prestat_get: (fd: number, out: number) => {
      const e = fds.get(fd);
      if (e.kind !== 'dir' || e.preopenPath === undefined) fail(ERRNO.BADF);
      mem.u32(out, PREOPENTYPE_DIR);
      mem.u32(out + 4, utf8(e.preopenPath).length);
    },

    fd_prestat_dir_name: (fd: number, buf: number, len: number) => {
      const e = fds.get(fd);
      if (e.kind !== 'dir' || e.preopenPath === undefined) fail(ERRNO.BADF);
      const name = utf8(e.preopenPath);
      if (len < name.length) fail(ERRNO.NAMETOOLONG);
      mem.slice(buf, name.length).set(name);
    },

    fd_readdir: (fd: number, buf: number, len: number, cookie: bigint, out: number) => {
      const e = fds.dir(fd, RIGHTS.FD_READDIR);
      const listing = readdirListing(e, cookie === 0n);
      const dst = mem.slice(buf, len);
      const view = mem.view;
      let used = 0;
      for (let i = Number(cookie); i < listing.length && used < len; i++) {
        const entry = listing[i]!;
        const name = entry.utf8 ??= utf8(entry.name);
        if (len - used >= DIRENT_SIZE + name.length) {
          // The whole entry fits (the common case): written in place, nothing allocated.
          const at = buf + used;
          view.setBigUint64(at, BigInt(i + 1), true);
          view.setBigUint64(at + 8, BigInt(entry.ino), true);
          view.setUint32(at + 16, name.length, true);
          view.setUint32(at + 20, entry.type, true);
          dst.set(name, used + DIRENT_SIZE);
          used += DIRENT_SIZE + name.length;
          continue;
        }
        // The last entry, cut at the end of the buffer: that tells the guest to grow it.
        const header = new Uint8Array(DIRENT_SIZE);
        const hv = new DataView(header.buffer);
        hv.setBigUint64(0, BigInt(i + 1), true);
        hv.setBigUint64(8, BigInt(entry.ino), true);
        hv.setUint32(16, name.length, true);
        hv.setUint8(20, entry.type);
        const h = Math.min(DIRENT_SIZE, len - used);
        dst.set(header.subarray(0, h), used);
        used += h;
        const n = Math.min(name.length, len - used);
        dst.set(name.subarray(0, n), used);
        used += n;
      }
      mem.u32(out, used);
    },

    fd_renumber: (from: number, to: number) => {
      fds.renumber(from, to);
    },

    fd_seek: (fd: number, offset: bigint, whence: number, out: number) => {
      const e = fds.get(fd, RIGHTS.FD_SEEK);
      if (e.kind === 'stdio') fail(ERRNO.SPIPE);
      if (e.kind === 'dir') fail(ERRNO.BADF);
      const delta = BigInt.asIntN(64, offset);
      let base: bigint;
      switch (whence) {
        case WHENCE.SET: base = 0n; break;
        case WHENCE.CUR: base = BigInt(e.pos); break;
        case WHENCE.END: base = BigInt(e.handle.stat().size); break;
        default: return fail(ERRNO.INVAL);
      }
      const next = base + delta;
      if (next < 0n) fail(ERRNO.INVAL);
      e.pos = toNumber(next, ERRNO.INVAL);
      mem.u64(out, next);
    },

    fd_tell: (fd: number, out: number) => {
      const e = fds.get(fd, RIGHTS.FD_TELL);
      if (e.kind === 'stdio') fail(ERRNO.SPIPE);
      if (e.kind === 'dir') fail(ERRNO.BADF);
      mem.u64(out, e.pos);
    },
  };
}

/**
 * The directory's listing with `.` and `..` first (as wasmtime lists them), taken when a
 * read starts at cookie 0 and kept for the cookies that follow.
 */
function readdirListing(e: DirFdEntry, fresh: boolean): ListedEntry[] {
  if (fresh || !e.listing) {
    const self = e.fs.stat(e.node).ino;
    const out: ListedEntry[] = [
      { name: '.', ino: self, type: FILETYPE.DIRECTORY as number },
      { name: '..', ino: self, type: FILETYPE.DIRECTORY as number },
    ];
    for (const d of e.fs.readdir(e.node)) out.push({ name: d.name, ino: d.ino, type: filetypeOf(d.type) });
    e.listing = out;
  }
  return e.listing;
}
