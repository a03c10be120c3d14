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
  return { host: parts[0], guest: parts[1], readOnly };
}

/** `-e K=V` (or `-e K`, which docker takes from the caller's environment). */
export function parseEnv(spec: string, from: NodeJS.ProcessEnv = process.env): string | undefined {
  if (spec.includes('=')) return spec;
  const v = from[spec];
  return v === undefined ? undefined : `${spec}=${v}`;
}

/** Env lists merged by name, later entries winning (image Env, then `-e`). */
export function mergeEnv(...lists: string[][]): string[] {
  const byName = new Map<string, string>();
  for (const list of lists) for (const kv of list) byName.set(kv.split('=', 1)[0]!, kv);
  return [...byName.values()];
}

/** Docker's sizes: a number with an optional b, k, m or g suffix (binary units). */
export function parseSize(spec: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmg]?)i?b?$/i.exec(spec.trim());
  if (!m) throw new RuntimeError(`invalid size "${spec}": use e.g. 64m or 1g`);
  const unit = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 }[m[2]!.toLowerCase() as '' | 'b' | 'k' | 'm' | 'g'];
  return Math.floor(Number(m[1]) * unit);
}

export function parseSeconds(spec: string): number {
  const n = Number(spec);
  if (!Number.isFinite(n) || n <= 0) throw new RuntimeError(`invalid timeout "${spec}": a number of seconds`);
  return n;
}
