/**
 * File-system errors are values with a POSIX-style code. Every SyncFs implementation throws
 * only `FsError`; the WASI layer maps `code` to a WASI errno in exactly one table
 * (packages/wasi/src/errno.ts). Anything else that escapes a SyncFs is a bug and traps.
 */
export type FsErrorCode =
  | 'EACCES' | 'EBADF' | 'EBUSY' | 'EEXIST' | 'EFBIG' | 'EINVAL' | 'EIO' | 'EISDIR' | 'ELOOP'
  | 'EMFILE' | 'EMLINK' | 'ENAMETOOLONG' | 'ENOENT' | 'ENOSPC' | 'ENOSYS' | 'ENOTDIR'
  | 'ENOTEMPTY' | 'ENOTSUP' | 'EOVERFLOW' | 'EPERM' | 'EROFS' | 'ESPIPE' | 'EXDEV' | 'ENODATA'
  | 'ERANGE' | 'ETXTBSY';

export class FsError extends Error {
  override readonly name = 'FsError';
  constructor(
    readonly code: FsErrorCode,
    /** What was being done, for humans: `"unlinkAt /etc/motd"`. */
    readonly op?: string,
    options?: { cause?: unknown },
  ) {
    super(op ? `${code}: ${op}` : code, options);
  }
}

export function isFsError(e: unknown, code?: FsErrorCode): e is FsError {
  return e instanceof FsError && (code === undefined || e.code === code);
}
