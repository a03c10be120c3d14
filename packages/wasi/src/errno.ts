import { FsError, type FsErrorCode } from '@strata/syncfs';
import { ERRNO, type Errno } from './defs.js';

/**
 * The one place where file-system errors become WASI errnos. SyncFs implementations throw
 * FsError with a POSIX code; the names match WASI's errno names one to one, except ENODATA,
 * which WASI lacks (xattrs are not part of preview1; it never reaches a guest).
 */
const FROM_FS: Record<FsErrorCode, Errno> = {
  EACCES: ERRNO.ACCES, EBADF: ERRNO.BADF, EBUSY: ERRNO.BUSY, EEXIST: ERRNO.EXIST, EFBIG: ERRNO.FBIG,
  EINVAL: ERRNO.INVAL, EIO: ERRNO.IO, EISDIR: ERRNO.ISDIR, ELOOP: ERRNO.LOOP, EMFILE: ERRNO.MFILE,
  EMLINK: ERRNO.MLINK, ENAMETOOLONG: ERRNO.NAMETOOLONG, ENOENT: ERRNO.NOENT, ENOSPC: ERRNO.NOSPC,
  ENOSYS: ERRNO.NOSYS, ENOTDIR: ERRNO.NOTDIR, ENOTEMPTY: ERRNO.NOTEMPTY, ENOTSUP: ERRNO.NOTSUP,
  EOVERFLOW: ERRNO.OVERFLOW, EPERM: ERRNO.PERM, EROFS: ERRNO.ROFS, ESPIPE: ERRNO.SPIPE, EXDEV: ERRNO.XDEV,
  ENODATA: ERRNO.INVAL, ERANGE: ERRNO.RANGE, ETXTBSY: ERRNO.TXTBSY,
};

/** An errno raised inside a syscall (the dispatcher returns it to the guest). */
export class WasiError extends Error {
  override readonly name = 'WasiError';
  constructor(readonly errno: Errno, message?: string) {
    super(message ?? `errno ${errno}`);
  }
}

/** The errno for an error thrown by a syscall, or undefined when it is not ours to map. */
export function errnoOf(e: unknown): Errno | undefined {
  if (e instanceof WasiError) return e.errno;
  if (e instanceof FsError) return FROM_FS[e.code];
  return undefined;
}

export function fail(errno: Errno, message?: string): never {
  throw new WasiError(errno, message);
}
