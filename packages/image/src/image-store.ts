import {
  collectGarbage, importLayer, NotFoundError, type ContentStore, type Digest, type HasherFactory, type ImportOptions, type LayerStore,
} from '@strata/store';
import { INDEX_TYPES, isWasmPlatform, LAYER_TYPES, MANIFEST_TYPES, WASM_LAYER_TYPES, type ImageConfig, type Index, type Manifest } from './media-types.js';
import { familiarName, normalizeReference, parseReference } from './reference.js';
import { LocalGuard, type StoreGuard } from './store-guard.js';

/** One image: a manifest, its config and its layers (all in the content store). */
export interface ImageRecord {
  /** The manifest digest: the image id. */
  id: Digest;
  configDigest: Digest;
  /** Layer blobs as the manifest lists them (compressed). */
  layers: { digest: Digest; size: number; mediaType: string }[];
  /** Uncompressed layer digests, bottom first: what the layer store keys layers by. */
  diffIds: Digest[];
  config: ImageConfig;
  /** For wasm artifacts (no rootfs): the module blob, run with an empty root. */
  wasmModule?: Digest;
  loaded: string;
}

export interface ImageState {
  images: Record<string, ImageRecord>;
  /** Full reference name → image id. */
  tags: Record<string, Digest>;
}

/** Where the image list lives (a JSON file on disk, memory in tests and the browser). */
export interface ImageMetaStore {
  load(): Promise<ImageState>;
  /** Replace the state atomically. */
  save(state: ImageState): Promise<void>;
  /** What keeps concurrent users of the store apart (see StoreGuard). */
  readonly guard: StoreGuard;
}

export class MemoryImageMeta implements ImageMetaStore {
  readonly guard: StoreGuard = new LocalGuard();
  private state: ImageState = { images: {}, tags: {} };
  async load(): Promise<ImageState> {
    return structuredClone(this.state);
  }
  async save(state: ImageState): Promise<void> {
    this.state = structuredClone(state);
  }
}

export class ImageError extends Error {
  override readonly name = 'ImageError';
}

export type ImportPlatform = Pick<ImportOptions, 'hasher' | 'fileHasher' | 'gunzip' | 'offload'>;

/** Caps on what is read into memory whole. */
export const MAX_MANIFEST_BYTES = 4 * 2 ** 20;

/**
 * Images over the content and layer stores: records by manifest digest, tags by full name,
 * layers imported once (by diffID) and shared, `remove` untags and garbage-collects what no
 * image uses any more. Browser-safe; the disk metadata store lives in `@strata/image/node`.
 */
export class ImageStore {
  constructor(
    readonly content: ContentStore,
    readonly layers: LayerStore,
    private readonly meta: ImageMetaStore,
    /**
     * What the platform gives layer imports: in Node `nodeSha256`, `nodeFileHasher`,
     * `nodeGunzip` and `nodeHashOffload()` (see ImportOptions); the portable ones otherwise.
     */
    private readonly platform: ImportPlatform = {},
  ) {}

  /**
   * Run work that stores content before an image record names it (pull, load, commit) under
   * a lease: no garbage collection takes its blobs and layers meanwhile (see StoreGuard).
   */
  async withLease<T>(fn: () => Promise<T>): Promise<T> {
    const lease = await this.meta.guard.lease();
    try {
      return await fn();
    } finally {
      lease.release();
    }
  }

  /** Pulls, loads and commits in progress on this store, in any process that shares it (`info`). */
  leases(): Promise<number> {
    return this.meta.guard.leases();
  }

  /** Read, change and replace the image list, with no other change in between. */
  private update<T>(change: (s: ImageState) => T): Promise<T> {
    return this.meta.guard.exclusive(async () => {
      const s = await this.meta.load();
      const result = change(s);
      await this.meta.save(s);
      return result;
    });
  }

  /** The platform's import options, with `hasher` instead of its own when given. */
  importOptions(hasher?: HasherFactory): ImportPlatform {
    return { ...this.platform, ...(hasher ? { hasher } : {}) };
  }

  async list(): Promise<{ record: ImageRecord; names: string[] }[]> {
    const s = await this.meta.load();
    return Object.values(s.images).map((record) => ({
      record, names: Object.entries(s.tags).filter(([, id]) => id === record.id).map(([n]) => n).sort(),
    }));
  }

  /** Find by name (any docker form), by id, or by a unique id prefix. */
  async resolve(ref: string): Promise<ImageRecord> {
    const s = await this.meta.load();
    const byId = s.images[ref] ?? s.images[`sha256:${ref}`];
    if (byId) return byId;
    if (/^(sha256:)?[0-9a-f]{6,64}$/.test(ref)) {
      const hex = ref.replace(/^sha256:/, '');
      const hits = Object.keys(s.images).filter((id) => id.slice(7).startsWith(hex));
      if (hits.length === 1) return s.images[hits[0]!]!;
    }
    let name: string;
    try {
      name = normalizeReference(ref);
    } catch {
      throw new ImageError(`no such image: ${ref}`);
    }
    const parsed = parseReference(ref);
    if (parsed.digest) {
      const img = s.images[parsed.digest];
      if (img) return img;
    }
    const id = s.tags[name];
    if (!id || !s.images[id]) throw new ImageError(`no such image: ${ref}`);
    return s.images[id]!;
  }

  async names(id: Digest): Promise<string[]> {
    const s = await this.meta.load();
    return Object.entries(s.tags).filter(([, v]) => v === id).map(([n]) => familiarName(parseReference(n)));
  }

  /**
   * Make an image from a manifest already in the content store (with its config and layer
   * blobs): layers are imported into the layer store unless present, every digest verified.
   * An index is resolved to its wasip1/wasm entry. Tags `names` on success.
   */
  async addFromManifest(digest: Digest, names: string[] = []): Promise<ImageRecord> {
    const manifestBytes = await this.blobJson<Manifest & Index>(digest, 'manifest');
    if (manifestBytes.manifests && (INDEX_TYPES.includes(manifestBytes.mediaType ?? '') || !manifestBytes.config)) {
      const pick = manifestBytes.manifests.find((m) => isWasmPlatform(m.platform)) ??
        (manifestBytes.manifests.length === 1 && !manifestBytes.manifests[0]!.platform ? manifestBytes.manifests[0] : undefined);
      if (!pick) throw new ImageError('the image index has no wasip1/wasm (or wasi/wasm) platform');
      return this.addFromManifest(pick.digest as Digest, names);
    }
    const m = manifestBytes as Manifest;
    if (m.mediaType && !MANIFEST_TYPES.includes(m.mediaType)) throw new ImageError(`unsupported manifest media type ${m.mediaType}`);
    if (!m.config?.digest || !Array.isArray(m.layers)) throw new ImageError('not an image manifest');
    const config = await this.blobJson<ImageConfig>(m.config.digest as Digest, 'config');
    const record: ImageRecord = {
      id: digest, configDigest: m.config.digest as Digest, layers: [], diffIds: [], config,
      loaded: new Date().toISOString(),
    };
    const wasmLayers = m.layers.filter((l) => WASM_LAYER_TYPES.includes(l.mediaType));
    if (wasmLayers.length > 0) {
      // A wasm artifact: one module, no root filesystem.
      if (m.layers.length !== 1) throw new ImageError('a wasm artifact must have exactly one module layer');
      const l = wasmLayers[0]!;
      if (!(await this.content.has(l.digest as Digest))) throw new ImageError(`missing blob ${l.digest}`);
      record.wasmModule = l.digest as Digest;
      record.layers.push({ digest: l.digest as Digest, size: l.size, mediaType: l.mediaType });
    } else {
      const diffIds = config.rootfs?.diff_ids ?? [];
      if (diffIds.length !== m.layers.length) throw new ImageError('the config lists a different number of layers than the manifest');
      for (const [i, l] of m.layers.entries()) {
        if (!LAYER_TYPES.includes(l.mediaType)) throw new ImageError(`unsupported layer media type ${l.mediaType}`);
        const diffId = diffIds[i] as Digest;
        // The blob too when its layer is stored already: save and push need it.
        if (!(await this.content.has(l.digest as Digest))) throw new ImageError(`missing layer blob ${l.digest}`);
        if (!(await this.layers.has(diffId))) {
          // The blob was verified against its digest when it was stored: the import need not
          // hash the compressed bytes again (the diffID is still checked).
          const layer = await importLayer(this.content, this.content.source?.(l.digest as Digest) ?? this.content.stream(l.digest as Digest), {
            expectedDiffId: diffId, verifiedDigest: l.digest as Digest, ...this.importOptions(),
          });
          await this.layers.put(layer);
        }
        record.layers.push({ digest: l.digest as Digest, size: l.size, mediaType: l.mediaType });
        record.diffIds.push(diffId);
      }
    }
    return this.update((s) => {
      s.images[digest] = s.images[digest] ?? record;
      for (const n of names) s.tags[normalizeReference(n)] = digest;
      return s.images[digest]!;
    });
  }

  async tag(source: string, target: string): Promise<void> {
    const img = await this.resolve(source);
    await this.update((s) => {
      s.tags[normalizeReference(target)] = img.id;
    });
  }

  /**
   * `rmi`: drop a tag (or, given an id, every tag of it); when no tag names the image any
   * more, drop the record and collect the layers and blobs nothing uses. `inUse` are image
   * ids that containers still run on (they are refused); `keepLayers` the layers containers
   * stand on, kept by the collection. `collectionDeferred`: a pull, load or commit in progress
   * held off the collection (see `gc`).
   */
  async remove(ref: string, inUse: Iterable<string> = [], keepLayers: Iterable<Digest> = []): Promise<{ untagged: string[]; deleted?: Digest; collectionDeferred?: true }> {
    const img = await this.resolve(ref);
    const used = [...inUse].includes(img.id);
    const { untagged, deleted } = await this.update((s) => {
      let untagged: string[] = [];
      let name: string | undefined;
      try {
        name = normalizeReference(ref);
      } catch {
        name = undefined;
      }
      if (name && s.tags[name] === img.id) {
        delete s.tags[name];
        untagged = [name];
      } else {
        for (const [n, id] of Object.entries(s.tags)) {
          if (id === img.id) {
            delete s.tags[n];
            untagged.push(n);
          }
        }
      }
      const stillTagged = Object.values(s.tags).includes(img.id);
      if (!stillTagged && used) throw new ImageError(`image ${ref} is used by a container`);
      if (stillTagged) return { untagged };
      delete s.images[img.id];
      return { untagged, deleted: img.id };
    });
    const collected = deleted ? await this.gc(keepLayers) : undefined;
    return {
      untagged: untagged.map((n) => familiarName(parseReference(n))),
      ...(deleted ? { deleted } : {}),
      ...(collected?.deferred ? { collectionDeferred: true as const } : {}),
    };
  }

  /**
   * Remove layers and blobs no image references (plus `extraLayers`, e.g. containers'
   * images). While a pull, load or commit holds a lease, nothing is removed (`deferred`):
   * the next collection takes what is garbage then.
   */
  async gc(extraLayers: Iterable<Digest> = []): Promise<{ layers: Digest[]; blobs: Digest[]; deferred?: true }> {
    return this.meta.guard.exclusive(async () => {
      if ((await this.meta.guard.leases()) > 0) return { layers: [], blobs: [], deferred: true as const };
      const s = await this.meta.load();
      const keepLayers = new Set<Digest>(extraLayers);
      const keepBlobs = new Set<Digest>();
      for (const img of Object.values(s.images)) {
        for (const d of img.diffIds) keepLayers.add(d);
        keepBlobs.add(img.id);
        keepBlobs.add(img.configDigest);
        for (const l of img.layers) keepBlobs.add(l.digest);
      }
      return collectGarbage(this.content, this.layers, keepLayers, keepBlobs);
    });
  }

  /** A blob parsed as JSON, refusing anything over MAX_MANIFEST_BYTES unread. */
  async blobJson<T>(digest: Digest, what: string): Promise<T> {
    let size: number;
    try {
      size = await this.content.size(digest);
    } catch (e) {
      if (e instanceof NotFoundError) throw new ImageError(`missing ${what} blob ${digest}`);
      throw e;
    }
    if (size > MAX_MANIFEST_BYTES) throw new ImageError(`the ${what} is ${size} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit`);
    try {
      return JSON.parse(new TextDecoder().decode(await this.content.get(digest))) as T;
    } catch (e) {
      throw new ImageError(`the ${what} ${digest} is not valid JSON`, { cause: e });
    }
  }
}
