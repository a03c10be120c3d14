import { createHash } from 'node:crypto';
import type { BlobReader, ContentRef, ContentSource, Digest, LayerEntry, LayerIndex } from '@strata/store';

/** A scenario layer written as a directory tree (the way the oracle built kernel lowerdirs). */
export type DirLayerSpec = Record<string, string | EntrySpec>;
export interface EntrySpec {
  type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'whiteout' | 'opaque' | 'fifo' | 'chardev';
  content?: string;
  size?: number;
  fill?: string;
  mode?: string;
  uid?: number;
  gid?: number;
  mtime?: number;
  target?: string;
  xattrs?: Record<string, string>;
  major?: number;
  minor?: number;
}
/** A scenario layer given as OCI tar entries (whiteout and opaque markers spelled out). */
export interface OciLayerSpec {
  format: 'oci';
  entries: Record<string, string | EntrySpec>;
}
export type LayerSpec = DirLayerSpec | OciLayerSpec;

export const DEFAULT_MTIME = 1_700_000_000;

/** Blobs by digest, for tests: the overlay only needs `reader`. */
export class TestContent implements ContentSource {
  readonly blobs = new Map<string, Uint8Array>();
  /** Where blobs imported by the store live (OCI-format layers). */
  fallback?: ContentSource;

  add(bytes: Uint8Array): ContentRef {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;
    this.blobs.set(digest, bytes);
    return { digest, size: bytes.length };
  }

  reader(ref: ContentRef): BlobReader {
    const bytes = this.blobs.get(ref.digest);
    if (!bytes) {
      if (this.fallback) return this.fallback.reader(ref);
      throw new Error(`no blob ${ref.digest}`);
    }
    return {
      size: bytes.length,
      readAt(buf, offset) {
        const n = Math.max(0, Math.min(buf.length, bytes.length - offset));
        buf.set(bytes.subarray(offset, offset + n));
        return n;
      },
    };
  }
}

export function fileBytes(spec: string | EntrySpec): Uint8Array {
  if (typeof spec === 'string') return new TextEncoder().encode(spec);
  if (spec.size !== undefined) {
    const fill = new TextEncoder().encode(spec.fill ?? '\0');
    const out = new Uint8Array(spec.size);
    for (let i = 0; i < out.length; i += fill.length) out.set(fill.subarray(0, Math.min(fill.length, out.length - i)), i);
    return out;
  }
  return new TextEncoder().encode(spec.content ?? '');
}

let groups = 0;

/** A directory-format layer as a LayerIndex: entries map 1:1, parents are implicit dirs. */
export function dirLayer(spec: DirLayerSpec, content: TestContent, id: number): LayerIndex {
  const entries = new Map<string, LayerEntry>();
  entries.set('', { type: 'dir', mode: 0o755, uid: 0, gid: 0, mtimeNs: BigInt(DEFAULT_MTIME) * 1_000_000_000n, size: 0, implicit: true });
  const linkGroups = new Map<string, number>();
  for (const [rawPath, raw] of Object.entries(spec)) {
    const path = rawPath.replace(/^\/+/, '').replace(/\/+$/, '');
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (!entries.has(parent)) {
        entries.set(parent, { type: 'dir', mode: 0o755, uid: 0, gid: 0, mtimeNs: BigInt(DEFAULT_MTIME) * 1_000_000_000n, size: 0, implicit: true });
      }
    }
    const e: EntrySpec = typeof raw === 'string' ? { type: 'file', content: raw } : raw;
    const type = e.type ?? 'file';
    const base = {
      mode: e.mode !== undefined ? parseInt(e.mode, 8) : type === 'dir' || type === 'opaque' ? 0o755 : type === 'symlink' ? 0o777 : 0o644,
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtimeNs: BigInt(e.mtime ?? DEFAULT_MTIME) * 1_000_000_000n,
    };
    const xattrs = e.xattrs ? Object.fromEntries(Object.entries(e.xattrs).map(([k, v]) => [k, new TextEncoder().encode(v)])) : undefined;
    let entry: LayerEntry;
    switch (type) {
      case 'dir':
        entry = { type: 'dir', ...base, size: 0 };
        break;
      case 'opaque':
        entry = { type: 'dir', ...base, size: 0, opaque: true };
        break;
      case 'whiteout':
        entry = { type: 'whiteout', ...base, mode: 0, size: 0 };
        break;
      case 'symlink':
        entry = { type: 'symlink', ...base, size: new TextEncoder().encode(e.target ?? '').length, target: e.target ?? '' };
        break;
      case 'fifo':
        entry = { type: 'fifo', ...base, size: 0 };
        break;
      case 'chardev':
        entry = { type: 'chardev', ...base, size: 0, rdev: ((e.major ?? 0) << 8) | (e.minor ?? 0) };
        break;
      case 'hardlink': {
        const target = (e.target ?? '').replace(/^\/+/, '');
        const t = entries.get(target);
        if (!t) throw new Error(`hardlink ${path} to missing ${target}`);
        let g = linkGroups.get(target);
        if (g === undefined) {
          g = ++groups;
          linkGroups.set(target, g);
          t.linkGroup = g;
        }
        entry = { ...t, linkGroup: g };
        break;
      }
      default: {
        const bytes = fileBytes(raw);
        entry = { type: 'file', ...base, size: bytes.length };
        if (bytes.length > 0) entry.content = content.add(bytes);
      }
    }
    if (xattrs) entry.xattrs = xattrs;
    entries.set(path, entry);
  }
  return { diffId: `sha256:${id.toString(16).padStart(64, '0')}`, entries };
}
