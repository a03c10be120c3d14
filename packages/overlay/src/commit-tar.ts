import * as tar from 'tar-stream';
import { changeset, type ChangesetEntry } from './changeset.js';
import type { OverlayFs } from './overlay-fs.js';

/**
 * Write the upper as an uncompressed OCI layer tar, streamed: file contents are read chunk by
 * chunk from the upper (or the lower blob they still share) while the consumer reads.
 *
 * Conventions, as containerd 2.x writes them: whiteouts and opaque markers are empty regular
 * files, mode 0, owned by 0:0, mtime 0; directories end in `/`; times are whole seconds in
 * the ustar header with the nanoseconds in a PAX `mtime` record; xattrs are PAX
 * `SCHILY.xattr.<name>` records (tar-stream writes PAX values as UTF-8 text, so a binary
 * xattr value that is not valid UTF-8 does not survive: a documented limitation).
 *
 * The diffID is the sha256 of exactly these bytes; importing them (the store's importLayer)
 * computes and returns it, which is how `commit` gets it.
 */
export async function* commitTar(fs: OverlayFs): AsyncGenerator<Uint8Array> {
  const pack = tar.pack();
  const entries = changeset(fs);
  void (async () => {
    try {
      for (const e of entries) await writeEntry(fs, pack, e);
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
    }
  })();
  yield* pack as unknown as AsyncIterable<Uint8Array>;
}

const EPOCH = new Date(0);

async function writeEntry(fs: OverlayFs, pack: tar.Pack, e: ChangesetEntry): Promise<void> {
  if (e.kind === 'whiteout' || e.kind === 'opaque') {
    const slash = e.path.lastIndexOf('/');
    const dir = slash < 0 ? '' : e.path.slice(0, slash + 1);
    const name = e.kind === 'opaque' ? '.wh..wh..opq' : `.wh.${e.path.slice(slash + 1)}`;
    return add(pack, { name: dir + name, type: 'file', mode: 0, uid: 0, gid: 0, mtime: EPOCH, size: 0 });
  }
  const n = e.node;
  const pax: Record<string, string> = {};
  if (n.mtimeNs % 1_000_000_000n !== 0n) pax.mtime = formatNs(n.mtimeNs);
  for (const [k, v] of n.xattrs ?? []) pax[`SCHILY.xattr.${k}`] = new TextDecoder().decode(v);
  const base: Omit<Partial<tar.Header>, 'name'> = {
    mode: n.mode, uid: n.uid, gid: n.gid, mtime: new Date(Number(n.mtimeNs / 1_000_000n)),
  };
  if (Object.keys(pax).length > 0) base.pax = pax;
  if (e.kind === 'hardlink') return add(pack, { ...base, name: e.path, type: 'link', linkname: e.target, size: 0 });
  switch (e.type) {
    case 'dir':
      return add(pack, { ...base, name: `${e.path}/`, type: 'directory', size: 0 });
    case 'symlink':
      return add(pack, { ...base, name: e.path, type: 'symlink', linkname: n.target ?? '', size: 0 });
    case 'fifo':
      return add(pack, { ...base, name: e.path, type: 'fifo', size: 0 });
    case 'chardev':
    case 'blockdev':
      return add(pack, {
        ...base, name: e.path, type: e.type === 'chardev' ? 'character-device' : 'block-device', size: 0,
        devmajor: (n.rdev ?? 0) >> 8, devminor: (n.rdev ?? 0) & 0xff,
      });
    case 'file': {
      const data = fs.dataOf(n);
      const size = data.size;
      await new Promise<void>((resolve, reject) => {
        const w = pack.entry({ ...base, name: e.path, type: 'file', size }, (err) => (err ? reject(err) : resolve()));
        void (async () => {
          for (const chunk of data.extents()) {
            if (!w.write(chunk)) await new Promise<void>((r) => w.once('drain', () => r()));
          }
          // streamx's typings want an argument; an empty chunk adds nothing.
          w.end(new Uint8Array(0));
        })().catch(reject);
      });
      return;
    }
    default:
      // Sockets and unknown nodes have no tar form; they are left out of the layer.
      return;
  }
}

function add(pack: tar.Pack, header: Partial<tar.Header> & { name: string }): Promise<void> {
  // An empty buffer: without one, tar-stream waits for a body even for a 0-byte file.
  return new Promise((resolve, reject) => pack.entry(header, new Uint8Array(0), (err) => (err ? reject(err) : resolve())));
}

function formatNs(ns: bigint): string {
  const neg = ns < 0n;
  const abs = neg ? -ns : ns;
  const s = abs / 1_000_000_000n;
  const frac = (abs % 1_000_000_000n).toString().padStart(9, '0');
  return `${neg ? '-' : ''}${s}.${frac}`;
}
