import * as tar from 'tar-stream';
import { concatBytes } from '../../src/bytes.js';

export interface TarItem {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'fifo' | 'character-device';
  data?: string | Uint8Array;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  pax?: Record<string, string>;
}

/** A tar written by tar-stream (a real producer, independent of Strata's reader). */
export async function makeTar(items: TarItem[]): Promise<Uint8Array> {
  const pack = tar.pack();
  const chunks: Uint8Array[] = [];
  const done = (async () => {
    for await (const c of pack as unknown as AsyncIterable<Uint8Array>) chunks.push(c);
  })();
  for (const it of items) {
    const data = typeof it.data === 'string' ? new TextEncoder().encode(it.data) : it.data;
    await new Promise<void>((res, rej) => {
      const header = {
        name: it.name, type: it.type ?? 'file', mode: it.mode ?? (it.type === 'directory' ? 0o755 : 0o644),
        uid: it.uid ?? 0, gid: it.gid ?? 0, mtime: it.mtime ?? new Date(1_700_000_000_000),
        ...(it.linkname !== undefined ? { linkname: it.linkname } : {}),
        ...(it.pax ? { pax: it.pax } : {}),
      };
      // A file entry without a buffer would wait for its body stream: give it an empty one.
      if (data || header.type === 'file') pack.entry(header, data ?? new Uint8Array(0), (e) => (e ? rej(e) : res()));
      else pack.entry(header, (e) => (e ? rej(e) : res()));
    });
  }
  pack.finalize();
  await done;
  return concatBytes(chunks);
}

export async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** Split into small chunks, so readers see headers straddling chunk boundaries. */
export async function* dribble(bytes: Uint8Array, size = 97): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}
