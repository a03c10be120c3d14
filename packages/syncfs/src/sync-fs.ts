import type { DirEntry, FileType, NodeId, OpenMode, RenameFlags, SetAttr, Stat } from './types.js';

/**
 * SyncFs is the synchronous file-system core that the WASI layer calls. It is inode-based,
 * like FUSE's low-level API: every operation names a directory node and a single path
 * component. Path resolution (`.`, `..`, symlinks, trailing slashes, confinement to a
 * preopen) is the caller's job, so that it is written once, in the WASI layer, in the style
 * of cap-std, and cannot be bypassed by a backend.
 *
 * Implementations: OverlayFs (packages/overlay: lowers + a copy-on-write upper), and the Node
 * host-directory bind mount (packages/wasi/src/node).
 *
 * Lifecycle:
 *
 * ```ts
 * const fs: SyncFs = new OverlayFs({ lowers, content });
 * let dir = fs.root;
 * for (const name of ['etc', 'motd']) dir = fs.lookup(dir, name);   // ENOENT, ENOTDIR
 * const h = fs.open(dir, { read: true, write: true });               // EISDIR for dirs
 * h.write(new TextEncoder().encode('hi'), 0);                        // copy-up happens here
 * h.close();
 * ```
 *
 * Rules every implementation keeps:
 * - Names are single components: never empty, never `.` or `..`, never containing `/` or NUL
 *   (EINVAL otherwise); longer than 255 UTF-8 bytes is ENAMETOOLONG.
 * - Errors are thrown as `FsError` with a POSIX code; nothing else is thrown for an fs-level
 *   failure.
 * - A NodeId stays valid while its node is reachable or held open through a FileHandle; an
 *   unlinked file that is still open keeps its data until the handle is closed.
 * - Inode numbers are unique within the instance and stable across copy-up and rename.
 */
export interface SyncFs {
  /** The root directory node. */
  readonly root: NodeId;
  /** True when every mutating call fails with EROFS. */
  readonly readOnly: boolean;

  /** Find `name` in directory `dir`. ENOENT if missing, ENOTDIR if `dir` is not a directory. */
  lookup(dir: NodeId, name: string): NodeId;
  /**
   * `lookup` that answers a missing name with undefined instead of ENOENT (other errors still
   * throw). Optional: path resolution misses often (every create), and an exception per miss
   * is the most expensive part of it.
   */
  tryLookup?(dir: NodeId, name: string): NodeId | undefined;
  stat(node: NodeId): Stat;
  /**
   * A node's type alone. Optional: path resolution needs only the type of every component,
   * and a full stat can cost more (a directory's link count counts its subdirectories).
   */
  typeOf?(node: NodeId): FileType;
  /** Target of a symlink node. EINVAL if not a symlink. */
  readlink(node: NodeId): string;
  /**
   * The entries of a directory, without `.` and `..`, as a snapshot in a stable order: the
   * same directory, unchanged, lists in the same order every time, so that an index into the
   * list can serve as a readdir cookie.
   */
  readdir(dir: NodeId): DirEntry[];

  mkdirAt(dir: NodeId, name: string, mode: number): NodeId;
  /** Create a regular file. EEXIST if the name exists (whatever it is). */
  createAt(dir: NodeId, name: string, mode: number): NodeId;
  /** Create a fifo, device or socket node (inert: it can be stat'ed, not opened for I/O). */
  mknodAt(dir: NodeId, name: string, type: FileType, mode: number, rdev?: number): NodeId;
  symlinkAt(dir: NodeId, name: string, target: string): NodeId;
  /** Make `dir/name` another name of `node` (not a directory: EPERM). */
  linkAt(node: NodeId, dir: NodeId, name: string): void;
  /** Remove a non-directory name. EISDIR if it names a directory. */
  unlinkAt(dir: NodeId, name: string): void;
  /** Remove an empty directory. ENOTDIR if not a directory, ENOTEMPTY if not empty. */
  rmdirAt(dir: NodeId, name: string): void;
  /** rename(2) semantics, including replacing an empty directory with a directory. */
  renameAt(srcDir: NodeId, srcName: string, dstDir: NodeId, dstName: string, flags?: RenameFlags): void;
  setAttr(node: NodeId, attrs: SetAttr): void;

  /** Open a node for I/O. EISDIR when opening a directory for writing. */
  open(node: NodeId, mode: OpenMode): FileHandle;

  getXattr(node: NodeId, name: string): Uint8Array;
  setXattr(node: NodeId, name: string, value: Uint8Array): void;
  listXattr(node: NodeId): string[];
  removeXattr(node: NodeId, name: string): void;

  /** Flush everything to the backing store (no-op for memory-backed parts). */
  sync(): void;
}

/**
 * An open file. Positions are explicit (pread/pwrite): the WASI layer keeps the file offset.
 * A handle stays usable after its node is unlinked or renamed, and sees writes made through
 * other handles to the same node (including after copy-up).
 */
export interface FileHandle {
  readonly node: NodeId;
  /** Read up to `buf.length` bytes at `position`; returns the count (0 at end of file). */
  read(buf: Uint8Array, position: number): number;
  /** Write all of `buf` at `position`, extending the file with zeros if needed. */
  write(buf: Uint8Array, position: number): number;
  /** Write all of `buf` at the current end of file; returns the new size. */
  append(buf: Uint8Array): number;
  stat(): Stat;
  setAttr(attrs: SetAttr): void;
  sync(): void;
  close(): void;
}

/** A node's type: `typeOf` where the fs has it, else from a whole stat. */
export function nodeType(fs: SyncFs, node: NodeId): FileType {
  return fs.typeOf ? fs.typeOf(node) : fs.stat(node).type;
}
