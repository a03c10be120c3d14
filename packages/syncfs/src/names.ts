import { FsError } from './errors.js';

/** Longest name component in bytes, as Linux's NAME_MAX. */
export const NAME_MAX = 255;

const encoder = new TextEncoder();

/** Check that `name` is one path component (see SyncFs rules); throws FsError otherwise. */
export function validateName(name: string, op: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new FsError('EINVAL', `${op} ${JSON.stringify(name)}`);
  }
  // Cheap check first: a string of n UTF-16 units is at most 3n UTF-8 bytes.
  if (name.length * 3 > NAME_MAX && encoder.encode(name).length > NAME_MAX) {
    throw new FsError('ENAMETOOLONG', op);
  }
}
