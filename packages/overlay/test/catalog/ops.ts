import { createHash } from 'node:crypto';
import { FsError, type FileHandle, type NodeId, type SyncFs } from '@strata/syncfs';
import { nodeAt, realpath, resolve } from './paths.js';

/** One catalog operation, as the scenario files spell it. */
export interface Op {
  op: string;
  path?: string;
  src?: string;
  dst?: string;
  data?: string;
  offset?: number;
  length?: number;
  size?: number;
  mode?: string;
  uid?: number;
  gid?: number;
  mtime?: number;
  nofollow?: boolean;
  flags?: string[];
  fd?: string;
  target?: string;
  name?: string;
  value?: string;
  major?: number;
  minor?: number;
  save_as?: string;
  same_as?: string;
}

export interface OpOutcome {
  ok: boolean;
  errno?: string;
  result?: Record<string, unknown>;
}

/** The oracle ran with umask 022. */
const UMASK = 0o022;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** State that lives across the ops of one scenario. */
export class OpRunner {
  private readonly fds = new Map<string, { h: FileHandle; pos: number; append: boolean }>();
  private readonly saved = new Map<string, number>();

  constructor(public fs: SyncFs) {}

  run(op: Op): OpOutcome {
    try {
      const result = this.exec(op);
      return result === undefined ? { ok: true } : { ok: true, result };
    } catch (e) {
      if (e instanceof FsError) return { ok: false, errno: e.code };
      throw e;
    }
  }

  /** Close every open handle (before a remount). */
  closeAll(): void {
    for (const f of this.fds.values()) f.h.close();
    this.fds.clear();
  }

  private exec(op: Op): Record<string, unknown> | undefined {
    const fs = this.fs;
    const path = op.path ?? '';
    switch (op.op) {
      case 'read': {
        const h = fs.open(nodeAt(fs, path), { read: true, write: false });
        try {
          return contentResult(readAll(h, op.offset ?? 0, op.length));
        } finally {
          h.close();
        }
      }
      case 'readdir': {
        const names = fs.readdir(nodeAt(fs, path)).map((e) => e.name).sort();
        return { count: names.length, names };
      }
      case 'stat':
      case 'lstat': {
        const node = nodeAt(fs, path, op.op === 'stat');
        const st = fs.stat(node);
        const out: Record<string, unknown> = {
          type: st.type, mode: st.mode.toString(8).padStart(4, '0'), nlink: st.nlink, uid: st.uid, gid: st.gid,
          st_dev_same_as_root: st.dev === fs.stat(fs.root).dev,
        };
        if (st.type !== 'dir') out.size = st.size;
        if (op.same_as) out[`same_inode_as_${op.same_as}`] = this.saved.get(op.same_as) === st.ino;
        if (op.save_as) this.saved.set(op.save_as, st.ino);
        return out;
      }
      case 'readlink':
        return { target: fs.readlink(nodeAt(fs, path, false)) };
      case 'realpath':
        return { resolved: realpath(fs, path) };
      case 'exists':
        return { exists: resolve(fs, path).node !== undefined };
      case 'write':
      case 'create':
      case 'append':
      case 'pwrite': {
        const h = this.openPath(path, {
          create: op.op !== 'pwrite', exclusive: op.op === 'create', truncate: op.op === 'write' || op.op === 'create',
        });
        try {
          const bytes = enc.encode(op.data ?? '');
          if (op.op === 'append') h.append(bytes);
          else h.write(bytes, op.op === 'pwrite' ? (op.offset ?? 0) : 0);
        } finally {
          h.close();
        }
        return undefined;
      }
      case 'truncate':
        fs.setAttr(nodeAt(fs, path), { size: op.size ?? 0 });
        return undefined;
      case 'mkdir': {
        const r = resolve(fs, path, false);
        if (r.node !== undefined) throw new FsError('EEXIST', path);
        fs.mkdirAt(r.dir, r.name, 0o755);
        return undefined;
      }
      case 'rmdir': {
        const r = resolve(fs, path, false);
        fs.rmdirAt(r.dir, r.name);
        return undefined;
      }
      case 'unlink': {
        const r = resolve(fs, path, false);
        fs.unlinkAt(r.dir, r.name);
        return undefined;
      }
      case 'rmtree': {
        const r = resolve(fs, path, false);
        if (r.node === undefined) throw new FsError('ENOENT', path);
        rmtree(fs, r.dir, r.name, r.node);
        return undefined;
      }
      case 'rename': {
        const s = resolve(fs, op.src ?? '', false);
        const d = resolve(fs, op.dst ?? '', false);
        const flags = op.flags ?? [];
        if (flags.includes('whiteout')) throw new FsError('EINVAL', 'RENAME_WHITEOUT');
        fs.renameAt(s.dir, s.name, d.dir, d.name, { noReplace: flags.includes('noreplace'), exchange: flags.includes('exchange') });
        return undefined;
      }
      case 'symlink': {
        const r = resolve(fs, path, false);
        if (r.node !== undefined) throw new FsError('EEXIST', path);
        fs.symlinkAt(r.dir, r.name, op.target ?? '');
        return undefined;
      }
      case 'link': {
        const src = nodeAt(fs, op.src ?? '', false);
        const d = resolve(fs, op.dst ?? '', false);
        if (d.node !== undefined) throw new FsError('EEXIST', op.dst);
        fs.linkAt(src, d.dir, d.name);
        return undefined;
      }
      case 'chmod':
        fs.setAttr(nodeAt(fs, path), { mode: parseInt(op.mode ?? '0', 8) });
        return undefined;
      case 'chown':
        fs.setAttr(nodeAt(fs, path, !op.nofollow), { uid: op.uid ?? 0, gid: op.gid ?? 0 });
        return undefined;
      case 'utimes': {
        const t = BigInt(op.mtime ?? 0) * 1_000_000_000n;
        fs.setAttr(nodeAt(fs, path, !op.nofollow), { atimeNs: t, mtimeNs: t });
        return undefined;
      }
      case 'mknod': {
        const r = resolve(fs, path, false);
        if (r.node !== undefined) throw new FsError('EEXIST', path);
        fs.mknodAt(r.dir, r.name, 'chardev', parseInt(op.mode ?? '0600', 8) & ~UMASK, ((op.major ?? 0) << 8) | (op.minor ?? 0));
        return undefined;
      }
      case 'mkfifo': {
        const r = resolve(fs, path, false);
        if (r.node !== undefined) throw new FsError('EEXIST', path);
        fs.mknodAt(r.dir, r.name, 'fifo', 0o666 & ~UMASK);
        return undefined;
      }
      case 'getxattr':
        return { value: dec.decode(fs.getXattr(nodeAt(fs, path), op.name ?? '')) };
      case 'setxattr':
        fs.setXattr(nodeAt(fs, path), op.name ?? '', enc.encode(op.value ?? ''));
        return undefined;
      case 'listxattr':
        return { names: fs.listXattr(nodeAt(fs, path)).sort() };
      case 'open': {
        const flags = op.flags ?? ['O_RDONLY'];
        const write = flags.includes('O_WRONLY') || flags.includes('O_RDWR');
        const h = this.openPath(path, { create: flags.includes('O_CREAT'), truncate: flags.includes('O_TRUNC'), read: !flags.includes('O_WRONLY'), write });
        if (op.fd) this.fds.set(op.fd, { h, pos: 0, append: flags.includes('O_APPEND') });
        else h.close();
        return undefined;
      }
      case 'fdwrite': {
        const f = this.fd(op.fd);
        const bytes = enc.encode(op.data ?? '');
        if (f.append) f.pos = f.h.append(bytes);
        else f.pos += f.h.write(bytes, f.pos);
        return undefined;
      }
      case 'fdread': {
        const f = this.fd(op.fd);
        const bytes = readAll(f.h, f.pos);
        f.pos += bytes.length;
        return contentResult(bytes);
      }
      case 'close':
        this.fd(op.fd).h.close();
        this.fds.delete(op.fd ?? '');
        return undefined;
      default:
        throw new Error(`unknown catalog op ${op.op}`);
    }
  }

  private fd(name: string | undefined): { h: FileHandle; pos: number; append: boolean } {
    const f = this.fds.get(name ?? '');
    if (!f) throw new Error(`no fd ${name}`);
    return f;
  }

  /** open(2) by path: O_CREAT (mode 0644 after umask 022), O_EXCL, O_TRUNC. */
  private openPath(path: string, o: { create?: boolean; exclusive?: boolean; truncate?: boolean; read?: boolean; write?: boolean }): FileHandle {
    const fs = this.fs;
    const r = resolve(fs, path, true);
    let node: NodeId;
    if (r.node === undefined) {
      if (!o.create) throw new FsError('ENOENT', path);
      node = fs.createAt(r.dir, r.name, 0o644);
    } else {
      if (o.exclusive) throw new FsError('EEXIST', path);
      node = r.node;
    }
    const h = fs.open(node, { read: o.read ?? false, write: o.write ?? true });
    if (o.truncate && fs.stat(node).size > 0) h.setAttr({ size: 0 });
    return h;
  }
}

function rmtree(fs: SyncFs, dir: NodeId, name: string, node: NodeId): void {
  if (fs.stat(node).type === 'dir') {
    for (const e of fs.readdir(node)) rmtree(fs, node, e.name, e.ino);
    fs.rmdirAt(dir, name);
  } else {
    fs.unlinkAt(dir, name);
  }
}

export function readAll(h: FileHandle, offset = 0, length?: number): Uint8Array {
  const size = h.stat().size;
  const n = Math.max(0, Math.min(length ?? size, size - offset));
  const buf = new Uint8Array(n);
  let done = 0;
  while (done < n) {
    const got = h.read(buf.subarray(done), offset + done);
    if (got === 0) break;
    done += got;
  }
  return buf.subarray(0, done);
}

export function contentResult(bytes: Uint8Array): Record<string, unknown> {
  return { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), text: dec.decode(bytes) };
}
