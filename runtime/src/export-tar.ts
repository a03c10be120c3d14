import * as tar from 'tar-stream';
import type { NodeId, SyncFs } from '@strata/syncfs';

/**
 * `strata export`: the container's merged view as a tar (docker export), streamed file by
 * file while the consumer reads (a file in Node, a Blob download in a page). Hard links stay
 * hard links (same inode → a link entry to the first path). No Node imports (tar-stream runs
 * in browsers with the `events` package).
 */
export async function* exportTar(fs: SyncFs): AsyncGenerator<Uint8Array> {
  const pack = tar.pack();
  void writeTree(fs, pack);
  yield* pack as unknown as AsyncIterable<Uint8Array>;
}

async function writeTree(fs: SyncFs, pack: tar.Pack): Promise<void> {
  const seen = new Map<number, string>();
  const add = (header: Parameters<tar.Pack['entry']>[0], data?: Uint8Array) =>
    new Promise<void>((res, rej) => {
      const cb = (e?: Error | null) => (e ? rej(e) : res());
      if (data) pack.entry(header, data, cb);
      else pack.entry(header, cb);
    });
  const walk = async (dir: NodeId, prefix: string): Promise<void> => {
    for (const e of fs.readdir(dir)) {
      const node = fs.lookup(dir, e.name);
      const st = fs.stat(node);
      const name = `${prefix}${e.name}`;
      const base = { name, mode: st.mode, uid: st.uid, gid: st.gid, mtime: new Date(Number(st.mtimeNs / 1_000_000n)) };
      if (st.type === 'dir') {
        await add({ ...base, name: `${name}/`, type: 'directory' });
        await walk(node, `${name}/`);
      } else if (st.type === 'symlink') {
        await add({ ...base, type: 'symlink', linkname: fs.readlink(node) });
      } else if (st.type === 'file') {
        const first = st.nlink > 1 ? seen.get(st.ino) : undefined;
        if (first) {
          await add({ ...base, type: 'link', linkname: first });
          continue;
        }
        if (st.nlink > 1) seen.set(st.ino, name);
        const h = fs.open(node, { read: true, write: false });
        try {
          await new Promise<void>((res, rej) => {
            const w = pack.entry({ ...base, type: 'file', size: st.size }, (err) => (err ? rej(err) : res()));
            void (async () => {
              const buf = new Uint8Array(64 * 1024);
              for (let pos = 0; pos < st.size;) {
                const n = h.read(buf, pos);
                if (n === 0) break;
                if (!w.write(buf.slice(0, n))) await new Promise<void>((r) => w.once('drain', () => r()));
                pos += n;
              }
              w.end(new Uint8Array(0));
            })().catch(rej);
          });
        } finally {
          h.close();
        }
      } else if (st.type === 'fifo') {
        await add({ ...base, type: 'fifo' });
      } else if (st.type === 'chardev' || st.type === 'blockdev') {
        await add({ ...base, type: st.type === 'chardev' ? 'character-device' : 'block-device', devmajor: (st.rdev ?? 0) >> 8, devminor: (st.rdev ?? 0) & 0xff });
      }
    }
  };
  try {
    await walk(fs.root, '');
    pack.finalize();
  } catch (e) {
    pack.destroy(e as Error);
  }
}
