/**
 * Store errors are classes, testable by kind (like containerd's errdefs): callers check
 * `instanceof`, never message text.
 */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

export class DigestMismatchError extends Error {
  override readonly name = 'DigestMismatchError';
  constructor(readonly expected: string, readonly actual: string, what = 'content') {
    super(`${what} digest mismatch: expected ${expected}, got ${actual}`);
  }
}

/** A layer tar that breaks the format or the OCI changeset rules; names the entry. */
export class LayerFormatError extends Error {
  override readonly name = 'LayerFormatError';
  constructor(message: string, readonly entry?: string, options?: { cause?: unknown }) {
    super(entry === undefined ? message : `${message}: ${JSON.stringify(entry)}`, options);
  }
}

/** The backing storage is full (IndexedDB quota, ENOSPC on disk). */
export class StorageFullError extends Error {
  override readonly name = 'StorageFullError';
}
