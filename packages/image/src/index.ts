export * from './reference.js';
export * from './media-types.js';
export { ImageStore, ImageError, MemoryImageMeta, MAX_MANIFEST_BYTES, type ImageRecord, type ImageState, type ImageMetaStore, type ImportPlatform } from './image-store.js';
export { LocalGuard, type Lease, type StoreGuard } from './store-guard.js';
export { RegistryClient, RegistryError, type RegistryOptions } from './registry/client.js';
export { pull, type PullEvent } from './registry/pull.js';
export { credentialsFromDockerConfig, parseChallenge, type Credentials, type CredentialLookup } from './registry/auth.js';
export { push, type PushEvent, CHUNK_UPLOAD } from './registry/push.js';
export { loadArchiveStream, type Loaded } from './archive-load.js';
