/** A node's identity inside one SyncFs instance: its inode number, stable while the fs lives. */
export type NodeId = number;

export type FileType =
  | 'file' | 'dir' | 'symlink' | 'fifo' | 'chardev' | 'blockdev' | 'socket' | 'unknown';

export interface Stat {
  /** Device id: the same for every node of one SyncFs (as overlayfs with xino=on). */
  dev: number;
  ino: NodeId;
  type: FileType;
  /** Permission bits only (0o7777), never the S_IFMT type bits. */
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  /** Device number for chardev/blockdev nodes. */
  rdev?: number;
}

export interface DirEntry {
  name: string;
  ino: NodeId;
  type: FileType;
}

/** A time to set: nanoseconds since the epoch, or `'now'` (the fs's clock). */
export type TimeSpec = bigint | 'now';

export interface SetAttr {
  mode?: number;
  uid?: number;
  gid?: number;
  /** Truncate or extend (with zeros) to this size. Files only. */
  size?: number;
  atimeNs?: TimeSpec;
  mtimeNs?: TimeSpec;
}

export interface RenameFlags {
  /** RENAME_NOREPLACE: fail with EEXIST if the destination exists. */
  noReplace?: boolean;
  /** RENAME_EXCHANGE: swap source and destination atomically. */
  exchange?: boolean;
}

export interface OpenMode {
  read: boolean;
  write: boolean;
}
