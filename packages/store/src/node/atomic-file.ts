import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { StorageFullError } from '../errors.js';
import { dirname } from 'node:path';

/**
 * Write a file so that a crash leaves the old contents or the new, never a mix. `durable`
 * (the default) also syncs the file and its directory, so the new contents survive a power
 * cut; without it the rename is still atomic for a crashing process.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string, options: { durable?: boolean } = {}): void {
  const durable = options.durable ?? true;
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    const fd = openSync(tmp, 'w', 0o644);
    try {
      const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    // Nothing half-written stays behind; a full disk says so as such.
    rmSync(tmp, { force: true });
    if ((e as NodeJS.ErrnoException).code === 'ENOSPC') throw new StorageFullError(`no space left to write ${path}`, { cause: e });
    throw e;
  }
  if (durable) syncDir(dirname(path));
}

/** Make a directory's entries durable (a rename into it, a file created in it). */
export function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
