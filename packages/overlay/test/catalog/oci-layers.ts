import * as tar from 'tar-stream';
import { concatBytes, type ContentSource, type LayerIndex } from '@strata/store';
import { fileBytes, type EntrySpec, type OciLayerSpec, type TestContent } from './layers.js';
import { DEFAULT_MTIME } from './layers.js';

/** What the store's importer looks like to these tests (it lands with the store package). */
interface StoreApi {
  MemoryContentStore: new () => ContentSource;
  importLayer: (content: ContentSource, body: AsyncIterable<Uint8Array>) => Promise<LayerIndex>;
}

let store: { api: StoreApi; content: ContentSource } | undefined;

/** The store's memory content store, shared by the catalog run; readers also go there. */
async function storeApi(): Promise<{ api: StoreApi; content: ContentSource }> {
  if (!store) {
    const api = (await import('@strata/store')) as unknown as Partial<StoreApi>;
    if (!api.importLayer || !api.MemoryContentStore) throw new Error('@strata/store does not export importLayer and MemoryContentStore yet');
    store = { api: api as StoreApi, content: new api.MemoryContentStore() };
  }
  return store;
}

export type { TarOptions } from './tar-options.js';
import type { TarOptions } from './tar-options.js';

/** A scenario's OCI entries as real tar bytes (tar-stream), in the scenario's order. */
export async function ociTar(entries: Record<string, string | EntrySpec>, options: TarOptions = {}): Promise<Uint8Array> {
  const pack = tar.pack();
  const chunks: Uint8Array[] = [];
  const done = (async () => {
    for await (const c of pack as unknown as AsyncIterable<Uint8Array>) chunks.push(c);
  })();
  for (const [name, raw] of Object.entries(entries)) {
    const e: EntrySpec = typeof raw === 'string' ? { type: 'file', content: raw } : raw;
    const type = e.type ?? 'file';
    const header = {
      name,
      mode: e.mode !== undefined ? parseInt(e.mode, 8) : type === 'dir' ? 0o755 : type === 'symlink' ? 0o777 : 0o644,
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: new Date((e.mtime ?? DEFAULT_MTIME) * 1000),
      ...(e.xattrs ? { pax: Object.fromEntries(Object.entries(e.xattrs).map(([k, v]) => [`SCHILY.xattr.${k}`, v])) } : {}),
    };
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      switch (type) {
        case 'dir': pack.entry({ ...header, type: 'directory' }, cb); break;
        case 'symlink': pack.entry({ ...header, type: 'symlink', linkname: e.target ?? '' }, cb); break;
        case 'hardlink': pack.entry({ ...header, type: 'link', linkname: e.target ?? '' }, cb); break;
        case 'fifo': pack.entry({ ...header, type: 'fifo' }, cb); break;
        default: pack.entry({ ...header, type: 'file' }, fileBytes(raw), cb);
      }
    });
  }
  pack.finalize();
  await done;
  let bytes = concatBytes(chunks);
  if (options.noEndMarker) bytes = bytes.subarray(0, bytes.length - 1024);
  if (options.unpaddedLastBlock) {
    const last = Object.values(entries).at(-1);
    const size = last === undefined ? 0 : fileBytes(last).length;
    bytes = bytes.subarray(0, bytes.length - ((512 - (size % 512)) % 512));
  }
  return bytes;
}

/** An OCI-format scenario layer, written as a real tar and imported by the store. */
export async function ociLayer(spec: OciLayerSpec, content: TestContent, options?: TarOptions): Promise<LayerIndex> {
  const { api, content: blobs } = await storeApi();
  const bytes = await ociTar(spec.entries, options ?? {});
  const index = await api.importLayer(blobs, (async function* () {
    yield bytes;
  })());
  content.fallback = blobs;
  return index;
}


