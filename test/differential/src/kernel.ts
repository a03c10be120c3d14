import { execFileSync } from 'node:child_process';
import {
  appendFileSync, chmodSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync,
  renameSync, rmdirSync, rmSync, statSync, symlinkSync, truncateSync, unlinkSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { writeKernelLayer } from './layers.js';
import type { Op, Scenario } from './scenario.js';
import { groups, sha, type Node } from './tree.js';

/** The options Strata's semantics correspond to (see packages/overlay/README.md). */
export const MOUNT_OPTIONS = 'redirect_dir=on,index=on,xino=on';
const BASE = '/dev/shm';

export interface OpResult {
  errno?: string;
  value?: unknown;
}

export interface Outcome {
  ops: OpResult[];
  tree: Node[];
  links: string[][];
  /** The lowers alone (for the kernel-side diff). */
  lowerTree?: Node[];
}

/** Why the kernel oracle cannot run here, or undefined when it can. */
export function kernelUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  const d = mkdtempSync(join(BASE, 'strata-probe-'));
  try {
    for (const x of ['l', 'u', 'w', 'm']) mkdirSync(join(d, x));
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${d}/l,upperdir=${d}/u,workdir=${d}/w,${MOUNT_OPTIONS}`, `${d}/m`], { stdio: 'pipe' });
    execFileSync('umount', [`${d}/m`]);
    return undefined;
  } catch (e) {
    return `mount -t overlay failed: ${(e as Error).message.split('\n')[0]}`;
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

/** Apply a scenario to the real overlayfs on tmpfs; always unmounts and cleans up. */
export function runKernel(s: Scenario): Outcome {
  const d = mkdtempSync(join(BASE, 'strata-diff-'));
  const merged = join(d, 'merged');
  let mounted = false;
  try {
    const lowers = s.layers.map((items, i) => {
      const dir = join(d, `l${i}`);
      writeKernelLayer(dir, items);
      return dir;
    });
    for (const x of ['upper', 'work', 'merged']) mkdirSync(join(d, x));
    const lowerdir = [...lowers].reverse().join(':');
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lowerdir},upperdir=${d}/upper,workdir=${d}/work,${MOUNT_OPTIONS}`, merged], { stdio: 'pipe' });
    mounted = true;
    const lowerTree = walk(merged).tree;
    const ops = s.ops.map((op) => apply(merged, op));
    const { tree, links } = walk(merged);
    return { ops, tree, links, lowerTree };
  } finally {
    if (mounted) execFileSync('umount', [merged]);
    rmSync(d, { recursive: true, force: true });
  }
}

function apply(root: string, op: Op): OpResult {
  const p = (x: string) => join(root, x);
  try {
    switch (op.op) {
      case 'write': writeFileSync(p(op.path), op.data); return {};
      case 'append': appendFileSync(p(op.path), op.data); return {};
      case 'truncate': truncateSync(p(op.path), op.size); return {};
      case 'mkdir': mkdirSync(p(op.path), 0o777); return {};
      case 'rmdir': rmdirSync(p(op.path)); return {};
      case 'unlink': unlinkSync(p(op.path)); return {};
      case 'rename': renameSync(p(op.src), p(op.dst)); return {};
      case 'link': linkSync(p(op.src), p(op.dst)); return {};
      case 'symlink': symlinkSync(op.target, p(op.path)); return {};
      case 'chmod': chmodSync(p(op.path), op.mode); return {};
      case 'stat': {
        const st = statSync(p(op.path));
        return { value: { type: st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other', size: st.isFile() ? st.size : undefined } };
      }
      case 'readdir': return { value: readdirSync(p(op.path)).sort() };
      case 'read': return { value: sha(readFileSync(p(op.path))) };
    }
  } catch (e) {
    return { errno: (e as NodeJS.ErrnoException).code ?? String(e) };
  }
}

function walk(root: string): { tree: Node[]; links: string[][] } {
  const tree: Node[] = [];
  const inodes = new Map<string, string>();
  const visit = (abs: string, rel: string): void => {
    const st = lstatSync(abs);
    const type = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'chardev' : 'other';
    const n: Node = { path: rel || '/', type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    if (type === 'file') {
      n.size = st.size;
      n.sha256 = sha(readFileSync(abs));
      n.nlink = st.nlink;
      inodes.set(rel, `${st.dev}:${st.ino}`);
    }
    if (type === 'symlink') n.target = readlinkSync(abs);
    tree.push(n);
    if (type === 'dir') for (const name of readdirSync(abs).sort()) visit(join(abs, name), `${rel}/${name}`);
  };
  visit(root, '');
  return { tree, links: groups(inodes) };
}
