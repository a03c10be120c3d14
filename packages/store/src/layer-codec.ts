import { LayerFormatError } from './errors.js';
import { isDigest } from './hash.js';
import type { Digest, LayerEntry, LayerIndex } from './types.js';

/**
 * A LayerIndex as JSON text: one array per entry, bigint times as decimal strings, xattr
 * values as base64. Compact enough that loading 500 layers is fast, stable enough to hash.
 */
type Row = [
  path: string, type: LayerEntry['type'], mode: number, uid: number, gid: number, mtime: string, size: number,
  extra?: {
    c?: [Digest, number]; t?: string; g?: number; r?: number; x?: Record<string, string>; o?: 1; i?: 1;
  },
];

interface Encoded {
  v: 1;
  diffId: Digest;
  entries: Row[];
}

export function encodeLayer(layer: LayerIndex): string {
  const entries: Row[] = [];
  for (const [path, e] of layer.entries) {
    const extra: NonNullable<Row[7]> = {};
    if (e.content) extra.c = [e.content.digest, e.content.size];
    if (e.target !== undefined) extra.t = e.target;
    if (e.linkGroup !== undefined) extra.g = e.linkGroup;
    if (e.rdev !== undefined) extra.r = e.rdev;
    if (e.xattrs) extra.x = Object.fromEntries(Object.entries(e.xattrs).map(([k, v]) => [k, base64(v)]));
    if (e.opaque) extra.o = 1;
    if (e.implicit) extra.i = 1;
    const row: Row = [path, e.type, e.mode, e.uid, e.gid, e.mtimeNs.toString(), e.size];
    if (Object.keys(extra).length) row.push(extra);
    entries.push(row);
  }
  return JSON.stringify({ v: 1, diffId: layer.diffId, entries } satisfies Encoded);
}

/**
 * A stored LayerIndex back, checked as it is read: a stored index is trusted by everything
 * above it (the overlay builds its tree from the paths), so one altered on disk or in
 * IndexedDB — paths climbing out with `..`, types or numbers the overlay does not know, the
 * index of another layer under this one's name — is refused as corrupt. `diffId`: the layer
 * the caller asked for.
 */
export function decodeLayer(text: string, diffId?: Digest): LayerIndex {
  const bad = (why: string, entry?: string): LayerFormatError =>
    new LayerFormatError(`the stored index of layer ${diffId ?? '(unnamed)'} is corrupt: ${why}`, entry);
  let enc: Encoded;
  try {
    enc = JSON.parse(text) as Encoded;
  } catch (e) {
    throw new LayerFormatError(`the stored index of layer ${diffId ?? '(unnamed)'} is not JSON`, undefined, { cause: e });
  }
  if (enc?.v !== 1) throw new Error(`layer index format ${String(enc?.v)} is not supported`);
  if (typeof enc.diffId !== 'string' || !isDigest(enc.diffId) || (diffId !== undefined && enc.diffId !== diffId)) throw bad(`it is the index of ${String(enc.diffId)}`);
  if (!Array.isArray(enc.entries)) throw bad('no entries');
  const entries = new Map<string, LayerEntry>();
  for (const row of enc.entries) {
    if (!Array.isArray(row)) throw bad('an entry is not a row');
    const [path, type, mode, uid, gid, mtime, size, x] = row;
    if (typeof path !== 'string' || !layerPath(path)) throw bad('a path outside the layer', String(path));
    if (!ENTRY_TYPES.has(type)) throw bad(`type ${JSON.stringify(type)}`, path);
    if (!count(mode) || !count(uid) || !count(gid) || !count(size) || typeof mtime !== 'string' || !/^-?\d+$/.test(mtime)) throw bad('attributes', path);
    const e: LayerEntry = { type, mode, uid, gid, mtimeNs: BigInt(mtime), size };
    if (x?.c) {
      if (!Array.isArray(x.c) || typeof x.c[0] !== 'string' || !isDigest(x.c[0]) || !count(x.c[1])) throw bad('content', path);
      e.content = { digest: x.c[0], size: x.c[1] };
    }
    if (x?.t !== undefined) {
      if (typeof x.t !== 'string') throw bad('link target', path);
      e.target = x.t;
    }
    if (x?.g !== undefined) {
      if (!count(x.g)) throw bad('link group', path);
      e.linkGroup = x.g;
    }
    if (x?.r !== undefined) {
      if (!count(x.r)) throw bad('device number', path);
      e.rdev = x.r;
    }
    if (x?.x) e.xattrs = Object.fromEntries(Object.entries(x.x).map(([k, v]) => [k, unbase64(v)]));
    if (x?.o) e.opaque = true;
    if (x?.i) e.implicit = true;
    entries.set(path, e);
  }
  return { diffId: enc.diffId, entries };
}

const ENTRY_TYPES = new Set<unknown>(['file', 'dir', 'symlink', 'chardev', 'blockdev', 'fifo', 'whiteout'] satisfies LayerEntry['type'][]);

/** A whole number the index may hold (a mode, an id, a size). */
function count(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/** A path as the changeset rules write them: '' (the root) or components with no '', '.', '..' or NUL. */
function layerPath(path: string): boolean {
  if (path === '') return true;
  for (const part of path.split('/')) if (part === '' || part === '.' || part === '..' || part.includes('\0')) return false;
  return true;
}

/** Bytes as base64 text (for JSON records); browser-safe. */
export function base64(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

export function unbase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
