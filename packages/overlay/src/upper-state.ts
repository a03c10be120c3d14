import { base64, unbase64 } from '@strata/store';
import { FsError } from '@strata/syncfs';
import { ChunkedFile, CHUNK_SIZE } from './chunked-file.js';
import { Inode, WHITEOUT } from './inode.js';
import { lowerByIno } from './merged-lower.js';
import type { OverlayFs } from './overlay-fs.js';

/**
 * The persisted form of an upper: what a container changed, so that it survives the process
 * (`strata start` of a stopped container, a page reload in the browser).
 *
 * Layout: `STRATAUP` magic, u32 format version, u32 length of a JSON header, the header, then
 * the owned chunks back to back. The header lists every upper node (attributes, the lower
 * inode it was copied up from, directory entries with whiteouts as 0, and for files the
 * chunks it owns with their lengths); the chunk bytes follow in header order.
 * Lower data is never copied: a restored file reads its lower blob again. Nodes that were
 * unlinked but still open are not saved (the kernel's work dir drops them the same way).
 */
const MAGIC = 'STRATAUP';
const VERSION = 2;

interface SavedNode {
  ino: number;
  type: Inode['type'];
  mode: number;
  uid: number;
  gid: number;
  times: [string, string, string];
  nlink: number;
  origin?: number;
  opaque?: boolean;
  target?: string;
  rdev?: number;
  xattrs?: [string, string][];
  entries?: [string, number][];
  size?: number;
  baseLimit?: number;
  /** Owned chunks: [chunk index, byte length], their bytes in this order after the header. */
  chunks?: [number, number][];
}

interface Header {
  root: number;
  /** The lowers' diffIDs, bottom first: the inode numbers in `nodes` are theirs. */
  lowers?: string[];
  nextIno: number;
  nodes: SavedNode[];
}

export function saveUpper(fs: OverlayFs): Uint8Array {
  const nodes: SavedNode[] = [];
  const chunks: Uint8Array[] = [];
  const seen = new Set<number>();
  const visit = (n: Inode): void => {
    if (seen.has(n.ino)) return;
    seen.add(n.ino);
    const s: SavedNode = {
      ino: n.ino, type: n.type, mode: n.mode, uid: n.uid, gid: n.gid,
      times: [n.atimeNs.toString(), n.mtimeNs.toString(), n.ctimeNs.toString()], nlink: n.nlink,
    };
    if (n.origin) s.origin = n.origin.ino;
    if (n.opaque) s.opaque = true;
    if (n.target !== undefined) s.target = n.target;
    if (n.rdev !== undefined) s.rdev = n.rdev;
    if (n.xattrs?.size) s.xattrs = [...n.xattrs].map(([k, v]) => [k, base64(v)]);
    if (n.type === 'file') {
      const data = fs.dataOf(n);
      s.size = data.size;
      s.baseLimit = data.visibleBase;
      s.chunks = [];
      for (const [i, c] of data.ownedChunks()) {
        s.chunks.push([i, c.length]);
        chunks.push(c);
      }
    }
    nodes.push(s);
    if (n.entries) {
      s.entries = [];
      for (const [name, e] of n.entries) {
        if (e === WHITEOUT) s.entries.push([name, 0]);
        else {
          s.entries.push([name, e.ino]);
          visit(e);
        }
      }
    }
  };
  visit(fs.rootNode);
  const header: Header = { root: fs.rootNode.ino, lowers: fs.lowers.map((l) => l.diffId), nextIno: fs.inodeCounter, nodes };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(16 + json.length + chunks.reduce((n, c) => n + c.length, 0));
  out.set(new TextEncoder().encode(MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, VERSION, true);
  view.setUint32(12, json.length, true);
  out.set(json, 16);
  let pos = 16 + json.length;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

/** Load a saved upper into a fresh OverlayFs over the same lowers. EINVAL if it does not fit. */
export function restoreUpper(fs: OverlayFs, bytes: Uint8Array): void {
  const bad = (why: string): FsError => new FsError('EINVAL', `restore upper: ${why}`);
  if (bytes.length < 16 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) throw bad('not a saved upper');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(8, true) !== VERSION) throw bad(`format version ${view.getUint32(8, true)}`);
  const jsonLength = view.getUint32(12, true);
  if (16 + jsonLength > bytes.length) throw bad('truncated header');
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + jsonLength))) as Header;
  // Uppers saved before the header named their lowers go by the root's inode alone.
  const lowerIds = fs.lowers.map((l) => l.diffId);
  if (header.root !== fs.rootNode.ino || (header.lowers && header.lowers.join() !== lowerIds.join())) throw bad('saved over different lowers');
  const lowers = lowerByIno(fs.lower);
  let pos = 16 + jsonLength;
  const made = new Map<number, Inode>();
  for (const s of header.nodes) {
    let n: Inode;
    if (s.ino === fs.rootNode.ino) n = fs.rootNode;
    else {
      const origin = s.origin !== undefined ? lowers.get(s.origin)?.node : undefined;
      if (s.origin !== undefined && !origin) throw bad(`lower inode ${s.origin} is not in these lowers`);
      n = origin ? fs.fromLower(origin) : new Inode(s.ino, s.type);
      if (n.ino !== s.ino) throw bad(`inode ${s.ino} does not match its lower`);
      fs.adopt(n);
    }
    n.upper = true;
    n.mode = s.mode;
    n.uid = s.uid;
    n.gid = s.gid;
    n.atimeNs = BigInt(s.times[0]);
    n.mtimeNs = BigInt(s.times[1]);
    n.ctimeNs = BigInt(s.times[2]);
    n.nlink = s.nlink;
    n.opaque = s.opaque ?? false;
    if (s.target !== undefined) n.target = s.target;
    if (s.rdev !== undefined) n.rdev = s.rdev;
    n.xattrs = s.xattrs ? new Map(s.xattrs.map(([k, v]) => [k, unbase64(v)])) : undefined;
    if (s.type === 'file') {
      const data = new ChunkedFile(n.origin ? fs.readerFor(n.origin) : undefined, s.size ?? 0);
      data.setBaseLimit(s.baseLimit ?? 0);
      for (const [i, len] of s.chunks ?? []) {
        if (len > CHUNK_SIZE || pos + len > bytes.length) throw bad('truncated chunk data');
        data.setChunk(i, bytes.subarray(pos, pos + len));
        pos += len;
      }
      n.data = data;
    }
    made.set(s.ino, n);
  }
  for (const s of header.nodes) {
    if (!s.entries) continue;
    const dir = made.get(s.ino)!;
    dir.entries = new Map();
    for (const [name, ino] of s.entries) {
      if (ino === 0) {
        dir.entries.set(name, WHITEOUT);
        continue;
      }
      const child = made.get(ino);
      if (!child) throw bad(`entry ${name} names unknown inode ${ino}`);
      dir.entries.set(name, child);
      child.parent = dir;
      child.name = name;
    }
  }
  fs.inodeCounter = header.nextIno;
}
