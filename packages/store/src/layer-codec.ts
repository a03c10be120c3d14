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

export function decodeLayer(text: string): LayerIndex {
  const enc = JSON.parse(text) as Encoded;
  if (enc.v !== 1) throw new Error(`layer index format ${String(enc.v)} is not supported`);
  const entries = new Map<string, LayerEntry>();
  for (const [path, type, mode, uid, gid, mtime, size, x] of enc.entries) {
    const e: LayerEntry = { type, mode, uid, gid, mtimeNs: BigInt(mtime), size };
    if (x?.c) e.content = { digest: x.c[0], size: x.c[1] };
    if (x?.t !== undefined) e.target = x.t;
    if (x?.g !== undefined) e.linkGroup = x.g;
    if (x?.r !== undefined) e.rdev = x.r;
    if (x?.x) e.xattrs = Object.fromEntries(Object.entries(x.x).map(([k, v]) => [k, unbase64(v)]));
    if (x?.o) e.opaque = true;
    if (x?.i) e.implicit = true;
    entries.set(path, e);
  }
  return { diffId: enc.diffId, entries };
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
