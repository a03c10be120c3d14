import type { FileType } from '@strata/syncfs';
import type { ChunkedFile } from './chunked-file.js';
import type { LowerNode } from './merged-lower.js';

/** A name in an upper directory that hides the lower name (a `.wh.` entry in a layer). */
export const WHITEOUT = Symbol('whiteout');
export type UpperEntry = Inode | typeof WHITEOUT;

/**
 * One node of the merged view, identified by its inode number (the SyncFs NodeId).
 *
 * Lifecycle: a node seen only in the lowers is created lazily on lookup from its LowerNode
 * (`origin`) and reads through to it. Its first change copies it up: `upper` becomes true,
 * the parent chain is copied up too (directories only, never their contents), and the node is
 * linked into its parent's upper directory. The inode number never changes, so copy-up and
 * rename are invisible to a program holding the number (overlayfs with xino=on). A node
 * leaves the inode table when its last name is removed and no handle holds it.
 */
export class Inode {
  type: FileType;
  mode: number;
  uid: number;
  gid: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  nlink: number;
  rdev?: number;
  /** Symlink target. */
  target?: string;
  xattrs?: Map<string, Uint8Array>;

  /** True once the node lives in the upper (created there or copied up). */
  upper = false;
  /** Files in the upper: their contents. */
  data?: ChunkedFile;
  /** Directories in the upper: their own names (nodes and whiteouts). */
  entries?: Map<string, UpperEntry>;
  /**
   * Directories: the lower directory merged under this one. Kept by the node itself rather
   * than found by path, so a renamed directory keeps its lower contents (redirect_dir=on);
   * undefined for new and opaque directories.
   */
  lowerDir?: LowerNode;
  /** Directories: created in the upper (opaque: nothing below shows through). */
  opaque = false;

  /** The parent directory and the name this node was last reached by. */
  parent?: Inode;
  name = '';
  /** Open FileHandles. */
  openCount = 0;

  constructor(
    readonly ino: number,
    type: FileType,
    /** The lower node this one came from, if any: its data until copy-up, its identity after. */
    readonly origin?: LowerNode,
  ) {
    this.type = type;
    this.mode = origin?.mode ?? 0;
    this.uid = origin?.uid ?? 0;
    this.gid = origin?.gid ?? 0;
    const t = origin?.mtimeNs ?? 0n;
    this.atimeNs = t;
    this.mtimeNs = t;
    this.ctimeNs = t;
    this.nlink = origin?.nlink ?? 1;
    if (origin?.rdev !== undefined) this.rdev = origin.rdev;
    if (origin?.target !== undefined) this.target = origin.target;
    if (origin?.xattrs) this.xattrs = new Map(Object.entries(origin.xattrs));
    if (origin?.type === 'dir') this.lowerDir = origin;
  }

  get isDir(): boolean {
    return this.type === 'dir';
  }
}

/** Map a layer entry type to a SyncFs file type (whiteouts never reach the merged view). */
export function fileTypeOf(t: LowerNode['type']): FileType {
  return t === 'whiteout' ? 'unknown' : t;
}
