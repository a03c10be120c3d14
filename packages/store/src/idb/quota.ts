import { StorageFullError } from '../errors.js';

/**
 * Run an IndexedDB write; a quota error surfaces as StorageFullError (ENOSPC to programs),
 * never as a hang or an unexplained DOMException.
 */
export async function guardQuota<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if ((e as { name?: string }).name === 'QuotaExceededError') throw new StorageFullError('IndexedDB quota exceeded', { cause: e });
    throw e;
  }
}
