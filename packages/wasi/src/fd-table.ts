import type { FileHandle, NodeId, SyncFs } from '@strata/syncfs';
import { ERRNO, RIGHTS } from './defs.js';
import { fail } from './errno.js';

/** Where a descriptor's bytes go or come from when it is not a file. */
export interface StdioEntry {
  kind: 'stdio';
  stream: 0 | 1 | 2;
  rightsBase: number;
  rightsInheriting: number;
  fdflags: number;
}

export interface FileEntry {
  kind: 'file';
  fs: SyncFs;
  node: NodeId;
  handle: FileHandle;
  /** The file offset (the SyncFs handle is positionless). */
  pos: number;
  rightsBase: number;
  rightsInheriting: number;
  fdflags: number;
}

export interface DirFdEntry {
  kind: 'dir';
  fs: SyncFs;
  node: NodeId;
  /** The root of the preopen this descriptor came from (for absolute symlinks). */
  preopenRoot: NodeId;
  /** Guest path of the preopen, set on preopened descriptors only. */
  preopenPath?: string;
  /** True when this descriptor's preopen is the container root `/`. */
  inContainerRoot: boolean;
  rightsBase: number;
  rightsInheriting: number;
  fdflags: number;
  /**
   * The listing fd_readdir serves cookies from: taken when a read starts at cookie 0 and
   * kept until the next one, so entries removed or added meanwhile do not shift the cookies
   * of the others (a program deleting entries while it iterates sees each exactly once).
   */
  listing?: ListedEntry[];
}

export type FdEntry = StdioEntry | FileEntry | DirFdEntry;

/** One entry of a directory listing as fd_readdir hands it out. */
export interface ListedEntry {
  name: string;
  ino: number;
  /** A WASI filetype. */
  type: number;
  /** The name as UTF-8, encoded when first handed out (a listing is read in several calls). */
  utf8?: Uint8Array;
}

/**
 * The descriptor table: slot → entry, lowest free slot first (as POSIX open does), a limit
 * on open descriptors (EMFILE), and the one place rights are checked (ENOTCAPABLE).
 */
export class FdTable {
  private readonly slots: (FdEntry | undefined)[] = [];
  private open = 0;

  constructor(readonly limit: number) {}

  add(entry: FdEntry): number {
    if (this.open >= this.limit) fail(ERRNO.MFILE);
    let fd = this.slots.indexOf(undefined);
    if (fd < 0) fd = this.slots.length;
    this.slots[fd] = entry;
    this.open++;
    return fd;
  }

  get(fd: number, rights = 0): FdEntry {
    const e = this.slots[fd];
    if (!e) fail(ERRNO.BADF);
    if ((e.rightsBase & rights) !== rights) fail(ERRNO.NOTCAPABLE);
    return e;
  }

  /** A regular-file descriptor with `rights`; EBADF for others (EISDIR for directories). */
  file(fd: number, rights = 0): FileEntry {
    const e = this.get(fd);
    if (e.kind === 'dir') fail(ERRNO.ISDIR);
    if (e.kind !== 'file') fail(ERRNO.BADF);
    if ((e.rightsBase & rights) !== rights) fail(ERRNO.NOTCAPABLE);
    return e;
  }

  /** A directory descriptor with `rights`; ENOTDIR for others. */
  dir(fd: number, rights = 0): DirFdEntry {
    const e = this.get(fd);
    if (e.kind !== 'dir') fail(ERRNO.NOTDIR);
    if ((e.rightsBase & rights) !== rights) fail(ERRNO.NOTCAPABLE);
    return e;
  }

  close(fd: number): FdEntry {
    const e = this.get(fd);
    this.slots[fd] = undefined;
    this.open--;
    if (e.kind === 'file') e.handle.close();
    return e;
  }

  /** Move `from` onto `to` (closing what `to` held). Both must be open. */
  renumber(from: number, to: number): void {
    const e = this.get(from);
    this.get(to);
    if (from === to) return;
    this.close(to);
    this.slots[to] = e;
    this.slots[from] = undefined;
  }

  /** Every open descriptor (for closing on exit). */
  entries(): [number, FdEntry][] {
    const out: [number, FdEntry][] = [];
    this.slots.forEach((e, fd) => e && out.push([fd, e]));
    return out;
  }
}

export { RIGHTS };
