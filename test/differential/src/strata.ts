import { OverlayFs } from '@strata/overlay';
import { importLayer, MemoryContentStore } from '@strata/store';
import { nodeSha256 } from '@strata/store/node';
import { FsError, type NodeId, type SyncFs } from '@strata/syncfs';
import type { Outcome, OpResult } from './kernel.js';
import { ociLayerTar } from './layers.js';
import type { Op, Scenario } from './scenario.js';
import { groups, sha, type Node } from './tree.js';

const UMASK = 0o022;

/** The same scenario on OverlayFs: layers written as OCI tars and imported by the store. */
export async function runStrata(s: Scenario): Promise<Outcome & { fs: OverlayFs }> {
  const content = new MemoryContentStore(nodeSha256);
  const lowers = [];
  for (const items of s.layers) {
    const bytes = await ociLayerTar(items);
    lowers.push(await importLayer(content, (async function* () { yield bytes; })(), { hasher: nodeSha256 }));
  }
  const fs = new OverlayFs({ lowers, content });
  const lowerTree = walk(new OverlayFs({ lowers, content })).tree;
  const ops = s.ops.map((op) => apply(fs, op));
  const { tree, links } = walk(fs);
  return { ops, tree, links, lowerTree, fs };
}

interface At {
  dir: NodeId;
  name: string;
  node?: NodeId;
}

/** Path resolution as Linux does it inside the mount (targets here are sibling names). */
function at(fs: SyncFs, path: string, follow: boolean, depth = 0): At {
  if (depth > 40) throw new FsError('ELOOP', path);
  const parts = path.split('/').filter(Boolean);
  let dir = fs.root;
  for (let i = 0; i < parts.length; i++) {
    const name = parts[i]!;
    const last = i === parts.length - 1;
    let node: NodeId;
    try {
      node = fs.lookup(dir, name);
    } catch (e) {
      if (last && e instanceof FsError && e.code === 'ENOENT') return { dir, name };
      throw e;
    }
    const st = fs.stat(node);
    if (st.type === 'symlink' && (!last || follow)) {
      const prefix = parts.slice(0, i).join('/');
      const rest = parts.slice(i + 1).join('/');
      const target = fs.readlink(node);
      return at(fs, [prefix, target, rest].filter(Boolean).join('/'), follow, depth + 1);
    }
    if (last) return { dir, name, node };
    if (st.type !== 'dir') throw new FsError('ENOTDIR', path);
    dir = node;
  }
  return { dir: fs.root, name: '', node: fs.root };
}

function need(a: At): NodeId {
  if (a.node === undefined) throw new FsError('ENOENT', a.name);
  return a.node;
}

function openWrite(fs: SyncFs, path: string, truncate: boolean) {
  const a = at(fs, path, true);
  const node = a.node ?? fs.createAt(a.dir, a.name, 0o666 & ~UMASK);
  const h = fs.open(node, { read: false, write: true });
  if (truncate) h.setAttr({ size: 0 });
  return h;
}

function apply(fs: SyncFs, op: Op): OpResult {
  try {
    switch (op.op) {
      case 'write': {
        const h = openWrite(fs, op.path, true);
        h.write(new TextEncoder().encode(op.data), 0);
        h.close();
        return {};
      }
      case 'append': {
        const h = openWrite(fs, op.path, false);
        h.append(new TextEncoder().encode(op.data));
        h.close();
        return {};
      }
      case 'truncate': fs.setAttr(need(at(fs, op.path, true)), { size: op.size }); return {};
      case 'mkdir': {
        const a = at(fs, op.path, false);
        if (a.node !== undefined) throw new FsError('EEXIST', op.path);
        fs.mkdirAt(a.dir, a.name, 0o777 & ~UMASK);
        return {};
      }
      case 'rmdir': { const a = at(fs, op.path, false); need(a); fs.rmdirAt(a.dir, a.name); return {}; }
      case 'unlink': { const a = at(fs, op.path, false); need(a); fs.unlinkAt(a.dir, a.name); return {}; }
      case 'rename': {
        // Both paths are looked up before either is checked, as rename(2) does.
        const a = at(fs, op.src, false);
        const b = at(fs, op.dst, false);
        need(a);
        fs.renameAt(a.dir, a.name, b.dir, b.name);
        return {};
      }
      case 'link': {
        // linkat(2) looks the old path up (and fails on it) before the new one.
        const src = need(at(fs, op.src, false));
        const b = at(fs, op.dst, false);
        if (b.node !== undefined) throw new FsError('EEXIST', op.dst);
        fs.linkAt(src, b.dir, b.name);
        return {};
      }
      case 'symlink': {
        const a = at(fs, op.path, false);
        if (a.node !== undefined) throw new FsError('EEXIST', op.path);
        fs.symlinkAt(a.dir, a.name, op.target);
        return {};
      }
      case 'chmod': fs.setAttr(need(at(fs, op.path, true)), { mode: op.mode }); return {};
      case 'stat': {
        const st = fs.stat(need(at(fs, op.path, true)));
        return { value: { type: st.type === 'dir' ? 'dir' : st.type === 'file' ? 'file' : 'other', size: st.type === 'file' ? st.size : undefined } };
      }
      case 'readdir': return { value: fs.readdir(need(at(fs, op.path, true))).map((e) => e.name).sort() };
      case 'read': {
        const node = need(at(fs, op.path, true));
        if (fs.stat(node).type === 'dir') throw new FsError('EISDIR', op.path);
        const h = fs.open(node, { read: true, write: false });
        const size = h.stat().size;
        const buf = new Uint8Array(size);
        h.read(buf, 0);
        h.close();
        return { value: sha(buf) };
      }
    }
  } catch (e) {
    if (e instanceof FsError) return { errno: e.code };
    throw e;
  }
}

function walk(fs: SyncFs): { tree: Node[]; links: string[][] } {
  const tree: Node[] = [];
  const inodes = new Map<string, string>();
  const visit = (node: NodeId, rel: string): void => {
    const st = fs.stat(node);
    const n: Node = { path: rel || '/', type: st.type, mode: st.mode, uid: st.uid, gid: st.gid };
    if (st.type === 'file') {
      const h = fs.open(node, { read: true, write: false });
      const buf = new Uint8Array(st.size);
      h.read(buf, 0);
      h.close();
      n.size = st.size;
      n.sha256 = sha(buf);
      n.nlink = st.nlink;
      inodes.set(rel, String(st.ino));
    }
    if (st.type === 'symlink') n.target = fs.readlink(node);
    tree.push(n);
    if (st.type === 'dir') {
      for (const e of fs.readdir(node).sort((a, b) => (a.name < b.name ? -1 : 1))) visit(fs.lookup(node, e.name), `${rel}/${e.name}`);
    }
  };
  visit(fs.root, '');
  return { tree, links: groups(inodes) };
}
