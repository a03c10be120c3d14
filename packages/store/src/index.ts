export * from './types.js';
export type { ContentStore, ContentWriter } from './content-store.js';
export { DigestMismatchError, LayerFormatError, NotFoundError, StorageFullError } from './errors.js';
export { isDigest, toHex, webSha256, type Hasher, type HasherFactory } from './hash.js';
export { MemoryContentStore } from './memory-content-store.js';
export { importLayer, type ImportedLayer, type ImportOptions } from './import/import-layer.js';
export { ChangesetBuilder } from './import/changeset-rules.js';
export { readTar, type TarEntry, type TarHeader } from './import/tar-reader.js';
export { detectCompression, type Compression } from './import/decompress.js';
