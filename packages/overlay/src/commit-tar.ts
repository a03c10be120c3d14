import { devMajor, devMinor, tarHeader, tarPadding, TAR_END, type TarWriteEntry } from '@strata/store';
import { changeset, type ChangesetEntry } from './changeset.js';
import type { OverlayFs } from './overlay-fs.js';

/**
 * Write the upper as an uncompressed OCI layer tar, streamed: file contents are read chunk by
 * chunk from the upper (or the lower blob they still share) while the consumer reads.
 *
 * Conventions, as containerd 2.x writes them: whiteouts and opaque markers are empty regular
 * files, mode 0, owned by 0:0, mtime 0; directories end in `/`; times are whole seconds in
 * the ustar header with the nanoseconds in a PAX `mtime` record; xattrs are PAX
 * `SCHILY.xattr.<name>` records with their values byte for byte (`security.capability` is
 * binary).
 *
 * The diffID is the sha256 of exactly these bytes; importing them (the store's importLayer)
 * computes and returns it, which is how `commit` gets it.
 */
export async function* commitTar(fs: OverlayFs): AsyncGenerator<Uint8Array> {
  for (const e of changeset(fs)) {
    const entry = entryOf(fs, e);
    if (!entry) continue;
    yield tarHeader(entry);
    if (entry.type !== 'file' || e.kind !== 'node') continue;
    let written = 0;
    for (const chunk of fs.dataOf(e.node).extents()) {
      written += chunk.length;
      yield chunk;
    }
    // The header promised entry.size bytes: anything else would corrupt every entry after.
    if (written !== entry.size) throw new Error(`commit: ${e.path} gave ${written} bytes, not ${entry.size}`);
    yield tarPadding(written);
  }
  yield TAR_END;
}

function entryOf(fs: OverlayFs, e: ChangesetEntry): TarWriteEntry | undefined {
  if (e.kind === 'whiteout' || e.kind === 'opaque') {
    const slash = e.path.lastIndexOf('/');
    const dir = slash < 0 ? '' : e.path.slice(0, slash + 1);
    const name = e.kind === 'opaque' ? '.wh..wh..opq' : `.wh.${e.path.slice(slash + 1)}`;
    return { name: dir + name, type: 'file', mode: 0, uid: 0, gid: 0, mtimeNs: 0n, size: 0 };
  }
  const n = e.node;
  const base = { mode: n.mode, uid: n.uid, gid: n.gid, mtimeNs: n.mtimeNs, xattrs: n.xattrs ?? [] };
  if (e.kind === 'hardlink') return { ...base, name: e.path, type: 'link', linkname: e.target };
  switch (e.type) {
    case 'dir':
      return { ...base, name: `${e.path}/`, type: 'dir' };
    case 'symlink':
      return { ...base, name: e.path, type: 'symlink', linkname: n.target ?? '' };
    case 'fifo':
      return { ...base, name: e.path, type: 'fifo' };
    case 'chardev':
    case 'blockdev':
      return { ...base, name: e.path, type: e.type, devmajor: devMajor(n.rdev ?? 0), devminor: devMinor(n.rdev ?? 0) };
    case 'file':
      return { ...base, name: e.path, type: 'file', size: fs.dataOf(n).size };
    default:
      // Sockets and unknown nodes have no tar form; they are left out of the layer.
      return undefined;
  }
}
