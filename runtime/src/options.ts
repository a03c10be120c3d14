import { resolve } from 'node:path';
import { RuntimeError } from './exit-codes.js';

/** A `-v HOST:GUEST[:ro]` bind mount. */
export interface BindMount {
  host: string;
  guest: string;
  readOnly: boolean;
}

export function parseMount(spec: string): BindMount {
  const parts = spec.split(':');
  let readOnly = false;
  if (parts.length === 3) {
    if (parts[2] !== 'ro' && parts[2] !== 'rw') throw new RuntimeError(`invalid mount mode "${parts[2]}" in ${spec}: use ro or rw`);
    readOnly = parts[2] === 'ro';
    parts.pop();
  }
  if (parts.length !== 2 || !parts[0] || !parts[1]) throw new RuntimeError(`invalid mount ${spec}: expected HOST:GUEST[:ro]`);
  if (!parts[1].startsWith('/')) throw new RuntimeError(`invalid mount ${spec}: the container path must be absolute`);
  // Kept absolute: a later `start` runs from another directory.
  return { host: resolve(parts[0]), guest: parts[1], readOnly };
}

/**
 * `-e K=V`, or `-e K`, which docker takes from the caller's environment — and where the
 * caller has no K, a bare `K`: the variable unset in the container (see mergeEnv).
 */
export function parseEnv(spec: string, from: NodeJS.ProcessEnv = process.env): string {
  if (spec.includes('=')) return spec;
  const v = from[spec];
  return v === undefined ? spec : `${spec}=${v}`;
}

/**
 * Env lists merged by name, later entries winning (image Env, then `-e`); a bare name (no
 * `=`) removes the variable, as moby's ReplaceOrAppendEnvValues does.
 */
export function mergeEnv(...lists: string[][]): string[] {
  const byName = new Map<string, string>();
  for (const list of lists) {
    for (const kv of list) {
      if (kv.includes('=')) byName.set(kv.split('=', 1)[0]!, kv);
      else byName.delete(kv);
    }
  }
  return [...byName.values()];
}

/** Docker's sizes: a number with an optional b, k, m or g suffix (binary units). */
export function parseSize(spec: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmg]?)i?b?$/i.exec(spec.trim());
  if (!m) throw new RuntimeError(`invalid size "${spec}": use e.g. 64m or 1g`);
  const unit = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 }[m[2]!.toLowerCase() as '' | 'b' | 'k' | 'm' | 'g'];
  return Math.floor(Number(m[1]) * unit);
}

/** Past this, a timer fires at once (setTimeout takes a 32-bit count of milliseconds). */
const MAX_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

export function parseSeconds(spec: string): number {
  const n = Number(spec);
  if (!Number.isFinite(n) || n <= 0) throw new RuntimeError(`invalid timeout "${spec}": a number of seconds`);
  if (n > MAX_TIMEOUT_SECONDS) throw new RuntimeError(`invalid timeout "${spec}": at most ${MAX_TIMEOUT_SECONDS} seconds`);
  return n;
}
